"""LAVIMO engine: tri-modal (text, video, motion) motion retrieval and retargeting, without Blender.

Importing this package is cheap: heavy dependencies (torch, transformers, av, mediapipe) are imported
only by the modules that need them, so the Blender add-on can load and explain itself without them.
"""

__version__ = "0.1.0"
