"""A structural check of card LaTeX: balanced braces and matching environments (stdlib only)."""

from __future__ import annotations

import re

__all__ = ["latex_problem"]

_ENV = re.compile(r"\\(begin|end)\s*\{([^}]*)\}")


def latex_problem(text: str) -> str | None:
    """Describe the first structural mistake in ``text``, or return None when it is balanced."""
    depth = 0
    line = 1
    opened_at: list[int] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":  # an escaped character (\{, \}, \\) never opens or closes a group
            i += 2
            continue
        if ch == "\n":
            line += 1
        elif ch == "{":
            depth += 1
            opened_at.append(i)
        elif ch == "}":
            if depth == 0:
                return f"unbalanced braces: '}}' at offset {i} (line {line} of the formula) closes nothing"
            depth -= 1
            opened_at.pop()
        i += 1
    if depth:
        at = opened_at[-1]
        return (f"unbalanced braces: {depth} '{{' never closed (the last one at offset {at}: "
                f"{text[max(0, at - 12):at + 12]!r})")
    stack: list[str] = []
    for m in _ENV.finditer(text):
        what, name = m.groups()
        if what == "begin":
            stack.append(name)
        elif not stack or stack[-1] != name:
            return f"\\end{{{name}}} does not match " + (
                f"\\begin{{{stack[-1]}}}" if stack else "any \\begin")
        else:
            stack.pop()
    if stack:
        return f"\\begin{{{stack[-1]}}} is never ended"
    lefts, rights = len(re.findall(r"\\left\b", text)), len(re.findall(r"\\right\b", text))
    if lefts != rights:
        return f"{lefts} \\left but {rights} \\right"
    return None
