"""`lavimo demo` / `make demo`: dataset -> trained model -> store -> text and video queries -> a motion applied in Blender.

steps.py holds one function per step, run.py runs them in order with progress messages, pictures.py draws
the pose strips, results.py writes results.md/.json. Heavy libraries load inside the functions that need them.
"""
