"""Which fields each card kind needs and what each field must hold."""

from __future__ import annotations

import keyword
import re

from .model import KINDS

__all__ = [
    "ANSWER_MODULES",
    "COMMON_OPTIONAL",
    "COMMON_REQUIRED",
    "KIND_OPTIONAL",
    "KIND_REQUIRED",
    "RESERVED_NAMES",
    "VARIABLE_DOMAINS",
    "ID_PATTERN",
    "FIELD_TYPES",
    "allowed_fields",
    "is_identifier",
]

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$")

COMMON_REQUIRED = ("id", "kind", "title", "title_zh", "source", "prompt")
COMMON_OPTIONAL = ("tags", "latex", "prompt_zh", "explain", "explain_zh", "hint", "hint_zh")

_TENSOR_REQUIRED = ("inputs", "reference")
_TENSOR_OPTIONAL = ("constants", "dims", "stress", "rtol", "atol", "trials", "accept", "reject")
KIND_REQUIRED: dict[str, tuple[str, ...]] = {
    "expr": _TENSOR_REQUIRED,
    "kernel": (*_TENSOR_REQUIRED, "signature", "launcher", "spec"),
    "shape": ("code",),
    "output": ("code",),
    "symbolic": ("answer", "variables"),
    "recall": ("answer",),
}
KIND_OPTIONAL: dict[str, tuple[str, ...]] = {
    "expr": (*_TENSOR_OPTIONAL, "allow_promotion", "inplace"),
    "kernel": _TENSOR_OPTIONAL,
    "shape": ("params", "accept", "reject"),
    "output": ("params", "accept", "reject"),
    "symbolic": ("accept", "reject"),
    "recall": (),
}
assert set(KIND_REQUIRED) == set(KINDS) == set(KIND_OPTIONAL)

# The Python type (or kind of table) each field holds in TOML.
FIELD_TYPES: dict[str, str] = {
    "id": "str", "kind": "str", "title": "str", "title_zh": "str", "source": "str",
    "prompt": "str", "latex": "str", "prompt_zh": "str", "explain": "str", "explain_zh": "str",
    "hint": "str", "hint_zh": "str", "reference": "str", "signature": "str", "launcher": "str", "spec": "str",
    "code": "str", "answer": "str",
    "tags": "list[str]", "accept": "list[str]", "reject": "list[reject]",
    "inputs": "table[str]", "stress": "table[str]", "variables": "table[str]",
    "constants": "table[scalar]", "dims": "table[dim]", "params": "table[range]",
    "rtol": "positive", "atol": "positive", "trials": "int", "allow_promotion": "bool",
    "inplace": "bool",
}

# The modules an answer always has in scope (a kernel's launcher also has Triton's);
# inputs, constants and dims may not shadow them.
ANSWER_MODULES = ("torch", "F", "nn", "math")
KERNEL_MODULES = ("triton", "tl")
RESERVED_NAMES = frozenset(ANSWER_MODULES + KERNEL_MODULES)

# Domains of the variables of a symbolic card.
VARIABLE_DOMAINS = ("real", "positive", "int", "int>=0", "int>=1", "int>=2", "prob")


def allowed_fields(kind: str) -> set[str]:
    """Every field a card of this kind may have."""
    return {*COMMON_REQUIRED, *COMMON_OPTIONAL, *KIND_REQUIRED[kind], *KIND_OPTIONAL[kind]}


def is_identifier(name: str) -> bool:
    """A name an answer can use as a variable."""
    return name.isidentifier() and not keyword.iskeyword(name)
