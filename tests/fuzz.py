"""The loop every fuzz test runs: mutate a real input, read it, sort each case into accepted / refused / bug."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def fuzz(sources: Sequence[Any], mutate: Callable[[Any, random.Random], bytes], read: Callable[[Path], Any],
         refusal: type[Exception], check: Callable[[Any], str | None], folder: Path, suffix: str, cases: int,
         seed: int) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Counts of read/refused cases and the failures: a refusal that does not name the file, any other
    exception, or a read result that `check` says is wrong (it returns what is wrong, or None)."""
    rng = random.Random(seed)
    outcomes, failures = {"read": 0, "refused": 0}, []
    for case in range(cases):
        path = folder / f"case{case}{suffix}"
        path.write_bytes(mutate(rng.choice(sources), rng))
        try:
            result = read(path)
        except refusal as exc:
            outcomes["refused"] += 1
            if str(path) not in str(exc):
                failures.append((case, f"message does not name the file: {exc}"))
        except Exception as exc:  # noqa: BLE001 - the point of a fuzz: anything else is a bug
            failures.append((case, f"{type(exc).__name__}: {exc}"))
        else:
            outcomes["read"] += 1
            problem = check(result)
            if problem:
                failures.append((case, problem))
        path.unlink()
    return outcomes, failures
