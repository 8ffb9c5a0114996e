"""Fault injection on small stores of real Bandai-Namco clips: kills, concurrent writers, damaged files, edited manifests.

After each fault the store opens, or is refused with a StoreError saying what is wrong (never another
exception); nothing is duplicated; nothing that was committed is lost; the next write works and leaves no
debris. Trial counts are fixed and seeded so a failure reproduces; each trial is a few hundred milliseconds.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lavimo_core.store import Store, StoreError, faiss_index  # noqa: F401  (damage tests below)
from lavimo_core.store import format as fmt

CHILD = Path(__file__).with_name("fault_child.py")
ROOT = Path(__file__).resolve().parents[2]
KILL_TRIALS = 64
CONCURRENT_TRIALS = 24
N_BASE = 3


@pytest.fixture(scope="module")
def source(tmp_path_factory, bandai_motions, stats):
    """A store of 7 real clips with their embeddings: what the children add from."""
    root = tmp_path_factory.mktemp("faults") / "src"
    motions = sorted(bandai_motions, key=lambda m: m.num_frames)[:7]
    store = Store.create(root, stats.identity)
    emb, mir = stats.embed(motions)
    store.add(motions, embeddings=emb, mirror_embeddings=mir)
    return store


@pytest.fixture(scope="module")
def base_store(source, tmp_path_factory):
    """A committed store of the first N_BASE source motions, built through the child (copied per trial)."""
    root = tmp_path_factory.mktemp("base")
    spec = {"store": str(root / "lib"), "src": str(source.path), "journal": str(root / "journal"),
            "ops": [["append", source.ids()[:N_BASE]]]}
    assert _child(root, spec).returncode == 0
    return root / "lib"


def _child(folder: Path, spec: dict, wait: bool = True):
    path = folder / f"spec-{random.random()}.json"
    path.write_text(json.dumps(spec))
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen([sys.executable, str(CHILD), str(path)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if not wait:
        return proc
    out, err = proc.communicate(timeout=120)
    proc.stdout, proc.stderr = out, err
    return proc


def _journal(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def check_store(out: Path, source: Store) -> list[str]:
    """Open `out` and check every invariant; return its ids."""
    store = Store.open(out)
    ids = store.ids()
    sources = [store.record(i).source.path for i in ids]
    assert len(set(sources)) == len(sources), f"duplicated motions in {out}: {ids}"
    for i in ids:
        m, want = store.motion(i), source.motion(i)
        np.testing.assert_array_equal(m.joints, want.joints)
        np.testing.assert_allclose(store.embedding(i), source.embedding(i), atol=1e-6)
    return ids


def assert_no_debris(out: Path) -> None:
    listed = {s["name"] for s in fmt.read_manifest(out)["segments"]}
    assert {p.name for p in (out / "segments").iterdir()} == listed
    assert not [p.name for p in out.iterdir() if p.name.startswith(".tmp-")]
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith((out.name, f".{out.name}"))) == [out.name]


def _random_ops(rng: random.Random, ids: list[str]) -> list[list]:
    ops = []
    for _ in range(3):
        kind = rng.choice(["append", "append", "remove", "compact", "overwrite"])
        if kind in ("append", "overwrite"):
            ops.append([kind, rng.sample(ids, rng.randint(2, len(ids)))])
        elif kind == "remove":
            ops.append([kind, rng.sample(ids, rng.randint(1, 3))])
        else:
            ops.append([kind])
    return ops


def _allowed(before: set[str], op: list) -> list[set[str]] | None:
    """Id sets the store may hold after `op` ran on `before`, interrupted or not (None: any subset in between)."""
    if op[0] == "remove":
        return [before, before - set(op[1])]
    if op[0] == "compact":
        return [before]
    if op[0] == "overwrite":
        return [before, set(op[1])]
    return None  # append commits chunk by chunk: before <= ids <= before | op ids


def test_kill_at_random_points_of_build_append_remove_compact(tmp_path, source, base_store, record_property):
    """>= 50 kill -9 trials at random file events of random operation sequences; seeded, so they reproduce."""
    rng = random.Random(17)
    killed = 0
    for trial in range(KILL_TRIALS):
        folder = tmp_path / f"t{trial}"
        folder.mkdir()
        out = folder / "lib"
        fresh = trial % 4 == 0  # a quarter start with no store: the first append is a new build
        if not fresh:
            shutil.copytree(base_store, out)
        ops = _random_ops(rng, source.ids())
        if fresh:
            ops[0] = ["append", ops[0][1] if ops[0][0] in ("append", "overwrite") else source.ids()[:4]]
        spec = {"store": str(out), "src": str(source.path), "journal": str(folder / "journal"), "ops": ops,
                "kill_at": rng.randint(1, 70)}
        proc = _child(folder, spec)
        journal = _journal(folder / "journal")
        was_killed = proc.returncode == -9
        killed += was_killed
        assert was_killed or proc.returncode == 0, (trial, proc.stderr[-2000:])
        committed = set() if fresh else set(source.ids()[:N_BASE])
        in_flight = None
        for entry in journal:
            if "start" in entry:
                in_flight = entry["start"]
            elif "done" in entry:
                committed, in_flight = set(entry["ids"]), None
        context = f"trial {trial}: ops {ops}, kill at {spec['kill_at']}, in flight {in_flight}"
        if not (out / fmt.MANIFEST).exists():
            assert not committed, f"{context}: committed motions lost, no store at {out}"
            actual = set()
        else:
            actual = set(check_store(out, source))
        if in_flight is None:
            assert actual == committed, context
        else:
            allowed = _allowed(committed, in_flight)
            if allowed is None:
                assert committed <= actual <= committed | set(in_flight[1]), f"{context}: {sorted(actual)}"
            else:
                assert actual in allowed, f"{context}: {sorted(actual)}"
            # Recovery: the interrupted operation, run again, completes and leaves no debris.
            redo = _child(folder, dict(spec, kill_at=0, ops=[in_flight]))
            assert redo.returncode == 0, (context, redo.stderr[-2000:])
            final = set(check_store(out, source))
            want = _allowed(committed, in_flight)
            expected = (committed | set(in_flight[1])) if want is None else want[-1]
            assert final == expected, f"{context}: after redo {sorted(final)}"
            assert_no_debris(out)
        shutil.rmtree(folder)
    record_property("kill_trials", KILL_TRIALS)
    record_property("killed", killed)
    print(f"kill -9 trials: {KILL_TRIALS}, killed mid-operation: {killed}")
    assert killed >= 50


def test_a_store_opened_while_a_writer_drops_a_segment_reads_the_new_manifest(tmp_path, base_store, monkeypatch):
    """A reader holds no lock: when a writer commits and deletes a segment between the reader's manifest and its
    segment files, the reader reads the new manifest instead of calling the store damaged (seen in CI)."""
    out = tmp_path / "lib"
    shutil.copytree(base_store, out)
    writer = Store.open(out)
    dropped = writer._manifest["segments"][0]["name"]
    doomed = [r.id for r, seg in zip(writer._rows.records, writer._rows.segments, strict=True) if seg == dropped]
    real, raced = fmt.read_segment, []

    def racing(root, segment, *args, **kwargs):
        if not raced:                      # the writer commits between the reader's manifest and segments
            raced.append(segment["name"])
            writer.remove(doomed)
        return real(root, segment, *args, **kwargs)

    monkeypatch.setattr(fmt, "read_segment", racing)
    reader = Store.open(out)
    assert raced == [dropped] and not fmt.segment_dir(out, dropped).exists()
    assert set(reader.ids()) == set(writer.ids()) and not set(doomed) & set(reader.ids())


def test_damage_is_still_reported_when_the_manifest_did_not_change(tmp_path, base_store):
    out = tmp_path / "lib"
    shutil.copytree(base_store, out)
    name = fmt.read_manifest(out)["segments"][0]["name"]
    (fmt.segment_dir(out, name) / "motions.safetensors").unlink()
    with pytest.raises(fmt.StoreCorruptError, match="motions.safetensors is missing"):
        Store.open(out)


def test_concurrent_appends_and_removes(tmp_path, source, base_store):
    """Two processes append the same motions (or remove overlapping ones) at once: no duplicates, nothing lost."""
    rng = random.Random(18)
    ids = source.ids()
    tally = {"writes done": 0, "refused with a message": 0}
    for trial in range(CONCURRENT_TRIALS):
        folder = tmp_path / f"c{trial}"
        folder.mkdir()
        out = folder / "lib"
        shutil.copytree(base_store, out)
        if trial % 2 == 0:
            ops = [[["append", ids]], [["append", ids]]]
        else:
            ops = [[["remove", rng.sample(ids[:N_BASE], 2)]], [["remove", rng.sample(ids[:N_BASE], 2)]]]
        procs = [_child(folder, {"store": str(out), "src": str(source.path), "journal": str(folder / f"j{k}"),
                                 "ops": o}, wait=False) for k, o in enumerate(ops)]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err[-2000:]
        actual = set(check_store(out, source))
        done = [e for k in range(2) for e in _journal(folder / f"j{k}") if "done" in e]
        refused = [e for k in range(2) for e in _journal(folder / f"j{k}") if "refused" in e]
        # A remove that finds its motions just removed by the other process is refused whole, with a message.
        assert all("another process" in e["error"] or "nothing removed" in e["error"] for e in refused), refused
        assert done, f"trial {trial}: both writers were refused"
        tally["writes done"] += len(done)
        tally["refused with a message"] += len(refused)
        if trial % 2 == 0:
            assert actual == set(ids), f"trial {trial}: {sorted(actual)}"
        else:
            removed = set().union(*(set(e["done"][1]) for e in done))
            assert actual == set(ids[:N_BASE]) - removed, f"trial {trial}: {sorted(actual)}"
        assert_no_debris(out)
        shutil.rmtree(folder)
    print(f"concurrent trials: {CONCURRENT_TRIALS}, {tally}")


# ---------------------------------------------------------------- damaged files and edited manifests

DAMAGE_PER_FILE = 24
MANIFEST_EDITS = 240


@pytest.fixture(scope="module")
def damaged_base(source, tmp_path_factory):
    """Two segments, one motion removed: every kind of manifest entry and segment file is present."""
    root = tmp_path_factory.mktemp("damage") / "lib"
    store = Store.create(root, source.model)
    for ids in (source.ids()[:3], source.ids()[3:6]):
        store.add([source.motion(i) for i in ids], embeddings=np.stack([source.embedding(i) for i in ids]),
                  mirror_embeddings=np.stack([source.embedding(i, mirror=True) for i in ids]))
    store.remove([source.ids()[1]])
    if faiss_index.available():
        store.build_faiss_index()
    return root


def _outcome(root: Path, original: Store) -> str:
    """'refused' (a StoreError), or 'intact' when the store opens, verifies and holds exactly the original data."""
    try:
        store = Store.open(root)
        store.verify()
        store.search(original.embedding(original.ids()[0]), "motion", k=3)
    except StoreError:
        return "refused"
    assert store.ids() == original.ids(), "opened and verified, but with other motions"
    exact = Store.open(root)
    exact.use_faiss = False  # a damaged faiss index must not change what a search returns
    q = original.embedding(original.ids()[-1])
    assert [h.motion_id for h in store.search(q, "motion", k=4)] == [h.motion_id for h in exact.search(q, "motion", k=4)]
    for i in store.ids():
        np.testing.assert_array_equal(store.embedding(i), original.embedding(i))
        np.testing.assert_array_equal(store.motion(i).joints, original.motion(i).joints)
    return "intact"


def test_bit_flips_and_truncations_of_every_store_file(tmp_path, damaged_base, record_property):
    """Every file: random bit flips and truncations are refused with a StoreError, or change nothing that is read."""
    original = Store.open(damaged_base)
    files = [p.relative_to(damaged_base) for p in sorted(damaged_base.rglob("*")) if p.is_file() and p.stat().st_size]
    assert len(files) == 7 + faiss_index.available()  # store.json + 2 segments x 3 files (+ faiss.index)
    rng = random.Random(19)
    counts = {"refused": 0, "intact": 0}
    for rel in files:
        for case in range(DAMAGE_PER_FILE):
            root = tmp_path / f"{rel.name}-{case}" / "lib"
            shutil.copytree(damaged_base, root)
            data = bytearray((root / rel).read_bytes())
            if case % 4 == 3:
                data = data[:rng.randrange(len(data))]
            else:
                for _ in range(rng.randint(1, 4)):
                    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            (root / rel).write_bytes(bytes(data))
            try:
                counts[_outcome(root, original)] += 1
            except AssertionError as exc:
                raise AssertionError(f"{rel} case {case}: {exc}") from None
            shutil.rmtree(root.parent)
    record_property("damage_cases", sum(counts.values()))
    print(f"bit flips and truncations: {sum(counts.values())} cases over {len(files)} files, {counts}")
    # A damaged faiss.index is never refused: it is ignored and search is exact (checked in _outcome).
    assert counts["refused"] >= 0.9 * 7 * DAMAGE_PER_FILE


def _edit(m: dict, rng: random.Random) -> None:
    """One random structural edit somewhere in the manifest tree."""
    values = [None, -1, 0, 1, 7, 1e308, -1e308, True, "", "../x", "/etc", "000001", "000009", "..", [], {}, [1],
              {"a": 1}, "x" * 1000, "float16", "lavimo-store", ["../../victim"], 2 ** 63]
    node, path = m, []
    while isinstance(node, (dict, list)) and node and rng.random() < 0.75:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if not path:
        key = rng.choice(list(m))
        path.append((m, key))
    parent, key = path[-1]
    action = rng.randrange(4)
    if action == 0 and isinstance(parent, dict):
        del parent[key]
    elif action == 1 and isinstance(parent, list):
        parent.append(parent[key])  # duplicated entry
    else:
        parent[key] = rng.choice(values)


def test_random_manifest_edits(tmp_path, damaged_base, source, record_property):
    """Random edits of store.json: opened, or refused; a write afterwards deletes no segment and never leaves the store."""
    original = Store.open(damaged_base)
    manifest = json.loads((damaged_base / "store.json").read_text())
    rng = random.Random(20)
    counts = {"refused": 0, "intact": 0, "edited view": 0}
    segment_names = [seg["name"] for seg in manifest["segments"]]
    for case in range(MANIFEST_EDITS):
        folder = tmp_path / f"e{case}"
        root = folder / "lib"
        shutil.copytree(damaged_base, root)
        victim = folder / "victim" / "segments" / "000001"  # what a "../" name would reach
        victim.mkdir(parents=True)
        (victim / "keep.txt").write_text("mine")
        m = json.loads(json.dumps(manifest))
        for _ in range(rng.randint(1, 3)):
            _edit(m, rng)
        (root / "store.json").write_text(json.dumps(m))
        extra = source.ids()[6]
        try:
            store = Store.open(root)
            store.verify()
            ids = store.ids()
            store.add([source.motion(extra)], embeddings=source.embedding(extra)[None],
                      mirror_embeddings=source.embedding(extra, mirror=True)[None])
        except StoreError:
            counts["refused"] += 1
        else:
            # Edits of fields that do not describe the data (timestamps, version strings) are harmless; an edit
            # that drops a segment or a "removed" id shows other motions, but never invents or deletes any.
            counts["intact" if ids == original.ids() else "edited view"] += 1
            assert set(ids) <= set(source.ids()[:6]), f"case {case}: {ids}"
        assert all((root / "segments" / n).is_dir() for n in segment_names), f"case {case}: a segment was deleted: {m}"
        assert (victim / "keep.txt").read_text() == "mine", f"case {case}: a write reached outside the store: {m}"
        shutil.rmtree(folder)
    record_property("manifest_edits", MANIFEST_EDITS)
    print(f"manifest edits: {MANIFEST_EDITS} cases, {counts}")
    assert counts["refused"] > counts["intact"] > counts["edited view"]
