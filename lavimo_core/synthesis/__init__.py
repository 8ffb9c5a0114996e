"""Training videos made from motions: bodies, cameras, a ray tracer, and landmarks projected with measured noise.

The query path (decode -> pose -> features) is lavimo_core/video; this package only produces the same
features from mocap for training and evaluation.
"""
