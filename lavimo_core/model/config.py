"""Every hyperparameter of the model, its losses and its training, with documented defaults; JSON load/save.

`LavimoConfig` = `ModelConfig` + `LossConfig` + `TrainConfig`. A checkpoint stores the whole config in
`config.json`, so a trained model can always be rebuilt exactly. Presets: `preset(name)`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from .errors import ConfigError

DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass
class ModelConfig:
    """Sizes of the encoders, the fusion and the decoder."""

    latent_dim: int = 256            # size of the shared, L2-normalised embedding space
    hidden_dim: int = 128            # width (d_model) of every transformer
    heads: int = 4                   # attention heads in every transformer and in the fusion
    ff_dim: int = 256                # feed-forward width inside the transformers
    dropout: float = 0.1             # dropout inside the transformers
    motion_layers: int = 3           # motion encoder depth (TMR: 6)
    text_layers: int = 1             # trainable text head depth, on top of the frozen backbone
    video_layers: int = 6            # temporal video encoder depth (paper: 6)
    decoder_layers: int = 2          # motion decoder depth (TMR: 6)
    # Frozen text backbone: a Hugging Face id, "distilbert-base-uncased" (the paper's), or a local folder.
    text_model: str = DEFAULT_TEXT_MODEL
    text_max_tokens: int = 40        # captions are cut to this many tokens (incl. [CLS]/[SEP])
    # Add a linear map of the mean-pooled frozen sentence embedding to the text head's output, so that
    # free text unlike the training captions still lands near semantically close captions.
    text_pool_skip: bool = True
    motion_feature_dim: int = 263    # HumanML3D features per frame
    video_feature_dim: int = 0       # pose features per video frame; 0 = taken from the video module
    use_video: bool = True           # False = the bi-modal (text-motion) ablation
    use_fusion: bool = True          # paper Fig. 2 fusion before the decoder; False = decode from motion alone
    use_decoder: bool = True         # reconstruct the motion (the paper's auxiliary task)
    # Models trained alike from seeds train.seed, train.seed + 1, ... and used as one (model/ensemble.py): a
    # cosine is the mean of theirs, so one seed's luck (which clips and words it happens to get right) averages out.
    members: int = 1

    def __post_init__(self) -> None:
        if self.members < 1:
            raise ConfigError(f"model.members ({self.members}) must be at least 1 (1 = a single model)")
        if self.hidden_dim % self.heads:
            raise ConfigError(f"model.hidden_dim ({self.hidden_dim}) must be divisible by model.heads ({self.heads})")
        if self.use_fusion and not self.use_video:
            raise ConfigError("model.use_fusion needs model.use_video (fusion attends over motion, text and video)")


@dataclass
class LossConfig:
    """Weights and constants of the training objective (see losses.py)."""

    tau: float = 0.1                 # softmax temperature of the cosine similarities (TMR: 0.1)
    epsilon: float = 0.8             # captions whose frozen sentence embeddings have cosine >= epsilon are positives (TMR: 0.8)
    # Also count as positives the pairs whose labels agree (the motion carries every label the caption
    # names); only where the dataset has labels (Bandai-Namco), never for HumanML3D.
    label_positives: bool = True
    w_motion_text: float = 1.0       # weight of the motion-text alignment (KL) loss
    w_motion_video: float = 1.0      # weight of the motion-video alignment loss
    w_text_video: float = 1.0        # weight of the text-video alignment loss
    w_recon: float = 0.5             # weight of the reconstruction loss (smooth L1 on normalised features)
    w_embed_sim: float = 0.0         # weight of the smooth-L1 pull between paired embeddings (TMR "latent" loss)


@dataclass
class TrainConfig:
    """Data, augmentation, optimisation, early stopping and calibration."""

    dataset: str = "bandai-namco-1"  # name found by paths.find_dataset, a HumanML3D/KIT-ML root, or a BVH folder
    seed: int = 0
    device: str = "cpu"              # "cpu", "cuda", "cuda:1", or "auto"
    threads: int = 0                 # torch CPU threads; 0 = $LAVIMO_THREADS, else the cores this process may use
    batch_size: int = 32             # per process (under torchrun the global batch is batch_size * world size)
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 100          # linear warm-up, then cosine decay to lr * min_lr_ratio at max_steps
    min_lr_ratio: float = 0.1
    max_steps: int = 1500
    max_minutes: float = 0.0         # stop (and keep the best checkpoint) after this wall time; 0 = no limit
    grad_clip: float = 1.0
    workers: int = 0                 # DataLoader processes building batches ahead (0 = in the training process;
                                     # at most the usable cores)
    balance_datasets: bool = True    # joined datasets ("a+b") fill each batch equally, whatever their clip counts,
                                     # and count equally in the validation score
    # Augmentation (what real users need: any length, both sides, any camera).
    crop_min_frames: int = 40        # random crops of this many frames (20 fps) ...
    crop_max_frames: int = 120       # ... up to this many; longer clips are cropped at random positions
    mirror_prob: float = 0.5         # mirror the motion (and swap left/right words in its caption)
    content_only_prob: float = 0.3   # use a caption naming only the content ("a person walks") for a clip
    # Video: landmarks projected from the (cropped, maybe mirrored) joints through a random camera, with
    # MediaPipe-like noise. Projection costs ~10 ms a sample (occlusion ray tests), as much as a training
    # step on 2 cores, so each clip view gets `video_bank` (crop, camera) pairs prepared up front and every
    # sample draws one of them (frame drops stay fresh); 0 = a new crop and camera for every sample.
    video_bank: int = 16
    video_noise: bool = True         # add the noise measured on renders to projected landmarks
    # Domain randomisation of projected training video (synthesis/capture.py): frame size 64 px-1080p and how
    # much of it the person fills (20-90 %), source frame rate 5-60 fps, 15 % upper body only.
    video_randomize: bool = False
    # Of those, the share filmed by a camera travelling with the person (tracking shot, treadmill, exercise in
    # place: no root travel in the picture). 0 in the shipped recipe: at 0.2, one run found real in-place
    # walks and runs but lost other real clips and 10 points of free-caption text R@1; a second, with the
    # weight average, found no in-place walk and 3 real clips of 12 instead of 5 (see issue 14).
    video_in_place_prob: float = 0.0
    # Of those, the share whose lens zooms in or out during the clip (synthesis/capture.py): the body's image
    # size then changes without the body moving, so the translation features' depth cue cannot be trusted.
    # 0 in the shipped recipe: at 0.2, two seeds found 7 fewer bench queries in all, mostly free-caption text.
    video_zoom_prob: float = 0.0
    # Optionally mix in real render -> MediaPipe tracks (cached on disk by the video module; slow to
    # prepare the first time).
    rendered_cameras: int = 0        # cached rendered views per clip (and per mirror); 0 = projected only
    rendered_prob: float = 0.5       # chance a sample uses one of those rendered views instead of projecting
    frame_drop_prob: float = 0.1     # mark random video frames missing, as MediaPipe does
    # Validation, early stopping, checkpoints.
    # The weights validated, kept and shipped: an exponential moving average of the trained ones, with this
    # decay per step (0 = the trained weights themselves). It averages over the last ~1/(1 - decay) steps,
    # smoothing the step-to-step noise of small batches (two seeds of one recipe: 65% and 82% free captions).
    ema_decay: float = 0.0
    eval_every: int = 100            # steps between validations (and checkpoints)
    patience: int = 8                # validations without improvement before stopping; 0 = never stop early
    early_stop_metric: str = "val_score"  # mean of R@1,R@5 (label-level) over the validation directions
    val_fraction: float = 0.1        # used only when the dataset has no validation split
    eval_batch: int = 64             # clips per forward pass when embedding for validation
    progress: bool = True            # tqdm bar; off: one plain line per validation on stderr (logs, CI)

    def __post_init__(self) -> None:
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"train.ema_decay ({self.ema_decay}) must be in [0, 1): 0 = off, e.g. 0.998")
        for name in (f.name for f in dataclasses.fields(self) if f.name.endswith("_prob")):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"train.{name} ({getattr(self, name)}) is a probability: it must be in [0, 1]")


@dataclass
class LavimoConfig:
    """The whole configuration of one model and its training run."""

    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str = "custom"           # name of the preset it started from, for the record

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "config") -> LavimoConfig:
        """Build from a nested dict; unknown keys or wrong types raise ConfigError naming the key."""
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a JSON object, got {type(data).__name__}")
        parts = {"model": ModelConfig, "loss": LossConfig, "train": TrainConfig}
        unknown = set(data) - set(parts) - {"preset"}
        if unknown:
            raise ConfigError(f"{where}: unknown section(s) {sorted(unknown)}; expected {sorted(parts)} and 'preset'")
        kwargs: dict[str, Any] = {"preset": str(data.get("preset", "custom"))}
        for name, klass in parts.items():
            kwargs[name] = _build(klass, data.get(name, {}), f"{where}: {name}")
        return cls(**kwargs)

    def save(self, path: str | Path) -> None:
        """Write as JSON atomically."""
        write_atomic(path, json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | Path) -> LavimoConfig:
        """Read a JSON config file (raises ConfigError with the file name on any problem)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config file {path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        return cls.from_dict(data, where=str(path))


def _build(klass, values: Any, where: str):
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected an object, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(klass)}
    unknown = set(values) - set(fields)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; valid keys: {sorted(fields)}")
    defaults = klass()
    kwargs = {}
    for key, value in values.items():
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{where}.{key}: expected {expected.__name__}, got {value!r}")
        kwargs[key] = value
    return klass(**kwargs)


def preset(name: str) -> LavimoConfig:
    """A named starting configuration: "default" (Bandai-Namco, <= 15 min on 2 cores), "tiny" (tests,
    ~1-2 min), "bimodal" (default without video/fusion), "humanml3d" (TMR-like sizes for a GPU)."""
    if name == "default":
        # 1500 steps take ~11 min on 2 idle cores; the cap keeps a busy or slower machine within 15 min
        # (the best checkpoint so far is kept).
        cfg = LavimoConfig(train=TrainConfig(max_minutes=15.0))
    elif name == "bimodal":
        cfg = LavimoConfig(model=ModelConfig(use_video=False, use_fusion=False), train=TrainConfig(max_minutes=15.0))
    elif name == "tiny":
        cfg = LavimoConfig(
            model=ModelConfig(latent_dim=64, hidden_dim=64, heads=4, ff_dim=128, motion_layers=2,
                              text_layers=1, video_layers=2, decoder_layers=1),
            train=TrainConfig(max_steps=300, warmup_steps=30, eval_every=100, patience=0,
                              crop_max_frames=80, lr=1e-3, video_bank=4),
        )
    elif name == "humanml3d":
        # TMR's sizes and schedule; run under torchrun on GPUs (see lavimo_core/train/loop.py).
        cfg = LavimoConfig(
            model=ModelConfig(latent_dim=256, hidden_dim=256, heads=4, ff_dim=1024, dropout=0.1,
                              motion_layers=6, text_layers=2, video_layers=6, decoder_layers=6),
            loss=LossConfig(label_positives=False, w_recon=1.0),
            train=TrainConfig(dataset="humanml3d", device="auto", batch_size=32, lr=1e-4, max_steps=200_000,
                              warmup_steps=1000, eval_every=2000, patience=10, crop_min_frames=40,
                              crop_max_frames=200, mirror_prob=0.5, content_only_prob=0.0, video_bank=0,
                              workers=8),
        )
    else:
        raise ConfigError(f"unknown preset {name!r}; choose one of: default, tiny, bimodal, humanml3d")
    cfg.preset = name
    return cfg


PRESETS = ("default", "tiny", "bimodal", "humanml3d")
