"""The evaluation result as a printed table and as JSON."""

from __future__ import annotations

from typing import Any

from .metrics import KS

COLUMNS = [f"R@{k}" for k in KS] + ["MedR"]


def format_table(results: dict[str, dict[str, dict[str, float]]], title: str = "") -> str:
    """Markdown table: one row per (direction, protocol), recalls in percent, MedR as is."""
    lines = [f"**{title}**", ""] if title else []
    lines.append("| direction | protocol | " + " | ".join(COLUMNS) + " | n |")
    lines.append("|---|---|" + "---:|" * (len(COLUMNS) + 1))
    for direction, protocols in results.items():
        for protocol, m in protocols.items():
            cells = [f"{100 * m[c]:.1f}" for c in COLUMNS[:-1]] + [f"{m['MedR']:.1f}", str(m.get("n", ""))]
            lines.append(f"| {direction} | {protocol} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_json(results: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """JSON document: what was evaluated (info) and the metrics."""
    return {"format": "lavimo-eval", "version": 1, **info, "results": results}
