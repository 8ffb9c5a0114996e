"""Video modality: decode clips, estimate poses, render motions, and turn both into encoder features.

Nothing here is imported by `lavimo_core` itself; PyAV, OpenCV and MediaPipe load inside the modules
that need them, so `import lavimo_core.video.features` stays cheap until a video is processed.
"""
