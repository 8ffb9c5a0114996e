"""The optional faiss (HNSW) path: same answers as exact search on a small store, dropped when stale."""

from __future__ import annotations

import pytest

from lavimo_core.store import Filters, Store, StoreError, faiss_index
from lavimo_core.store import format as fmt


def test_without_faiss_the_build_explains(make_store, monkeypatch):
    store = make_store()
    monkeypatch.setattr(faiss_index, "available", lambda: False)
    with pytest.raises(StoreError, match="pip install faiss-cpu"):
        store.build_faiss_index()
    assert store.faiss_status() == "none"


def test_faiss_search_matches_exact_and_goes_stale(make_store, bandai_motions, stats):
    pytest.importorskip("faiss")
    store = make_store()
    exact = {mid: [h.motion_id for h in store.search(store.embedding(mid), "motion", k=5)] for mid in store.ids()}
    filtered = store.search(store.embedding(store.ids()[0]), k=10, filters=Filters(labels={"style": "happy"}))
    store.build_faiss_index()
    again = Store.open(store.path)
    assert again.faiss_status() == "ready" and (store.path / fmt.FAISS_FILE).is_file()
    for mid, ids in exact.items():
        assert [h.motion_id for h in again.search(again.embedding(mid), "motion", k=5)] == ids
    assert again._faiss is not None  # the answers above came through the index
    assert [h.motion_id for h in again.search(again.embedding(store.ids()[0]), k=10,
                                              filters=Filters(labels={"style": "happy"}))] == [h.motion_id for h in filtered]
    again.remove([store.ids()[0]])
    assert again.faiss_status() == "none" and not (store.path / fmt.FAISS_FILE).exists()


def test_damaged_faiss_index_falls_back_to_exact(make_store):
    pytest.importorskip("faiss")
    store = make_store()
    want = [h.motion_id for h in store.search(store.embedding(store.ids()[3]), k=5)]
    store.build_faiss_index()
    (store.path / fmt.FAISS_FILE).write_bytes(b"garbage")
    again = Store.open(store.path)
    assert [h.motion_id for h in again.search(again.embedding(store.ids()[3]), k=5)] == want
    assert not again.use_faiss
