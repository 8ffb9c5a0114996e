"""Turn canonical motions into what a store keeps: checked arrays, features, and the embeddings of each motion and its mirror."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..motion.load import MAX_EXTENT_M
from ..motion.motion import Motion
from ..motion.skeleton import FEATURE_DIM, FPS
from .errors import StoreError

if TYPE_CHECKING:
    from ..model.embedder import Embedder

MAX_JOINT_EXTENT_M = MAX_EXTENT_M  # motions not loaded by load_motion are checked here too
Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


class BuildCancelled(StoreError):
    """The caller cancelled an add or a build; nothing of the unfinished part was written."""


def check_motion(motion: Motion) -> Motion:
    """Return `motion` with features filled, or raise StoreError saying what is wrong with it."""
    where = f"motion {motion.name!r}" + (f" ({motion.source.path})" if motion.source.path else "")
    if abs(float(motion.fps) - FPS) > 1e-6:
        raise StoreError(f"{where} is at {motion.fps} fps; stores keep canonical motions at {FPS:g} fps "
                         "(load it with lavimo_core.motion.load.load_motion, which resamples)")
    if motion.num_frames < 2:
        raise StoreError(f"{where} has {motion.num_frames} frame(s); a motion needs at least 2")
    if not np.isfinite(motion.joints).all():
        raise StoreError(f"{where} has NaN or infinite joint positions; re-export the source file")
    if np.abs(motion.joints).max() > MAX_JOINT_EXTENT_M:
        raise StoreError(f"{where} has joints {np.abs(motion.joints).max():.3g} m from the origin (more than "
                         f"{MAX_JOINT_EXTENT_M:g} m); the source file is corrupted: re-export it")
    if motion.features is None:
        from ..motion.features import joints_to_features
        motion.features = joints_to_features(motion.joints)
    feats = np.asarray(motion.features, dtype=np.float32)
    if feats.shape != (motion.num_frames - 1, FEATURE_DIM) or not np.isfinite(feats).all():
        raise StoreError(f"{where}: features must be finite ({motion.num_frames - 1}, {FEATURE_DIM}), "
                         f"got {feats.shape}")
    motion.features = feats
    return motion


def mirrored(motion: Motion) -> Motion:
    """The left/right mirror image of a checked motion, for its mirror embedding.

    Features are recomputed from the mirrored joints, exactly as importing a mirrored file would, so that
    a library's own mirrored copy of a clip embeds where the clip's mirror embedding is.
    """
    from ..motion.features import joints_to_features
    from ..motion.mirror import mirror_joints

    joints = mirror_joints(motion.joints)
    return Motion(name=motion.name + "~mirror", joints=joints, fps=motion.fps, source=motion.source,
                  features=joints_to_features(joints))


def normalise_rows(x: np.ndarray, what: str) -> np.ndarray:
    """Rows scaled to unit length (float32); raise StoreError on NaN or zero rows."""
    x = np.asarray(x, dtype=np.float32)
    if invalid_rows(x).any():
        raise StoreError(f"{what} contain NaN, infinite or zero vectors; the model produced invalid embeddings")
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def invalid_rows(x: np.ndarray) -> np.ndarray:
    """Boolean mask of rows that cannot be normalised (NaN, infinite or zero)."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        norm = np.linalg.norm(x, axis=1)
    return ~np.isfinite(x).all(axis=1) | ~(norm > 1e-12) | ~np.isfinite(norm)


def encode_motions(embedder: Embedder, motions: Sequence[Motion], *, batch_size: int = 32, progress: Progress | None = None,
                   cancel: Cancel | None = None, normalise: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings (n, dim) of each motion and of its mirror image, in batches, with progress and cancellation.

    `normalise=False` returns the raw rows (a caller that skips invalid ones checks them with invalid_rows).
    """
    n = len(motions)
    dim = int(embedder.dim)
    # Batches of similar length waste little on padding (attention cost grows with the longest clip).
    order = sorted(range(n), key=lambda i: motions[i].num_frames)
    emb, mir = np.zeros((n, dim), np.float32), np.zeros((n, dim), np.float32)
    for i in range(0, n, batch_size):
        if cancel is not None and cancel():
            raise BuildCancelled("cancelled; the motions of this batch were not added")
        idx = order[i:i + batch_size]
        batch = [motions[j] for j in idx]
        emb[idx] = np.asarray(embedder.embed_motion(batch), dtype=np.float32)
        mir[idx] = np.asarray(embedder.embed_motion([mirrored(m) for m in batch]), dtype=np.float32)
        if progress is not None:
            progress(min(i + batch_size, n) / n, f"encoded {min(i + batch_size, n)}/{n} motions")
    if n == 0 or not normalise:
        return emb, mir
    return normalise_rows(emb, "motion embeddings"), normalise_rows(mir, "mirror embeddings")


def encode_windows(embedder: Embedder, motions: Sequence[Motion], lengths: tuple[int, ...] | None, *,
                   batch_size: int = 32, cancel: Cancel | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of the long motions (moments.long_motion_spans): embeddings (W, dim), owner (W,) index into
    `motions`, spans (W, 2) frames; grouped by motion, in order."""
    from .moments import long_motion_spans

    owner, spans, pieces = [], [], []
    for i, m in enumerate(motions):
        for s, e in long_motion_spans(m.num_frames, lengths):
            owner.append(i)
            spans.append((s, e))
            pieces.append(np.asarray(m.features[s:e - 1], dtype=np.float32))  # features hold frame-to-frame steps
    out = []
    for i in range(0, len(pieces), batch_size):
        if cancel is not None and cancel():
            raise BuildCancelled("cancelled; the motions of this batch were not added")
        out.append(np.asarray(embedder.embed_motion_features(pieces[i:i + batch_size]), dtype=np.float32))
    emb = np.concatenate(out) if out else np.zeros((0, int(embedder.dim)), np.float32)
    return (normalise_rows(emb, "window embeddings") if len(emb) else emb, np.asarray(owner, dtype=np.int64),
            np.asarray(spans, dtype=np.int64).reshape(-1, 2))
