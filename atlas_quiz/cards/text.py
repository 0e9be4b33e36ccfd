"""Card prose as authors write it in TOML (hard-wrapped) and as readers see it (reflowed)."""

from __future__ import annotations

import re

__all__ = ["KIND_ASK", "prose", "reflow"]

# What each kind asks for: the line under every prompt, in the app and on the Anki front (the
# prompts leave it out: a shape prompt does not say "Answer like (3, 4), or `error`").
KIND_ASK = {
    "expr": "Write the PyTorch expression (or a body ending in `return`).",
    "kernel": "Write the body of the Triton kernel.",
    "shape": "Give the shape of the result, like (4, 8), or `error`.",
    "output": "Write what it prints.",
    "symbolic": "Write the formula.",
    "recall": "Recall the answer, then reveal it and rate yourself.",
}

_NEW_LINE = re.compile(r"^\s*([-*•]|\d+[.)])\s")  # a list item starts its own line


def reflow(text: str) -> list[str]:
    """The paragraphs of ``text``: soft line breaks joined with spaces, list items kept apart.

    Blank lines separate paragraphs; within one, a line that starts a list item
    (``- x``, ``1. x``) or follows a line ending in ``:`` starts a new line (``\\n``).
    """
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        for raw in block.splitlines():
            line = raw.strip()
            if not line:
                continue
            if lines and (_NEW_LINE.match(raw) or lines[-1].endswith(":")):
                lines.append(line)
            elif lines:
                lines[-1] = f"{lines[-1]} {line}"
            else:
                lines.append(line)
        if lines:
            paragraphs.append("\n".join(lines))
    return paragraphs


def prose(text: str) -> str:
    """``text`` reflowed for display: paragraphs separated by a blank line."""
    return "\n\n".join(reflow(text))
