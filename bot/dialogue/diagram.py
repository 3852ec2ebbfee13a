"""The state table as text: rows for ``python -m bot dialogue states``, and a Mermaid diagram for
``docs/dialogue.md`` (``python -m bot dialogue diagram``; a test keeps the document in step)."""

from __future__ import annotations

from bot.dialogue.router import TABLE, rows

CLOSES = "idle"  # the question closes: the next message is understood afresh


def table() -> str:
    header = ("state", "flow", "answered by", "goes to")
    body = rows()
    widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(4)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def mermaid() -> str:
    """Each state in a box of its flow; an arrow to each state an answer may lead to."""
    out = ["stateDiagram-v2"]
    flows: dict[str, list[str]] = {}
    for s in TABLE.values():
        flows.setdefault(s.flow, []).append(s.kind)
    for flow, kinds in flows.items():
        out.append(f"    state {_id(flow)} {{")
        out += [f"        {k}" for k in kinds]
        out.append("    }")
    for s in TABLE.values():
        for target in s.goes_to:
            out.append(f"    {s.kind} --> {target or CLOSES}")
    return "\n".join(out) + "\n"


def _id(flow: str) -> str:
    return flow.replace(" ", "_")
