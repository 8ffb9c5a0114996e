"""`lavimo index`, `lavimo search` and `lavimo info` as a user runs them: output, JSON, and every bad input."""

from __future__ import annotations

import json
import shutil

import pytest

from lavimo_core.cli import main
from lavimo_core.paths import find_dataset


def lavimo(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def bvh_folder(tmp_path_factory):
    """A user's folder of four real BVH files."""
    folder = tmp_path_factory.mktemp("my_mocap")
    src = sorted((find_dataset("bandai-namco-1") / "data").glob("*.bvh"))
    for f in (src[0], src[40], src[80], src[120]):
        shutil.copy(f, folder / f.name)
    return folder


@pytest.fixture(scope="module")
def other_model(trained_model, tmp_path_factory):
    """A different model: the trained checkpoint with one weight tensor changed (so another weights hash)."""
    from safetensors.numpy import load_file, save_file

    folder = tmp_path_factory.mktemp("other") / "ckpt"
    shutil.copytree(trained_model, folder)
    weights = load_file(folder / "model.safetensors")
    name = sorted(weights)[0]
    weights[name] = weights[name] + 0.01
    save_file(weights, folder / "model.safetensors")
    return folder


def test_search_prints_a_ranked_table(capsys, built_store):
    rc, out, err = lavimo(capsys, "search", "a person bows", "--store", built_store, "-k", "5")
    assert rc == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split()[:4] == ["#", "motion", "cosine", "P(match)"]
    assert [ln.split()[0] for ln in lines[1:6]] == ["1", "2", "3", "4", "5"]
    assert "%" in lines[1]
    assert any(ln.startswith("P(library has a match): ") and "no good match" not in ln for ln in lines)


def test_search_says_when_the_library_probably_has_no_match(capsys, built_store):
    # Against the walks alone, a bow has no good match: the line says how likely a match is, and why it is flagged.
    rc, out, err = lavimo(capsys, "search", "a person bows", "--store", built_store, "--label", "content=walk")
    assert rc == 0, err
    line = next(ln for ln in out.splitlines() if ln.startswith("P(library has a match): "))
    assert float(line.split()[4].rstrip("%")) < 50 and "no good match in this library" in line
    rc, out, _ = lavimo(capsys, "search", "a person bows", "--store", built_store, "--label", "content=walk", "--json")
    data = json.loads(out)
    assert data["no_match"] and 0 <= data["library_probability"] < 0.5


def test_search_json(capsys, built_store):
    rc, out, _ = lavimo(capsys, "search", "a person walks", "--store", built_store, "-k", "3", "--json")
    data = json.loads(out)
    assert rc == 0 and data["ok"] and len(data["hits"]) == 3
    assert {"motion_id", "score", "probability", "duration", "labels", "folded", "is_match"} <= set(data["hits"][0])
    assert 0.5 <= data["library_probability"] <= 1 and not data["no_match"]


def test_search_with_filters_and_similar(capsys, built_store):
    rc, out, _ = lavimo(capsys, "search", "a person walks", "--store", built_store, "--label", "content=bow",
                        "--max-duration", "10", "--json", "-k", "50")
    hits = json.loads(out)["hits"]
    assert rc == 0 and hits and all(h["labels"]["content"] == "bow" and h["duration"] <= 10 for h in hits)
    rc, out, _ = lavimo(capsys, "search", "--store", built_store, "--similar", hits[0]["motion_id"], "--json")
    assert rc == 0 and hits[0]["motion_id"] not in [h["motion_id"] for h in json.loads(out)["hits"]]


def test_search_by_motion_file(capsys, built_store, bvh_folder):
    f = sorted(bvh_folder.glob("*.bvh"))[1]
    rc, out, _ = lavimo(capsys, "search", "--store", built_store, "--motion", f, "-k", "3", "--json")
    assert rc == 0 and len(json.loads(out)["hits"]) == 3


@pytest.mark.parametrize("argv,message", [
    (["search", "   "], "prompt is empty"),
    (["search"], "nothing to search for"),
    (["search", "walk", "-k", "0"], "-k must be at least 1"),
    (["search", "walk", "--label", "content="], "KEY=VALUE"),
    (["search", "--video", "/no/such/clip.mp4"], "clip.mp4"),
    (["search", "--similar", "no-such-id"], "no motion 'no-such-id'"),
])
def test_search_bad_input_gives_a_clear_error(capsys, built_store, argv, message):
    rc, out, err = lavimo(capsys, *argv, "--store", built_store)
    assert rc == 2 and message in err and "Traceback" not in err


def test_missing_and_corrupt_store(capsys, built_store, tmp_path):
    rc, _, err = lavimo(capsys, "search", "walk", "--store", tmp_path / "nope")
    assert rc == 2 and "lavimo index" in err
    broken = tmp_path / "broken"
    shutil.copytree(built_store, broken)
    (broken / "store.json").write_text("{")
    rc, _, err = lavimo(capsys, "info", broken)
    assert rc == 2 and "store.json is unreadable" in err


def test_model_mismatch(capsys, built_store, other_model):
    rc, _, err = lavimo(capsys, "search", "walk", "--store", built_store, "--model", other_model)
    assert rc == 2 and "not comparable" in err and "lavimo index" in err


def test_info(capsys, built_store):
    rc, out, _ = lavimo(capsys, "info", built_store, "--verify")
    assert rc == 0 and "motions    174" in out and "CC BY-NC 4.0" in out and "verified" in out
    rc, out, _ = lavimo(capsys, "info", built_store, "--json")
    assert rc == 0 and json.loads(out)["motions"] == 174


def test_index_append_remove(capsys, trained_model, bvh_folder, tmp_path):
    out = tmp_path / "mine"
    files = sorted(bvh_folder.glob("*.bvh"))
    rc, text, err = lavimo(capsys, "index", bvh_folder, "--model", trained_model, "--out", out)
    assert rc == 0, err and "4 motions" in text
    rc, _, err = lavimo(capsys, "index", bvh_folder, "--model", trained_model, "--out", out)
    assert rc == 2 and "--append" in err
    extra = tmp_path / "extra.bvh"
    shutil.copy(sorted((find_dataset("bandai-namco-1") / "data").glob("*.bvh"))[7], extra)
    rc, text, _ = lavimo(capsys, "index", extra, "--model", trained_model, "--out", out, "--append")
    assert rc == 0 and "5 motions (1 added" in text
    rc, text, _ = lavimo(capsys, "index", "--out", out, "--remove", files[0].stem, "--compact")
    assert rc == 0 and "4 left" in text
    rc, text, _ = lavimo(capsys, "search", "a person walks", "--store", out, "--json")  # model path recorded
    assert rc == 0 and files[0].stem not in text


def test_index_bad_input(capsys, trained_model, tmp_path):
    rc, _, err = lavimo(capsys, "index", tmp_path / "nothing-here", "--model", trained_model, "--out", tmp_path / "s")
    assert rc == 2 and "nothing-here" in err and not (tmp_path / "s").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, _, err = lavimo(capsys, "index", empty, "--model", trained_model, "--out", tmp_path / "s")
    assert rc == 2 and not (tmp_path / "s").exists()
    rc, _, err = lavimo(capsys, "index", "--out", tmp_path / "s")
    assert rc == 2 and "needs SOURCE" in err


def test_index_without_model_uses_the_store_s_or_the_shipped_one(capsys, trained_model, bvh_folder, tmp_path,
                                                                monkeypatch):
    """A new user's `lavimo index FOLDER --out STORE` needs no --model: the shipped default model is used and
    named; appending to a store uses the model it was built with (the shipped one would not be comparable)."""
    from lavimo_core.demo import shipped
    from lavimo_core.store import format as fmt

    files = sorted(bvh_folder.glob("*.bvh"))
    rc, text, err = lavimo(capsys, "index", files[0], "--out", tmp_path / "default")
    assert rc == 0, err
    assert "shipped default model" in err and "1 motions" in text
    assert fmt.read_manifest(tmp_path / "default")["model"]["path"] == str(shipped.SHIPPED_DIR)
    rc, _, err = lavimo(capsys, "index", files[0], "--model", trained_model, "--out", tmp_path / "mine")
    assert rc == 0, err
    rc, text, err = lavimo(capsys, "index", files[1], "--out", tmp_path / "mine", "--append")
    assert rc == 0, err
    assert "2 motions (1 added" in text and "shipped" not in err
    monkeypatch.setattr(shipped, "SHIPPED_DIR", tmp_path / "no-model-here")
    rc, _, err = lavimo(capsys, "index", files[0], "--out", tmp_path / "s")
    assert rc == 2 and "--model" in err and "SHA256SUMS is missing" in err and not (tmp_path / "s").exists()


def test_search_help_explains_the_library_probability(capsys):
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "P(library has a match): the model's calibrated probability" in help_text
