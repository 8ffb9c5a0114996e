"""Session fixtures shared by tests/ and blender_tests/: real trained assets, built once and cached.

Each fixture caches under $LAVIMO_CACHE keyed by a hash of the code it depends on, so a second
`make test` (and the Blender 4.5 run after the 5.0 run) reuses them instead of retraining.
"""
