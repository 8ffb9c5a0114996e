"""The training run: data -> augmented batches -> AdamW -> validation, early stopping, checkpoints,
resume, calibration. Same code on one CPU, one GPU, or many processes under torchrun (see distributed.py).

Determinism: the batch at step s (clips, crops, mirrors, captions, cameras, dropout) depends only on
(seed, s, rank), so a run interrupted at any step and resumed from its `resume/` folder ends with the
same weights as an uninterrupted run (bit-identical on the same machine and thread count).

HumanML3D on GPUs (the data is not shipped; build it with the HumanML3D repository's scripts). KIT-ML's
21-joint, 251-dim features are not the canonical 22-joint representation, so its loader refuses them.
    lavimo train --preset humanml3d --set train.dataset=/data/HumanML3D --out runs/h3d
    torchrun --nproc_per_node 4 --no-python lavimo train --preset humanml3d \
        --set train.dataset=/data/HumanML3D --out runs/h3d
"""

from __future__ import annotations

import functools
import math
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ..model.calibration import fit_calibration
from ..model.checkpoint import RESUME_DIR, load_train_state, read_json, save_checkpoint, save_train_state
from ..model.config import LavimoConfig
from ..model.errors import CheckpointError, ConfigError
from ..model.lavimo import Lavimo
from ..model.text_backbone import TextBackbone, TokenFeatureCache
from .batching import BatchMaker
from .clips import all_captions, prepare_clips, training_wording
from .data import load_splits
from .distributed import Dist, close_distributed, init_distributed, resolve_device, set_threads
from .ensemble import train_ensemble
from .validation import Validator

# Settings that change how fast or how visibly a run goes, but not its result: a resumed run may differ here.
_RUNTIME_KEYS = {"device", "threads", "progress", "eval_batch", "max_minutes"}


class TrainingInterrupted(Exception):
    """Training stopped on request (Ctrl-C / SIGTERM); its state is saved and the same command resumes it."""

    def __init__(self, step: int, out: Path):
        super().__init__(f"interrupted at step {step}; run the same command again to resume from {out / RESUME_DIR}")
        self.step = step


def train(config: LavimoConfig, out: str | Path, *, restart: bool = False) -> Path:
    """Train (or resume) a model into folder `out`; returns the checkpoint folder. An ensemble (model.members > 1)
    trains member by member (ensemble.py)."""
    if config.model.members > 1:
        return train_ensemble(config, out, train_one, restart=restart)
    return train_one(config, out, restart=restart)


def train_one(config: LavimoConfig, out: str | Path, *, restart: bool = False) -> Path:
    """Train (or resume) one model into folder `out`; returns the checkpoint folder."""
    if config.model.members != 1:
        raise ConfigError(f"train_one trains one model, not model.members={config.model.members}; use train()")
    device = resolve_device(config.train.device)
    dist = init_distributed(device)
    try:
        return _Run(config, Path(out), device, dist, restart).run()
    finally:
        close_distributed(dist)


def lr_at(step: int, cfg) -> float:
    """Linear warm-up to cfg.lr, then cosine decay to cfg.lr * cfg.min_lr_ratio at cfg.max_steps."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def batch_indices(step: int, n: int, batch: int, world: int, rank: int, seed: int,
                  weights: np.ndarray | None = None) -> list[int]:
    """Clips of this process at `step`: epochs are seeded permutations, each process takes its share.

    With per-clip `weights` (joined datasets, see balance_weights) the step's clips are drawn without
    replacement with those probabilities instead, seeded by the step: still a pure function of it."""
    per_step = min(batch * world, n)
    if weights is not None:
        # Its own stream ([seed, step, 7919]), apart from the batch's augmentation rng ([seed, step, rank]).
        picked = np.random.default_rng([seed, step, 7919]).choice(n, per_step, replace=False, p=weights)
        return picked[rank::world].tolist()
    steps_per_epoch = max(1, n // per_step)
    epoch, k = divmod(step, steps_per_epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    return perm[k * per_step:(k + 1) * per_step][rank::world].tolist()


def balance_weights(parts: list[str]) -> np.ndarray | None:
    """Sampling probabilities giving each dataset an equal share of every batch; None for a single dataset.

    Without it, Bandai-Namco-2's 1,350 short takes outnumber Bandai-Namco-1's 128 long ones ten to one
    and the joint model forgot Bandai-Namco-1 (text R@1 on its test split 87% -> 52%)."""
    names, counts = np.unique(parts, return_counts=True)
    if len(names) < 2:
        return None
    per_clip = dict(zip(names, 1.0 / (len(names) * counts)))
    return np.array([per_clip[p] for p in parts])


class StepBatches:
    """The batch of every step, as a map-style dataset (index = step) so DataLoader workers can build
    batches ahead of the model (useful on a GPU); each is a pure function of its step."""

    def __init__(self, maker: BatchMaker, n: int, batch: int, world: int, rank: int, seed: int,
                 weights: np.ndarray | None = None):
        self.maker, self.n, self.batch, self.world, self.rank, self.seed = maker, n, batch, world, rank, seed
        self.weights = weights

    def __getitem__(self, step: int):
        rng = np.random.default_rng([self.seed, step, self.rank])
        return self.maker.make(batch_indices(step, self.n, self.batch, self.world, self.rank, self.seed,
                                             self.weights), rng)

    def stream(self, start: int, stop: int, workers: int):
        """Batches of steps start..stop-1, built here (workers=0) or by DataLoader worker processes."""
        import os
        workers = min(workers, len(os.sched_getaffinity(0)))   # more than the usable cores only thrashes
        if workers <= 0:
            return (self[step] for step in range(start, stop))
        from torch.utils.data import DataLoader
        return iter(DataLoader(self, batch_size=None, sampler=range(start, stop), num_workers=workers,
                               collate_fn=_as_is, worker_init_fn=_ignore_interrupts, prefetch_factor=4))


def _as_is(batch):
    return batch


def _ignore_interrupts(_worker: int) -> None:
    # Ctrl-C reaches the whole process group; the main process saves and stops, workers just go on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Run:
    def __init__(self, config: LavimoConfig, out: Path, device: torch.device, dist: Dist, restart: bool):
        self.cfg, self.out, self.device, self.dist, self.restart = config, out, device, dist, restart
        self.stop_requested = False

    def run(self) -> Path:
        cfg, t = self.cfg, self.cfg.train
        threads = set_threads(t.threads, self.dist.world)
        started = time.perf_counter()
        self.out.mkdir(parents=True, exist_ok=True)
        data = load_splits(t.dataset, t.val_fraction, progress=t.progress and self.dist.main)
        train_clips = prepare_clips(data.train, mirror=t.mirror_prob > 0)
        val_clips = prepare_clips(data.val, mirror=False)
        self.trained_wording = training_wording(train_clips)  # calibration's wording bank (_finish)
        parts = {s: [data.part_of[m.name] for m in ms] for s, ms in (("train", data.train), ("val", data.val))}
        self.weights = balance_weights(parts["train"]) if t.balance_datasets else None
        if cfg.model.use_video and not cfg.model.video_feature_dim:
            from ..video.features import POSE_FEATURE_DIM
            cfg.model.video_feature_dim = POSE_FEATURE_DIM
        self._check_resumable()

        backbone = TextBackbone(cfg.model.text_model, cfg.model.text_max_tokens, self.device)
        captions = all_captions(train_clips + val_clips)
        text = self._on_main_first(functools.partial(TokenFeatureCache, backbone, captions,
                                                     progress=t.progress and self.dist.main))
        text_ref, text_dim = backbone.ref, backbone.hidden_size
        del backbone  # only cached token features are needed from here on

        if cfg.model.use_video and t.rendered_cameras > 0:
            self._on_main_first(lambda: _attach_rendered_tracks(train_clips, t.rendered_cameras, t.seed, t.progress))

        from ..motion.normalizer import Normalizer
        torch.manual_seed(t.seed)
        model = Lavimo(cfg.model, text_dim)
        norm = Normalizer.fit([c.views[0].features for c in train_clips])
        model.set_normalizer(norm.mean, norm.std)
        model.to(self.device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
        self.averaged = weight_average(model, t.ema_decay)
        state = {"step": 0, "best_score": -1.0, "best_step": 0, "bad_evals": 0, "seconds": 0.0, "history": []}
        if not self.restart:
            state = load_train_state(self.out, model, optimizer, self.averaged) or state
        net = model
        if self.dist.world > 1:
            net = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

        maker = BatchMaker(train_clips, text, cfg, cfg.model.use_video, seed=t.seed, progress=t.progress and self.dist.main)
        validator = Validator(val_clips, text, cfg, cfg.model.use_video, parts=parts["val"]) if self.dist.main else None
        self.meta = {"preset": cfg.preset, "text_model": {"name": text_ref.name, "sha256": text_ref.sha256},
                     "dataset": {"name": data.name, "license": data.license, "attribution": data.attribution,
                                 "train": len(data.train), "val": len(data.val), "test": len(data.test)}}
        if cfg.model.use_video:
            from ..video.normalize import NORMALIZATION_VERSION
            self.meta["video"] = {"feature_dim": cfg.model.video_feature_dim, "normalization": NORMALIZATION_VERSION}

        previous = self._install_signal_handlers()
        try:
            self._loop(model, net, optimizer, maker, validator, state, started)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        state["ranks_in_sync"] = self._ranks_in_sync(model)
        if self.dist.main:
            self._finish(model, validator, state, threads)
        self.dist.barrier()
        return self.out

    # -- the loop ---------------------------------------------------------------------------------
    def _loop(self, model, net, optimizer, maker, validator, state, started) -> None:
        from tqdm import tqdm
        t, dist = self.cfg.train, self.dist
        n = len(maker.clips)
        seconds_before, cpu_before, cpu_start = state["seconds"], state.get("cpu_seconds", 0.0), time.process_time()
        bar = tqdm(total=t.max_steps, initial=state["step"], disable=not (t.progress and dist.main),
                   desc="train", dynamic_ncols=True)
        model.train()
        stop_reason = "finished" if state.get("done") else None
        batches = StepBatches(maker, n, t.batch_size, dist.world, dist.rank, t.seed, self.weights)
        stream = batches.stream(state["step"], t.max_steps, t.workers)
        while stop_reason is None and state["step"] < t.max_steps:
            step = state["step"]
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, t)
            torch.manual_seed((t.seed * 1_000_003 + step * 1009 + dist.rank) % 2**63)
            batch = next(stream)
            loss, parts = net(batch.to(self.device), self.cfg.loss)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if t.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
            optimizer.step()
            if self.averaged is not None:
                self.averaged.update_parameters(model)
            state["step"] = step + 1
            state["seconds"] = seconds_before + time.perf_counter() - started
            state["cpu_seconds"] = cpu_before + time.process_time() - cpu_start  # all threads; robust to a busy machine
            bar.update(1)
            bar.set_postfix({k: f"{v:.3f}" for k, v in parts.items()} | {"val": f"{state['best_score']:.3f}"})

            interrupted = self._agree(self.stop_requested)
            out_of_time = t.max_minutes > 0 and self._agree(state["seconds"] > 60 * t.max_minutes)
            last = state["step"] >= t.max_steps
            if state["step"] % t.eval_every == 0 or last or out_of_time:
                if self._validate(model, validator, state):
                    stop_reason = "early stop"
                state["done"] = bool(stop_reason) or last or out_of_time
                if dist.main:
                    save_train_state(self.out, model, optimizer, self._resume_state(state), self.averaged)
                if out_of_time:
                    stop_reason = "time limit"
                if dist.main and not t.progress:
                    # Without a bar (logs, CI, pipes) a long run still says it is alive, once per validation.
                    print(f"train: step {state['step']}/{t.max_steps}, loss {loss.item():.3f}, "
                          f"best validation score {state['best_score']:.3f}, {state['seconds'] / 60:.1f} min",
                          file=sys.stderr, flush=True)
            if interrupted:
                if dist.main:
                    save_train_state(self.out, model, optimizer, self._resume_state(state), self.averaged)
                bar.close()
                raise TrainingInterrupted(state["step"], self.out)
        bar.close()
        if stop_reason != "finished":    # a finished run that is merely reopened keeps its own reason
            state["stop_reason"] = stop_reason or "max steps"
            if dist.main:
                save_train_state(self.out, model, optimizer, self._resume_state(state), self.averaged)

    def _validate(self, model, validator, state) -> bool:
        """Validate on rank 0, keep the best checkpoint, and say (to every rank) whether to stop early."""
        stop = False
        if self.averaged is not None:
            model = self.averaged.module   # the weights that are validated are the ones kept
        if self.dist.main:
            metrics = validator.metrics(model)
            score = validator.score(metrics)
            state["history"].append({"step": state["step"], "score": score})
            if score > state["best_score"]:
                state.update(best_score=score, best_step=state["step"], bad_evals=0, best_metrics=metrics)
                save_checkpoint(self.out, model, self.cfg, {**self.meta, "training": _summary(state)})
            else:
                state["bad_evals"] += 1
            stop = self.cfg.train.patience > 0 and state["bad_evals"] >= self.cfg.train.patience
        return bool(self._agree(stop, from_main=True))

    def _finish(self, model: Lavimo, validator: Validator, state: dict, threads: int) -> None:
        """Reload the best weights, fit the calibration on validation data, write the final checkpoint and its ONNX export."""
        from ..model.checkpoint import load_checkpoint
        best, _, _ = load_checkpoint(self.out, self.device)
        calibration = fit_calibration(*validator.calibration_samples(best, self.trained_wording))
        training = _summary(state) | {"threads": threads, "processes": self.dist.world,
                                      "device": str(self.device)}
        save_checkpoint(self.out, best, self.cfg, {**self.meta, "calibration": calibration.to_dict(),
                                                   "training": training})
        # The ONNX encoders let the model run without torch (the Blender add-on, lavimo_core.runtime).
        from ..model.onnx_export import export_onnx
        export_onnx(self.out)

    # -- helpers ----------------------------------------------------------------------------------
    def _agree(self, flag: bool, from_main: bool = False) -> bool:
        """One decision for every process: rank 0's (from_main) or anyone's."""
        if self.dist.world == 1:
            return bool(flag)
        value = torch.tensor([int(flag)], device=self.device)
        if from_main:
            torch.distributed.broadcast(value, 0)
        else:
            torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
        return bool(value.item())

    def _ranks_in_sync(self, model: Lavimo) -> bool:
        """Whether every process ends with the same weights (what DDP promises; checked, not assumed)."""
        if self.dist.world == 1:
            return True
        total = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1)
        lo, hi = total.clone().to(self.device), total.clone().to(self.device)
        torch.distributed.all_reduce(lo, op=torch.distributed.ReduceOp.MIN)
        torch.distributed.all_reduce(hi, op=torch.distributed.ReduceOp.MAX)
        return bool(lo.item() == hi.item())

    def _on_main_first(self, make):
        """Run `make` on rank 0 first (it fills a disk cache), then on the others (they read it)."""
        result = make() if self.dist.main else None
        self.dist.barrier()
        return result if self.dist.main else make()

    def _resume_state(self, state: dict) -> dict:
        return {**state, "config": self.cfg.to_dict()}

    def _check_resumable(self) -> None:
        path = self.out / RESUME_DIR / "state.json"
        if self.restart or not path.is_file():
            return
        saved = read_json(path).get("config", {})
        now = self.cfg.to_dict()
        # A key added since the run was saved counts as its default: new keys default to the old behaviour.
        default = LavimoConfig().to_dict()
        diffs = [f"{section}.{k}" for section in ("model", "loss", "train")
                 for k in now[section] if (section != "train" or k not in _RUNTIME_KEYS)
                 and saved.get(section, {}).get(k, default[section][k]) != now[section][k]]
        if diffs:
            raise CheckpointError(f"{self.out} holds an unfinished run with a different config ({', '.join(diffs[:6])}); "
                                  "use another --out folder, or --restart to start over in this one.")

    def _install_signal_handlers(self) -> dict:
        import threading
        if threading.current_thread() is not threading.main_thread():
            return {}

        def request_stop(signum, frame):
            if self.stop_requested:      # a second Ctrl-C stops at once
                raise KeyboardInterrupt
            self.stop_requested = True
        return {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}


def weight_average(model: Lavimo, decay: float) -> AveragedModel | None:
    """An exponential moving average of `model`'s weights (train.ema_decay), or None when decay is 0."""
    if decay <= 0:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _summary(state: dict) -> dict:
    keys = ("step", "best_step", "best_score", "best_metrics", "seconds", "cpu_seconds", "stop_reason", "ranks_in_sync")
    return {k: state.get(k) for k in keys}


def _attach_rendered_tracks(clips, cameras: int, seed: int, progress: bool) -> None:
    """Real render -> MediaPipe tracks for every view of every clip (cached on disk by the video module)."""
    from tqdm import tqdm

    from ..motion.motion import Motion
    from ..synthesis.render import random_camera
    from ..synthesis.rendered import rendered_track
    from ..video.features import default_featurizer
    from .clips import clip_seed
    featurizer = default_featurizer()
    for clip in tqdm(clips, desc="rendered video", disable=not progress, leave=False):
        for v_i, view in enumerate(clip.views):
            rng = np.random.default_rng(clip_seed(seed + 7 + v_i, clip.name))
            view.tracks = [(rendered_track(Motion(clip.name, view.joints), random_camera(rng), featurizer=featurizer),
                            featurizer.version) for _ in range(cameras)]
