"""Child process of the fault-injection tests: runs store operations, killing itself (SIGKILL) at the N-th file event.

    python fault_child.py SPEC.json

SPEC: {"store": path, "src": source store (motions and their embeddings), "kill_at": N or 0 (never),
       "journal": path, "ops": [["append", [ids]], ["overwrite", [ids]], ["remove", [ids]], ["compact"]]}
A file event is a call of os.replace/rename/mkdir/rmdir/unlink/link/fsync or shutil.rmtree (counted before
and after each), so N picks a point between any two steps of a write. The journal gets one JSON line when
an operation starts and one with the store's ids when it is done.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path


def arm(kill_at: int) -> list[int]:
    """Count file events; SIGKILL this process at event number `kill_at` (0: never)."""
    count = [0]

    def tick() -> None:
        count[0] += 1
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(module, name: str) -> None:
        real = getattr(module, name)

        def counted(*args, **kwargs):
            tick()
            out = real(*args, **kwargs)
            tick()
            return out

        setattr(module, name, counted)

    for name in ("replace", "rename", "mkdir", "rmdir", "unlink", "link", "fsync"):
        wrap(os, name)
    wrap(shutil, "rmtree")
    return count


class SourceEmbedder:
    """Embeds a motion by looking up its stored embedding in the source store (its mirror by the "~mirror" name)."""

    def __init__(self, src):
        self.src = src
        self.model_id, self.weights_hash, self.dim = src.model.model_id, src.model.weights_hash, src.model.dim
        self.calibration = None

    def embed_motion(self, motions):
        import numpy as np
        return np.stack([self.src.embedding(m.name.removesuffix("~mirror"), mirror=m.name.endswith("~mirror"))
                         for m in motions])


def run(spec: dict) -> None:
    from lavimo_core.store import Store, StoreError
    from lavimo_core.store.build import build_store

    src = Store.open(spec["src"])
    embedder = SourceEmbedder(src)
    out = Path(spec["store"])
    journal = open(spec["journal"], "a", encoding="utf-8")

    def log(**entry) -> None:
        journal.write(json.dumps(entry) + "\n")
        journal.flush()  # a SIGKILL loses nothing the OS already has

    count = arm(int(spec.get("kill_at", 0)))
    for op in spec["ops"]:
        log(start=op)
        try:
            if op[0] in ("append", "overwrite"):
                motions = [src.motion(i) for i in op[1]]
                build_store(motions, embedder, out, append=op[0] == "append", overwrite=op[0] == "overwrite", chunk=2)
            elif op[0] == "remove":
                store = Store.open(out)
                store.remove([i for i in op[1] if i in store])
            elif op[0] == "compact":
                Store.open(out).compact()
        except StoreError as exc:  # e.g. busy: refused with a message, nothing changed
            log(refused=op, error=str(exc))
            continue
        log(done=op, ids=Store.open(out).ids())
    log(events=count[0])


if __name__ == "__main__":
    run(json.loads(Path(sys.argv[1]).read_text()))
