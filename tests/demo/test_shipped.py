"""The demo takes the shipped default model when its files are intact, and never a changed one."""

import hashlib
import shutil

from lavimo_core.demo import shipped, steps


def _ship(src, folder):
    folder.mkdir()
    for name in ("model.safetensors", "config.json", "checkpoint.json"):
        shutil.copyfile(src / name, folder / name)
    (folder / "metrics.json").write_text("{}\n")
    (folder / "DATA_LICENSE.md").write_text("CC BY-NC 4.0\n")
    (folder / "SHA256SUMS").write_text("".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n"
                                               for n in shipped.SHIPPED_FILES))


def test_demo_uses_an_intact_shipped_model_and_refuses_a_changed_one(trained_model, tmp_path, monkeypatch):
    folder = tmp_path / "default"
    _ship(trained_model, folder)
    monkeypatch.setattr(shipped, "SHIPPED_DIR", folder)
    assert shipped.problems() == [] and shipped.shipped_model() == folder
    assert steps.ensure_model("default") == (folder, True)
    (folder / "metrics.json").write_text('{"tuned": true}\n')
    assert shipped.shipped_model() is None
    assert "sha256 differs" in shipped.problems()[0]
