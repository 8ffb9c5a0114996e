"""Resume after a real interruption ends bit-identical to a straight run; torchrun/DDP runs for real on CPU."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.numpy import load_file

SHORT = ["--preset", "tiny", "--set", "train.max_steps=16", "--set", "train.eval_every=4",
         "--set", "train.progress=false", "--set", "train.threads=1", "--set", "train.video_bank=1",
         "--set", "train.ema_decay=0.9"]   # the weight average must resume exactly too


def _lavimo(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from lavimo_core.cli import main; sys.exit(main())", *args]


def _env() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _weights(folder: Path) -> dict:
    return load_file(str(folder / "resume" / "model.safetensors"))


@pytest.mark.slow
def test_interrupted_then_resumed_equals_straight(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    subprocess.run(_lavimo("train", *SHORT, "--out", str(straight)), check=True, env=_env(), timeout=600)

    proc = subprocess.Popen(_lavimo("train", *SHORT, "--out", str(resumed)), env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state = resumed / "resume" / "state.json"
    deadline = time.time() + 600
    while not state.is_file() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)                       # a user's Ctrl-C, mid-run
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 130, err
    stopped = json.loads(state.read_text())["step"]
    assert 4 <= stopped < 16, err                         # it really stopped part-way
    assert "run the same command again to resume" in err

    subprocess.run(_lavimo("train", *SHORT, "--out", str(resumed)), check=True, env=_env(), timeout=600)
    for name in ("resume/model.safetensors", "resume/averaged.safetensors", "model.safetensors"):
        a, b = load_file(str(straight / name)), load_file(str(resumed / name))
        assert a.keys() == b.keys()
        for k in a:
            assert (a[k] == b[k]).all(), (name, k)        # bit-identical: trained, averaged and kept weights
    assert json.loads(state.read_text())["step"] == 16


def test_resume_refuses_a_different_config(tmp_path):
    from lavimo_core.model.config import preset
    from lavimo_core.model.errors import CheckpointError
    from lavimo_core.train.loop import train
    out = tmp_path / "run"
    (out / "resume").mkdir(parents=True)
    other = preset("tiny")
    other.train.lr = 0.5
    (out / "resume" / "state.json").write_text(json.dumps({"step": 3, "config": other.to_dict()}))
    cfg = preset("tiny")
    with pytest.raises(CheckpointError, match="different config.*train.lr.*--restart"):
        train(cfg, out)


def test_resume_accepts_a_run_saved_before_a_key_existed(tmp_path):
    # A run interrupted under an older version lacks keys added since; at their defaults they are no change.
    from lavimo_core.model.checkpoint import RESUME_DIR
    from lavimo_core.model.config import preset
    from lavimo_core.model.errors import CheckpointError
    from lavimo_core.train.loop import _Run
    out = tmp_path / "run"
    (out / RESUME_DIR).mkdir(parents=True)
    old = preset("tiny").to_dict()
    del old["train"]["ema_decay"]
    (out / RESUME_DIR / "state.json").write_text(json.dumps({"step": 3, "config": old}))
    _Run(preset("tiny"), out, None, None, restart=False)._check_resumable()      # no error
    changed = preset("tiny")
    changed.train.ema_decay = 0.99
    with pytest.raises(CheckpointError, match="train.ema_decay"):
        _Run(changed, out, None, None, restart=False)._check_resumable()


@pytest.mark.slow
def test_torchrun_two_processes_on_cpu(tmp_path):
    out = tmp_path / "ddp"
    torchrun = Path(sys.executable).parent / "torchrun"
    cmd = [str(torchrun), "--standalone", "--nproc_per_node", "2", "--no-python",
           *_lavimo("train", *SHORT[:2], "--set", "train.video_bank=1", "--set", "train.max_steps=6",
                    "--set", "train.eval_every=3", "--set", "train.progress=false", "--set", "train.batch_size=16",
                    "--out", str(out))]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    meta = json.loads((out / "checkpoint.json").read_text())
    assert meta["training"]["processes"] == 2 and meta["training"]["ranks_in_sync"] is True
    assert meta["training"]["step"] == 6 and "calibration" in meta


@pytest.mark.slow
def test_dataloader_workers_give_the_same_run(tmp_path):
    from lavimo_core.model.config import preset
    from lavimo_core.train.loop import train
    weights = []
    for workers in (0, 2):
        cfg = preset("tiny")
        cfg.train.max_steps, cfg.train.eval_every, cfg.train.video_bank = 5, 5, 1
        cfg.train.progress, cfg.train.threads, cfg.train.workers = False, 1, workers
        weights.append(_weights(train(cfg, tmp_path / f"w{workers}")))
    assert all((weights[0][k] == weights[1][k]).all() for k in weights[0])
