"""The store and the engine load without torch, transformers, av or mediapipe (the add-on imports them early)."""

import subprocess
import sys


def test_store_and_engine_import_no_heavy_packages():
    code = ("import sys, lavimo_core.store, lavimo_core.engine, lavimo_core.store.build, lavimo_core.cli.search, "
            "lavimo_core.cli.index, lavimo_core.cli.info\n"
            "heavy = [m for m in ('torch', 'transformers', 'av', 'mediapipe', 'bpy') if m in sys.modules]\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
