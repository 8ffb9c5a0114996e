"""Run every benchmark in bench/ and write BENCHMARKS.md (machine, date, each figure beside its same-run baseline).

A benchmark is a module `bench/bench_<area>.py` with `TITLE` and `run() -> str` (a markdown section).
`python bench/run_all.py [area ...]` runs all or some; sections not rerun are kept from the previous file.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import platform
import re
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
OUT = BENCH_DIR.parent / "BENCHMARKS.md"


def machine() -> str:
    """One line describing this machine: CPU model, cores used, memory, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kb / 1024 ** 2:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    return f"{cpu}, {len(os.sched_getaffinity(0))} cores{mem}, Python {platform.python_version()}, {platform.system()}"


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module     # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def _previous_sections() -> dict[str, str]:
    if not OUT.exists():
        return {}
    sections, current, buf = {}, None, []
    for line in OUT.read_text().splitlines(keepends=True):
        m = re.match(r"<!-- bench:(\w+) -->", line)
        if m:
            current, buf = m.group(1), []
            sections[current] = buf
        elif current is not None:
            buf.append(line)
    return {k: "".join(v).strip() + "\n" for k, v in sections.items()}


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all when none are named) and rewrite BENCHMARKS.md."""
    sys.path.insert(0, str(BENCH_DIR.parent))
    available = {p.stem[len("bench_"):]: p for p in sorted(BENCH_DIR.glob("bench_*.py"))}
    wanted = argv or list(available)
    unknown = [a for a in wanted if a not in available]
    if unknown:
        print(f"unknown benchmark(s): {unknown}; available: {sorted(available)}", file=sys.stderr)
        return 2
    sections = _previous_sections()
    for area in wanted:
        module = _load(available[area])
        print(f"== {area}: {module.TITLE}", flush=True)
        t0 = time.perf_counter()
        body = module.run().strip()
        sections[area] = f"_Measured {datetime.datetime.now():%Y-%m-%d %H:%M}._\n\n{body}\n"
        print(f"   done in {time.perf_counter() - t0:.1f} s", flush=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        "# Benchmarks\n\n",
        "Written by `make bench` (`bench/run_all.py`); do not edit by hand. Each figure stands beside a baseline\n",
        "measured in the same run, because ratios hold on a noisy machine where absolute times do not.\n\n",
        f"- Last run: {stamp}\n- Machine: {machine()}\n\n",
    ]
    for area in available:
        if area in sections:
            parts.append(f"<!-- bench:{area} -->\n{sections[area]}\n")
    OUT.write_text("".join(parts))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
