"""Trials: fresh dimension sizes (typical, size 1, odd, random, stress) and seeded random inputs."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import torch

from ..cards import Card, DimRule, InputSpec, parse_dim_rule, parse_generator
from ..cards.generators import DTYPES

__all__ = ["Trial", "build_trials", "draw_dims", "make_input"]

_TORCH_DTYPES = {name: getattr(torch, name) for name in DTYPES}
_LABELS = ("typical", "size 1", "odd sizes", "random sizes")
_ODD = (3, 5, 7, 9, 11, 13)


@dataclass
class Trial:
    """One set of inputs: its label, the dimension sizes, and every name an answer sees."""

    label: str
    dims: dict[str, int]
    args: dict[str, Any]

    def describe(self) -> str:
        """``size 1: B=1, d=1`` for feedback."""
        sizes = ", ".join(f"{k}={v}" for k, v in self.dims.items())
        return f"{self.label}: {sizes}" if sizes else self.label


def _rules(card: Card, specs: list[InputSpec]) -> dict[str, DimRule]:
    """Every free or derived dimension symbol with its rule (inline ``n>=2`` minima included)."""
    rules: dict[str, DimRule] = {}
    for spec in specs:
        for d in (*spec.int_args, *spec.dims):
            for s in d.symbols:
                if s not in card.constants:
                    rules.setdefault(s, DimRule())
            if d.minimum is not None:
                old = rules[d.source]
                rules[d.source] = DimRule(max(old.minimum, d.minimum), old.maximum, old.even)
    for name, value in card.dims.items():
        rule = parse_dim_rule(value)
        inline = rules.get(name)
        if inline is not None and rule.derived is None and rule.fixed is None:
            rule = DimRule(max(rule.minimum, inline.minimum), rule.maximum, rule.even)
        rules[name] = rule
    return rules


def _pick(rule: DimRule, label: str, rng: random.Random) -> int:
    """One size for a free dimension, in the manner the trial's label asks for."""
    lo = rule.minimum
    hi = rule.maximum if rule.maximum is not None else max(lo + 15, 16)
    if rule.even:  # pick half of it the same way, then double: odd halves give sizes like 6, 10
        return 2 * _pick(DimRule(max(1, (lo + 1) // 2), max(1, hi // 2)), label, rng)
    if label == "size 1":
        return lo
    if label == "odd sizes":
        return rng.choice([o for o in _ODD if lo <= o <= hi] or [lo])
    if label == "typical":
        start = min(max(lo, 2), hi)
        return rng.randint(start, min(hi, start + 6))
    return rng.randint(lo, min(hi, lo + 15))


def draw_dims(card: Card, specs: list[InputSpec], label: str, rng: random.Random) -> dict[str, int]:
    """Sizes for every dimension symbol; derived ones computed from the others."""
    rules = _rules(card, specs)
    env: dict[str, int] = {k: v for k, v in card.constants.items() if type(v) is int}
    dims: dict[str, int] = {}
    for name, rule in rules.items():
        if rule.derived is None:
            dims[name] = rule.fixed if rule.fixed is not None else _pick(rule, label, rng)
    pending = {n: r for n, r in rules.items() if r.derived is not None}
    while pending:
        progress = False
        for name, rule in list(pending.items()):
            if all(s in dims or s in env for s in rule.derived.symbols):
                value = rule.derived.evaluate({**env, **dims})
                if value < 1:
                    raise ValueError(f"dimension {name} = {rule.derived.source} came out as {value}")
                dims[name] = value
                del pending[name]
                progress = True
        if not progress:
            raise ValueError(f"dimensions {sorted(pending)} depend on each other in a cycle")
    return dims


def make_input(spec: InputSpec, env: dict[str, int], gen: torch.Generator) -> torch.Tensor:
    """Draw one input tensor on the CPU from its generator."""
    kw = spec.keywords
    dtype = _TORCH_DTYPES[spec.dtype]
    shape = [d.evaluate(env) for d in spec.dims]
    name = spec.name
    if name in ("randn", "rand", "positive"):
        if name == "randn":
            t = torch.randn(shape, generator=gen, dtype=torch.float64)
        else:
            low = float(kw.get("low", 0.1 if name == "positive" else 0.0))
            high = float(kw.get("high", 2.0 if name == "positive" else 1.0))
            t = low + (high - low) * torch.rand(shape, generator=gen, dtype=torch.float64)
        t = t * float(kw.get("scale", 1.0)) + float(kw.get("shift", 0.0))
    elif name == "bernoulli":
        t = (torch.rand(shape, generator=gen) < float(kw.get("p", 0.5))).double()
    elif name == "randint":
        bounds = [b.evaluate(env) for b in spec.int_args]
        low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
        if high <= low:
            raise ValueError(f"{spec.source}: empty range [{low}, {high})")
        t = torch.randint(low, high, shape, generator=gen)
    elif name == "randperm":
        t = torch.randperm(shape[0], generator=gen)
    elif name == "adjacency":
        n = shape[0]
        upper = torch.triu((torch.rand(n, n, generator=gen) < float(kw.get("p", 0.5))).double(), 1)
        t = upper + upper.T
    elif name == "probs":
        t = torch.softmax(torch.randn(shape, generator=gen, dtype=torch.float64), dim=-1)
    elif name == "spd":
        n = shape[-1]
        a = torch.randn([*shape, n], generator=gen, dtype=torch.float64)
        t = a @ a.mT + n * torch.eye(n, dtype=torch.float64)
    elif name == "orthogonal":
        n = shape[-1]
        t = torch.linalg.qr(torch.randn([*shape, n], generator=gen, dtype=torch.float64))[0]
    elif name == "causal_mask":
        n = shape[0]
        t = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
    else:  # the cards package lists generators; this list must keep up with it
        raise ValueError(f"no implementation for generator {name!r}")
    t = t.to(dtype)
    if kw.get("requires_grad"):
        t.requires_grad_(True)
    return t


def build_trials(card: Card, seed: int, device: str = "cpu") -> list[Trial]:
    """The trials one grade runs: ``card.trials`` sets of sizes, plus a stress trial if any."""
    specs = card.input_specs()
    stress = {name: parse_generator(text) for name, text in card.stress.items()}
    labels = [_LABELS[i] if i < len(_LABELS) else "random sizes" for i in range(card.trials)]
    if stress:
        labels.append("stress")
    trials = []
    for i, label in enumerate(labels):
        rng = random.Random(f"{card.id}:{seed}:{i}")
        chosen = {**specs, **stress} if label == "stress" else specs
        dims = draw_dims(card, list(chosen.values()),
                         "typical" if label == "stress" else label, rng)
        gen = torch.Generator().manual_seed(rng.getrandbits(63))
        env = {**{k: v for k, v in card.constants.items() if type(v) is int}, **dims}
        args: dict[str, Any] = {}
        for name, spec in chosen.items():
            t = make_input(spec, env, gen)
            args[name] = t.to(device) if device != "cpu" else t
        args.update(card.constants)
        args.update(dims)
        trials.append(Trial(label, dims, args))
    return trials
