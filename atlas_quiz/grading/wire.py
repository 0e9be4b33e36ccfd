"""Values as they cross between processes: tensors as raw bytes with dtype and shape, never pickle.

``encode`` turns a value (tensor, number, tuple/list of values, ``None``, a
``torch.Size``) into a JSON description and a list of byte chunks; ``decode``
reads it back. Anything else is described by its type name only, which the
grader reports as the wrong type.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from typing import Any

import torch

__all__ = ["Foreign", "WireError", "decode", "digest", "digest_bytes", "encode", "tensor_bytes"]

# numpy has no bfloat16 or float8: their bits cross as integers of the same width.
_BITS_AS = {torch.bfloat16: torch.int16, **{d: torch.uint8 for d in (
    torch.float8_e4m3fn, torch.float8_e5m2, torch.float8_e4m3fnuz, torch.float8_e5m2fnuz,
    torch.float8_e8m0fnu)}}
# Every dtype an answer can return as plain data crosses, so the grader can say "wrong dtype"
# instead of failing to read it.
_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float16, torch.float32, torch.float64, torch.complex64, torch.complex128,
    torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.uint16, torch.uint32,
    torch.uint64, torch.bool, *_BITS_AS)}
_MAX_DEPTH = 8
_MAX_ITEMS = 64
_MAX_STR = 1000


class WireError(ValueError):
    """A description that does not match its bytes, or names an unknown dtype."""


def tensor_bytes(t: torch.Tensor) -> bytes:
    """The raw little-endian bytes of a tensor (moved to CPU, made contiguous)."""
    t = torch.Tensor.detach(t).cpu().contiguous()
    if t.dtype in _BITS_AS:
        t = t.view(_BITS_AS[t.dtype])
    return t.numpy().tobytes()


def digest(t: torch.Tensor) -> str:
    """A short content hash of a tensor, to see whether an answer changed its input."""
    return digest_bytes(tensor_bytes(t))


def digest_bytes(raw: bytes) -> str:
    """:func:`digest` of bytes already taken from a tensor (``encode`` has them at hand)."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _number(v: float | int | bool) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"t": "bool", "v": v}
    if isinstance(v, int):
        return {"t": "int", "v": v} if abs(v) < 2**63 else {"t": "float", "v": repr(float(v))}
    return {"t": "float", "v": repr(v) if not math.isfinite(v) else v}


def encode(value: Any, chunks: list[bytes], depth: int = 0) -> dict[str, Any]:
    """Describe ``value`` and append its tensor bytes to ``chunks``."""
    if isinstance(value, torch.Tensor):
        if type(value) is not torch.Tensor and type(value) is not torch.nn.Parameter:
            # never touched: its __torch_function__ could answer anything, and it is refused anyway
            return {"t": "other", "type": f"{type(value).__name__} (a subclass of torch.Tensor)"}
        raw = tensor_bytes(value)
        chunks.append(raw)
        return {"t": "tensor", "dtype": str(value.dtype).removeprefix("torch."),
                "shape": [int(s) for s in value.shape], "nbytes": len(raw)}
    if isinstance(value, torch.Size):
        return {"t": "size", "v": [int(x) for x in value]}
    if value is None:
        return {"t": "none"}
    if type(value) in (bool, int, float):
        return _number(value)
    if type(value) is str:
        return {"t": "str", "v": value[:_MAX_STR]}
    if isinstance(value, (tuple, list)) and depth < _MAX_DEPTH:
        # namedtuples and torch's return types (torch.max(x, 0)) cross as plain tuples
        kind = "list" if isinstance(value, list) else "tuple"
        items = list(itertools.islice(value, _MAX_ITEMS + 1))  # never a copy of a huge list
        return {"t": kind, "items": [encode(v, chunks, depth + 1) for v in items]}
    return {"t": "other", "type": type(value).__name__}


def decode(desc: dict[str, Any], payload: bytes, offset: int = 0) -> tuple[Any, int]:
    """Rebuild a value from its description; returns it and the payload offset after it."""
    kind = desc.get("t")
    if kind == "tensor":
        dtype = _DTYPES.get(desc.get("dtype", ""))
        if dtype is None:
            raise WireError(f"unknown dtype {desc.get('dtype')!r}")
        shape = [int(s) for s in desc["shape"]]
        n = int(desc["nbytes"])
        numel = math.prod(shape)
        itemsize = torch.empty((), dtype=dtype).element_size()
        if n != numel * itemsize or offset + n > len(payload) or any(s < 0 for s in shape):
            raise WireError("tensor description does not match its bytes")
        if numel == 0:
            t = torch.empty(shape, dtype=dtype)
        else:
            raw = bytearray(payload[offset:offset + n])
            t = torch.frombuffer(raw, dtype=_BITS_AS.get(dtype, dtype)).view(dtype).reshape(shape)
        return t, offset + n
    if kind in ("tuple", "list"):
        items = []
        for item in desc["items"]:
            v, offset = decode(item, payload, offset)
            items.append(v)
        return (tuple(items) if kind == "tuple" else items), offset
    if kind == "size":
        return torch.Size(desc["v"]), offset
    if kind == "none":
        return None, offset
    if kind == "bool":
        return bool(desc["v"]), offset
    if kind == "int":
        return int(desc["v"]), offset
    if kind == "float":
        return float(desc["v"]), offset
    if kind == "str":
        return str(desc["v"]), offset
    if kind == "other":
        return Foreign(str(desc.get("type", "?"))), offset
    raise WireError(f"unknown value kind {kind!r}")


class Foreign:
    """Stands in for a returned value of a type that cannot cross (a module, a str, ...)."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"

