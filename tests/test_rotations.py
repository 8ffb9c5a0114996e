"""lavimo_core.rotations (numpy, what the Blender add-on runs) gives scipy Rotation's results on real BVH clips."""

import itertools

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lavimo_core import rotations as rot
from lavimo_core.motion.bvh import read_bvh
from lavimo_core.motion.resample import resample_indices, resample_local
from lavimo_core.paths import find_dataset

# A walk, a spinning kick (three fast turns), a bow (bent over) and a dance.
CLIPS = [find_dataset("bandai-namco-1") / "data" / f"dataset-1_{c}.bvh"
         for c in ("walk_normal_001", "kick_normal_001", "bow_active_001", "dance-short_normal_001")]
SEQUENCES = ["".join(p) for p in itertools.permutations("xyz")] + ["xyx", "zyz", "yzy"]
SEQUENCES += [s.upper() for s in SEQUENCES]


@pytest.fixture(scope="module")
def clips():
    """(euler orders with their angles in degrees, local xyzw quaternions (T*J, 4) from scipy) per real clip."""
    out = []
    for path in CLIPS:
        bvh = read_bvh(path)
        by_order = {}
        for ch, sl in zip(bvh.channels, bvh.channel_slices(), strict=True):
            cols = [sl.start + i for i, c in enumerate(ch) if c.lower().endswith("rotation")]
            if cols:
                order = "".join(ch[i - sl.start][0].upper() for i in cols)
                by_order.setdefault(order, []).append(bvh.frames[:, cols])
        angles = {order: np.concatenate(a) for order, a in by_order.items()}
        quats = np.concatenate([Rotation.from_euler(o, a, degrees=True).as_quat() for o, a in angles.items()])
        out.append((path.name, bvh, angles, quats))
    return out


def _same_angles(a: np.ndarray, b: np.ndarray) -> float:
    """Largest difference between angle arrays, modulo whole turns (pi and -pi are the same angle)."""
    return float(np.abs((a - b + np.pi) % (2 * np.pi) - np.pi).max())


def test_bvh_euler_channels_to_quaternions(clips):
    for _, _, angles, _ in clips:
        for order, a in angles.items():   # ZXY: the order these files write
            np.testing.assert_allclose(rot.euler_to_quat(order, a, degrees=True),
                                       Rotation.from_euler(order, a, degrees=True).as_quat(), rtol=0, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Gimbal lock")
@pytest.mark.parametrize("seq", SEQUENCES)
def test_euler_to_quaternions_every_sequence(seq, clips):
    for _, _, _, q in clips:   # the clips' rotations written as Euler angles in this sequence
        a = Rotation.from_quat(q).as_euler(seq)
        np.testing.assert_allclose(rot.euler_to_quat(seq, a), Rotation.from_euler(seq, a).as_quat(), rtol=0, atol=1e-12)


def test_quaternions_and_matrices(clips):
    for _, _, _, q in clips:
        m = Rotation.from_quat(q).as_matrix()
        np.testing.assert_allclose(rot.quat_to_matrix(q), m, rtol=0, atol=1e-12)
        np.testing.assert_allclose(rot.matrix_to_quat(m), Rotation.from_matrix(m).as_quat(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(rot.matrix_to_quat(m, assume_valid=True),
                                   Rotation.from_matrix(m, assume_valid=True).as_quat(), rtol=0, atol=1e-12)
        # Float drift and scale: both project onto the nearest rotation first.
        skewed = m * 1.001 + np.random.default_rng(0).normal(scale=1e-4, size=m.shape)
        np.testing.assert_allclose(rot.matrix_to_quat(skewed), Rotation.from_matrix(skewed).as_quat(),
                                   rtol=0, atol=1e-12)
        assert rot.matrix_to_quat(m[:0]).shape == (0, 4)


def test_rotation_vectors_products_and_inverses(clips):
    for _, _, _, q in clips:
        r = Rotation.from_quat(q)
        np.testing.assert_allclose(rot.quat_to_rotvec(q), r.as_rotvec(), rtol=0, atol=1e-12)
        v = r.as_rotvec() * np.random.default_rng(1).choice([1e-6, 1e-3, 0.5, 1.0], size=(len(q), 1))
        np.testing.assert_allclose(rot.rotvec_to_quat(v), Rotation.from_rotvec(v).as_quat(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(rot.rotvec_to_matrix(v), Rotation.from_rotvec(v).as_matrix(), rtol=0, atol=1e-12)
        m = r.as_matrix()
        np.testing.assert_allclose(rot.matrix_to_rotvec(m), Rotation.from_matrix(m).as_rotvec(), rtol=0, atol=1e-12)
        p = np.roll(q, 7, axis=0)
        np.testing.assert_allclose(rot.quat_multiply(p, q), (Rotation.from_quat(p) * r).as_quat(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(rot.quat_inverse(q), r.inv().as_quat(), rtol=0, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Gimbal lock")  # scipy warns there; the comparison is what matters
@pytest.mark.parametrize("seq", SEQUENCES)
def test_quaternions_to_euler_every_sequence(seq, clips):
    for _, _, _, q in clips:
        assert _same_angles(rot.quat_to_euler(q, seq), Rotation.from_quat(q).as_euler(seq)) < 1e-12
    # Gimbal lock (middle angle 0 or 90 degrees): scipy sets the third angle to 0; so do we.
    a = np.random.default_rng(2).uniform(-180, 180, size=(200, 3))
    a[:, 1] = (0.0 if seq[0].lower() == seq[2].lower() else 90.0) * np.sign(a[:, 1] + 0.5)
    q = Rotation.from_euler(seq, a, degrees=True).as_quat()
    assert _same_angles(rot.quat_to_euler(q, seq), Rotation.from_quat(q).as_euler(seq)) < 1e-12


def test_resampling_slerps_as_scipy(clips):
    for _, bvh, _, _ in clips:
        quats, trans = bvh.local_transforms()
        out, _ = resample_local(quats, trans, 1.0 / bvh.frame_time, 20.0)
        # Reference: scipy's slerp r0 * exp(w * log(r0^-1 r1)) at the same frames and weights.
        i0, frac = resample_indices(len(quats), 1.0 / bvh.frame_time, 20.0)
        i1 = np.minimum(i0 + 1, len(quats) - 1)
        r0, r1 = Rotation.from_quat(quats[i0].reshape(-1, 4)), Rotation.from_quat(quats[i1].reshape(-1, 4))
        w = np.repeat(frac, quats.shape[1])[:, None]
        want = (r0 * Rotation.from_rotvec((r0.inv() * r1).as_rotvec() * w)).as_matrix()
        np.testing.assert_allclose(rot.quat_to_matrix(out.reshape(-1, 4)), want, rtol=0, atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="zero-norm"):
        rot.quat_to_matrix(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="non-positive determinant"):
        rot.matrix_to_quat(-np.eye(3)[None])
    for seq in ("", "xyzx", "xXz", "xxz", "abc"):
        with pytest.raises(ValueError, match="Euler sequence"):
            rot.euler_to_quat(seq, np.zeros(3))
    with pytest.raises(ValueError, match="Euler sequence 'xy': 3 of x, y, z"):
        rot.quat_to_euler(np.array([0.0, 0.0, 0.0, 1.0]), "xy")


@pytest.mark.parametrize("seq", ["Z", "y", "ZY", "xz"])
def test_fewer_than_three_euler_axes(seq, clips):
    """A BVH joint may carry one or two rotation channels: as scipy, the missing turns are zero."""
    a = np.random.default_rng(3).uniform(-180, 180, size=(500, len(seq)))
    np.testing.assert_allclose(rot.euler_to_quat(seq, a, degrees=True),
                               Rotation.from_euler(seq, a, degrees=True).as_quat(), rtol=0, atol=1e-12)
