"""BVH files: a fast reader (numpy frame parsing, vectorised forward kinematics) and a writer that round-trips it."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import write_atomic
from ..errors import LavimoError
from ..rotations import euler_to_quat, quat_to_euler, quat_to_matrix

_CHANNEL = re.compile(r"^([XYZ])(position|rotation)$", re.IGNORECASE)
# Finite but absurd values: no capture is 10 million units (10 km in mm) across, and no joint turns a
# million degrees (2,777 turns); beyond these, float precision and the model break down silently.
MAX_POSITION = 1e7
MAX_ROTATION_DEG = 1e6
# A frame time outside 0.1 ms .. 10 s, or a clip over an hour, is a corrupt header: resampling it to 20 fps
# would allocate billions of frames (a fuzzed "Frame Time: 1e7" was killed for memory).
FRAME_TIME_RANGE_S = (1e-4, 10.0)
MAX_DURATION_S = 3600.0


class BVHError(LavimoError):
    """A BVH file that cannot be read; the message names the file, the line where it applies, and the fix."""


@dataclass
class BVH:
    """A parsed BVH file: the hierarchy (joints and End Sites, depth-first file order) and the raw MOTION block."""

    names: list[str]                  # joint names; End Sites are named "<parent>_end"
    parents: list[int]                # parent index, -1 for the root
    offsets: np.ndarray               # (J, 3) OFFSET of each joint in its parent's frame
    channels: list[tuple[str, ...]]   # CHANNELS per joint as written ("Xposition", "Zrotation", ...); () for End Sites
    end_site: list[bool]              # True for End Site entries (kept so the writer reproduces the file)
    frame_time: float                 # seconds per frame, as written
    frames: np.ndarray                # (T, C) float64: the MOTION block, C = sum of channel counts
    path: str = ""

    @property
    def num_frames(self) -> int:
        """Number of frames in the MOTION block."""
        return int(self.frames.shape[0])

    @property
    def fps(self) -> float:
        """Frame rate, snapped to a whole number when the written frame time is a rounded 1/fps (0.0333333 -> 30)."""
        fps = 1.0 / self.frame_time
        return float(round(fps)) if abs(fps - round(fps)) < 1e-3 * fps else fps

    def channel_slices(self) -> list[slice]:
        """Columns of `frames` that hold each joint's channels."""
        out, start = [], 0
        for ch in self.channels:
            out.append(slice(start, start + len(ch)))
            start += len(ch)
        return out

    def local_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-frame local rotations (T, J, 4) as xyzw quaternions and translations (T, J, 3)."""
        T, J = self.num_frames, len(self.names)
        trans = np.broadcast_to(self.offsets, (T, J, 3)).copy()
        quats = np.zeros((T, J, 4))
        quats[..., 3] = 1.0
        by_order: dict[str, tuple[list[int], list[list[int]]]] = {}
        for j, (ch, sl) in enumerate(zip(self.channels, self.channel_slices())):
            pos = [sl.start + i for i, c in enumerate(ch) if c[1:].lower() == "position"]
            rot = [sl.start + i for i, c in enumerate(ch) if c[1:].lower() == "rotation"]
            if pos:
                # Position channels replace the OFFSET (as Blender reads them); axes in their written order.
                axes = ["XYZ".index(ch[i - sl.start][0].upper()) for i in pos]
                trans[:, j, axes] = self.frames[:, pos]
            if rot:
                order = "".join(ch[i - sl.start][0].upper() for i in rot)
                joints, cols = by_order.setdefault(order, ([], []))
                joints.append(j)
                cols.append(rot)
        for order, (joints, cols) in by_order.items():
            # BVH Euler channels are intrinsic rotations in the written order (uppercase axes).
            angles = self.frames[:, np.asarray(cols)]          # (T, G, len(order))
            quats[:, joints] = euler_to_quat(order, angles.reshape(-1, len(order)), degrees=True
                                             ).reshape(T, len(joints), 4)
        return quats, trans

    def positions(self) -> np.ndarray:
        """World positions of every joint and End Site per frame, (T, J, 3), in the file's units."""
        quats, trans = self.local_transforms()
        return forward_kinematics(quats_to_matrices(quats), trans, self.parents)


def quats_to_matrices(quats: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) from xyzw quaternions (..., 4)."""
    return quat_to_matrix(quats)


def forward_kinematics(rotations: np.ndarray, translations: np.ndarray, parents: list[int]) -> np.ndarray:
    """World joint positions (T, J, 3) from local rotation matrices (T, J, 3, 3) and translations (T, J, 3)."""
    T, J = translations.shape[:2]
    world_rot = np.empty((T, J, 3, 3))
    world_pos = np.empty((T, J, 3))
    # Parents precede children in BVH file order, so one pass in index order is topological.
    for j, p in enumerate(parents):
        if p < 0:
            world_rot[:, j] = rotations[:, j]
            world_pos[:, j] = translations[:, j]
        else:
            world_rot[:, j] = world_rot[:, p] @ rotations[:, j]
            world_pos[:, j] = world_pos[:, p] + (world_rot[:, p] @ translations[:, j, :, None])[..., 0]
    return world_pos


def _tokens(lines: list[str], start: int, stop: int):
    for n in range(start, stop):
        for tok in lines[n].split():
            yield tok, n + 1


def _parse_hierarchy(lines: list[str], stop: int, where: str):
    """Parse lines[0:stop] (up to MOTION) into names, parents, offsets, channels, end_site."""
    toks = list(_tokens(lines, 0, stop))
    pos = 0

    def take(what: str) -> tuple[str, int]:
        nonlocal pos
        if pos >= len(toks):
            line = toks[-1][1] if toks else 1
            raise BVHError(f"{where}:{line}: malformed hierarchy: expected {what} but the HIERARCHY section ended. "
                           "The file is truncated or not a BVH file.")
        pos += 1
        return toks[pos - 1]

    def take_name() -> str:
        # A name is the rest of its line ("Bip01 L Thigh" from 3ds Max has spaces), without a trailing "{".
        nonlocal pos
        tok, line = take("a joint name")
        parts = [tok]
        while pos < len(toks) and toks[pos][1] == line and toks[pos][0] != "{":
            parts.append(toks[pos][0])
            pos += 1
        return " ".join(parts)

    def expect(word: str) -> int:
        tok, line = take(repr(word))
        if tok.upper() != word.upper():
            raise BVHError(f"{where}:{line}: malformed hierarchy: expected {word!r}, found {tok!r}.")
        return line

    def number(what: str) -> float:
        tok, line = take(what)
        try:
            value = float(tok)
        except ValueError:
            raise BVHError(f"{where}:{line}: malformed hierarchy: {what} must be a number, found {tok!r}.") from None
        if not np.isfinite(value):
            raise BVHError(f"{where}:{line}: {what} is {tok!r}; offsets must be finite numbers.")
        if abs(value) > MAX_POSITION:
            raise BVHError(f"{where}:{line}: {what} is {tok!r}, beyond {MAX_POSITION:g} units; the file is "
                           "corrupted or in an absurd unit: re-export the motion.")
        return value

    names, parents, offsets, channels, end_site = [], [], [], [], []
    expect("HIERARCHY")
    tok, line = take("'ROOT'")
    if tok.upper() != "ROOT":
        raise BVHError(f"{where}:{line}: malformed hierarchy: expected 'ROOT', found {tok!r}.")
    stack: list[int] = []          # open joints
    kind = "ROOT"
    while True:
        parent = stack[-1] if stack else -1
        name = f"{names[parent]}_end" if kind == "End" else take_name()
        expect("{")
        expect("OFFSET")
        off = [number("OFFSET x"), number("OFFSET y"), number("OFFSET z")]
        ch: tuple[str, ...] = ()
        if kind != "End":
            tok, line = take("'CHANNELS'")
            if tok.upper() != "CHANNELS":
                raise BVHError(f"{where}:{line}: malformed hierarchy: expected 'CHANNELS' after the OFFSET of "
                               f"{name!r}, found {tok!r}.")
            count_tok, line = take("the channel count")
            if not count_tok.isdigit():
                raise BVHError(f"{where}:{line}: malformed hierarchy: channel count of {name!r} must be a whole "
                               f"number, found {count_tok!r}.")
            ch_list = []
            for _ in range(int(count_tok)):
                c, cline = take(f"{count_tok} channel names for {name!r}")
                m = _CHANNEL.match(c)
                if not m:
                    raise BVHError(f"{where}:{cline}: unknown channel {c!r} on joint {name!r} (CHANNELS {count_tok} "
                                   "declares more names than given, or a name is not one of Xposition, Yposition, "
                                   "Zposition, Xrotation, Yrotation, Zrotation).")
                ch_list.append(m.group(1).upper() + m.group(2).lower())
            ch = tuple(ch_list)
        names.append(name)
        parents.append(parent)
        offsets.append(off)
        channels.append(ch)
        end_site.append(kind == "End")
        stack.append(len(names) - 1)
        # Children, then the closing brace(s).
        while True:
            if pos >= len(toks):
                raise BVHError(f"{where}:{toks[-1][1]}: malformed hierarchy: {len(stack)} joint(s) not closed "
                               "with '}' before MOTION. The file is truncated or its braces do not balance.")
            tok, line = toks[pos]
            up = tok.upper()
            if up == "}":
                pos += 1
                stack.pop()
                if not stack:
                    if pos < len(toks):
                        tok, line = toks[pos]
                        raise BVHError(f"{where}:{line}: unexpected {tok!r} after the root joint closed; "
                                       "only one ROOT per file is supported.")
                    return names, parents, np.asarray(offsets, dtype=np.float64), channels, end_site
                continue
            if up == "JOINT":
                if end_site[stack[-1]]:
                    raise BVHError(f"{where}:{line}: malformed hierarchy: an End Site cannot have children.")
                pos += 1
                kind = "JOINT"
                break
            if up == "END":
                if end_site[stack[-1]]:
                    raise BVHError(f"{where}:{line}: malformed hierarchy: an End Site cannot have children.")
                pos += 1
                site, line = take("'Site'")
                if site.upper() != "SITE":
                    raise BVHError(f"{where}:{line}: malformed hierarchy: expected 'End Site', found 'End {site}'.")
                kind = "End"
                break
            raise BVHError(f"{where}:{line}: malformed hierarchy: expected 'JOINT', 'End Site' or '}}' "
                           f"inside {names[stack[-1]]!r}, found {tok!r}.")


def _header_value(line: str, key: str, where: str, n: int) -> str:
    if not line.strip().lower().startswith(key.lower()):
        raise BVHError(f"{where}:{n}: expected '{key}' here, found {line.strip()[:40]!r}. "
                       "The MOTION section must start with 'Frames: N' and 'Frame Time: seconds'.")
    return line.split(":", 1)[1].strip()


def parse_bvh(text: str, where: str = "<bvh>") -> BVH:
    """Parse BVH text; `where` names the source in error messages."""
    lines = text.splitlines()
    motion_at = next((i for i, l in enumerate(lines) if l.strip().upper() == "MOTION"), None)
    if motion_at is None:
        if not text.strip():
            raise BVHError(f"{where}: the file is empty; expected a BVH file (HIERARCHY ... MOTION ...).")
        raise BVHError(f"{where}:{len(lines)}: no MOTION section; the file is truncated or not a BVH file.")
    names, parents, offsets, channels, end_site = _parse_hierarchy(lines, motion_at, where)
    if len(lines) < motion_at + 3:
        raise BVHError(f"{where}:{len(lines)}: the MOTION section ends before 'Frames:' and 'Frame Time:'; "
                       "the file is truncated.")
    frames_str = _header_value(lines[motion_at + 1], "Frames:", where, motion_at + 2)
    time_str = _header_value(lines[motion_at + 2], "Frame Time:", where, motion_at + 3)
    try:
        num_frames = int(frames_str)
    except ValueError:
        raise BVHError(f"{where}:{motion_at + 2}: 'Frames:' must be a whole number, found {frames_str!r}.") from None
    try:
        frame_time = float(time_str)
    except ValueError:
        raise BVHError(f"{where}:{motion_at + 3}: 'Frame Time:' must be a number, found {time_str!r}.") from None
    if num_frames <= 0:
        raise BVHError(f"{where}:{motion_at + 2}: the file has {num_frames} frames; a motion needs at least one.")
    lo, hi = FRAME_TIME_RANGE_S
    if not (np.isfinite(frame_time) and lo <= frame_time <= hi):
        raise BVHError(f"{where}:{motion_at + 3}: 'Frame Time: {time_str}' must be a positive number of seconds per frame "
                       f"between {lo:g} and {hi:g} (e.g. 0.0333333 for 30 fps); the header is corrupted.")
    if num_frames * frame_time > MAX_DURATION_S:
        raise BVHError(f"{where}:{motion_at + 2}: {num_frames} frames of {frame_time:g} s last "
                       f"{num_frames * frame_time / 3600:.1f} h; clips over {MAX_DURATION_S / 3600:g} h are refused "
                       "(a corrupted header, or split the take into shorter clips).")
    num_channels = sum(len(c) for c in channels)
    first = motion_at + 3  # 0-based index of the first frame line
    frames = _parse_frames(lines, first, num_frames, num_channels, where)
    _check_ranges(frames, names, channels, lines, first, where)
    return BVH(names, parents, offsets, channels, end_site, frame_time, frames, where)


def _parse_frames(lines: list[str], first: int, num_frames: int, num_channels: int, where: str) -> np.ndarray:
    """The MOTION numbers as (T, C); fast path in one numpy call, slow path only to locate an error."""
    body = "\n".join(lines[first:])
    try:
        with warnings.catch_warnings():
            # numpy 1.x warns (2.x may raise) when it stops at a bad token; the slow path then finds the line.
            warnings.simplefilter("ignore")
            values = np.fromstring(body, dtype=np.float64, sep=" ")
    except ValueError:
        values = np.empty(0)
    data_lines = [i for i in range(first, len(lines)) if lines[i].strip()]
    if values.size == num_frames * num_channels and len(data_lines) == num_frames and np.isfinite(values).all():
        return values.reshape(num_frames, num_channels)
    # Something is wrong: walk the lines to report the first bad one precisely.
    for k, i in enumerate(data_lines):
        if k >= num_frames:
            raise BVHError(f"{where}:{i + 1}: more frame lines than 'Frames: {num_frames}' declares; "
                           "fix the Frames count or remove the extra lines.")
        parts = lines[i].split()
        if len(parts) != num_channels:
            raise BVHError(f"{where}:{i + 1}: frame {k} has {len(parts)} values but the hierarchy declares "
                           f"{num_channels} channels; the file is truncated or corrupted.")
        for tok in parts:
            try:
                v = float(tok)
            except ValueError:
                raise BVHError(f"{where}:{i + 1}: frame {k} has a value that is not a number: {tok!r}.") from None
            if not np.isfinite(v):
                raise BVHError(f"{where}:{i + 1}: frame {k} has a non-finite value {tok!r} (NaN or inf); "
                               "re-export the motion.")
    last = data_lines[-1] + 1 if data_lines else first
    raise BVHError(f"{where}:{last}: the file ends after {len(data_lines)} of {num_frames} frames; "
                   "it is truncated (re-export or re-download it).")


def _check_ranges(frames: np.ndarray, names: list[str], channels: list[tuple[str, ...]], lines: list[str],
                  first: int, where: str) -> None:
    """Refuse finite but absurd channel values, naming the line, frame, joint and channel."""
    cols = [(j, c) for j, ch in enumerate(channels) for c in ch]
    if not cols:
        return
    limit = np.array([MAX_POSITION if c.endswith("position") else MAX_ROTATION_DEG for _, c in cols])
    bad = np.abs(frames) > limit
    if not bad.any():
        return
    k, col = map(int, np.argwhere(bad)[0])
    j, c = cols[col]
    line = [i for i in range(first, len(lines)) if lines[i].strip()][k] + 1
    kind = "units" if c.endswith("position") else "degrees"
    raise BVHError(f"{where}:{line}: frame {k}, joint {names[j]!r}, {c} is {frames[k, col]:g}, beyond "
                   f"{limit[col]:g} {kind}; the file is corrupted: re-export the motion.")


def read_bvh(path: str | Path) -> BVH:
    """Read a BVH file (any channel order, 3 or 6 channels per joint); raises BVHError on bad input."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BVHError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # joint names in old exporters; numbers are ASCII either way
    return parse_bvh(text, str(path))


def format_bvh(bvh: BVH, precision: int = 10) -> str:
    """BVH text for `bvh`; numbers with `precision` significant digits (10 reproduces 6-digit sources exactly)."""
    out = ["HIERARCHY"]
    children: dict[int, list[int]] = {}
    for j, p in enumerate(bvh.parents):
        children.setdefault(p, []).append(j)
    fmt = f"%.{precision}g"

    def emit(j: int, depth: int) -> None:
        pad = "  " * depth
        off = " ".join(fmt % v for v in bvh.offsets[j])
        if bvh.end_site[j]:
            out.extend([f"{pad}End Site", f"{pad}{{", f"{pad}  OFFSET {off}", f"{pad}}}"])
            return
        out.append(f"{pad}{'ROOT' if bvh.parents[j] < 0 else 'JOINT'} {bvh.names[j]}")
        out.append(f"{pad}{{")
        out.append(f"{pad}  OFFSET {off}")
        out.append(f"{pad}  CHANNELS {len(bvh.channels[j])} {' '.join(bvh.channels[j])}".rstrip())
        for c in children.get(j, []):
            emit(c, depth + 1)
        out.append(f"{pad}}}")

    for root in children.get(-1, []):
        emit(root, 0)
    out += ["MOTION", f"Frames: {bvh.num_frames}", f"Frame Time: {fmt % bvh.frame_time}"]
    row = " ".join([fmt] * bvh.frames.shape[1])
    out.extend(row % tuple(r) for r in bvh.frames)
    return "\n".join(out) + "\n"


def write_bvh(path: str | Path, bvh: BVH, precision: int = 10) -> None:
    """Write `bvh` to `path` atomically (lavimo_core.atomic)."""
    write_atomic(path, format_bvh(bvh, precision))


def bvh_from_transforms(names: list[str], parents: list[int], offsets: np.ndarray, rotations: np.ndarray,
                        translations: np.ndarray, frame_time: float, end_site: list[bool] | None = None,
                        order: str = "ZXY", root_only_positions: bool = False) -> BVH:
    """A BVH from local rotations (T, J, 4) xyzw and translations (T, J, 3): 6 channels per joint, or with
    `root_only_positions` 3 rotation channels on non-root joints (their translation is then the OFFSET)."""
    T, J = rotations.shape[:2]
    end_site = list(end_site) if end_site is not None else [False] * J
    eul = quat_to_euler(rotations, order, degrees=True)
    rot_names = tuple(f"{a}rotation" for a in order)
    pos_names = ("Xposition", "Yposition", "Zposition")
    channels, cols = [], []
    for j in range(J):
        if end_site[j]:
            channels.append(())
            continue
        with_pos = not root_only_positions or parents[j] < 0
        channels.append((pos_names if with_pos else ()) + rot_names)
        if with_pos:
            cols.append(translations[:, j])
        cols.append(eul[:, j])
    frames = np.concatenate(cols, axis=1) if cols else np.zeros((T, 0))
    return BVH(list(names), list(parents), np.asarray(offsets, dtype=np.float64), channels, end_site,
               float(frame_time), frames)
