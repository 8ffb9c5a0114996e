"""The shipped default model (models/default, written by `make model`): files match their recorded hashes,
load, embed, and say where their data comes from. Skipped, saying so, while no model is committed."""

import json

import numpy as np
import pytest

from tools.make_model import OUT, RECIPE, SHIPPED, check, read_sums, recipe_config

shipped = pytest.mark.skipif(not (OUT / "SHA256SUMS").is_file(),
                             reason="no shipped model committed yet: run `make model` (see tools/make_model.py)")


def test_recipe_trains_on_both_datasets_without_a_wall_clock_cap():
    cfg = recipe_config()
    assert cfg.train.dataset == "bandai-namco-1+bandai-namco-2-dev"
    assert cfg.train.max_minutes == 0 and cfg.train.threads > 0 and cfg.train.seed == 0
    assert recipe_config("cuda").train.device == "cuda" and RECIPE["preset"] == cfg.preset


def test_check_reports_missing_and_changed_files(tmp_path):
    assert "SHA256SUMS is missing" in check(tmp_path)[0]
    for name in SHIPPED:
        (tmp_path / name).write_text(name)
    import hashlib
    (tmp_path / "SHA256SUMS").write_text("".join(f"{hashlib.sha256(n.encode()).hexdigest()}  {n}\n" for n in SHIPPED))
    assert check(tmp_path) == [] and set(read_sums(tmp_path)) == set(SHIPPED)
    (tmp_path / "config.json").write_text("changed")
    assert check(tmp_path) == [f"{tmp_path / 'config.json'}: sha256 differs from SHA256SUMS (changed after `make model`?)"]


@shipped
def test_shipped_files_match_their_hashes():
    assert check() == []


@shipped
def test_shipped_model_loads_and_embeds():
    from lavimo_core.model.embedder import Embedder
    emb = Embedder.from_checkpoint(OUT)
    t = emb.embed_text(["a person raises the left hand", "a person raises the right hand"])
    assert t.shape == (2, emb.dim) and np.allclose(np.linalg.norm(t, axis=1), 1, atol=1e-5)
    assert json.loads((OUT / "metrics.json").read_text())["recipe"] == RECIPE
    assert "CC BY-NC 4.0" in (OUT / "DATA_LICENSE.md").read_text()
    assert (OUT / "model.safetensors").stat().st_size < 20 * 2 ** 20


@shipped
def test_shipped_model_knows_the_wording_of_its_actions_and_not_of_others():
    """The wording check (model/known_wording.py) on prompts for actions the datasets hold, in words of no training
    caption, and on actions no training clip shows (none of them are bench queries)."""
    from lavimo_core.model.embedder import Embedder
    emb = Embedder.from_checkpoint(OUT)
    known = ["a person strolls across the room", "someone waves at a friend with one hand",
             "a man bows deeply", "a woman jogs down the road", "a person throws a few punches"]
    # Not "a person plays the piano": its nearest training caption is a wave "like in a musical" (cosine 0.84), so
    # it passes this check (README says so).
    unknown = ["someone types on a keyboard", "a chef chops vegetables", "a person brushes their teeth",
               "someone knits a scarf"]
    verdict = {t: emb.calibration.knows_wording(e) for t, e in zip(known + unknown, emb.embed_text(known + unknown))}
    assert all(verdict[t] for t in known), verdict
    assert not any(verdict[t] for t in unknown), verdict
