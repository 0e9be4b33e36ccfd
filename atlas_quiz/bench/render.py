"""``python -m atlas_quiz.bench render``: how long laying out the decks' formulas takes.

The workload is every ``latex`` field of the built-in decks plus the atlas
gallery (``atlas_quiz.render.gallery``). The baseline, timed in the same run on
the same formulas, is pylatexenc's ``LatexNodes2Text``: the flat converter our
renderer replaces, built on the same parser.

Example:
    python -m atlas_quiz.bench render --repeat 10
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence


def _formulas(with_gallery: bool) -> tuple[list[str], int, int]:
    """The workload: deck formulas first, then the gallery; and how many of each."""
    from atlas_quiz.cards import load_decks
    from atlas_quiz.paths import builtin_decks_dir
    from atlas_quiz.render.gallery import GALLERY

    decks = [c.latex for d in load_decks([builtin_decks_dir()]) for c in d.cards if c.latex]
    gallery = [source for _, source in GALLERY] if with_gallery else []
    return decks + gallery, len(decks), len(gallery)


def _passes(fn: Callable[[str], object], formulas: Sequence[str], repeat: int) -> tuple[float, float]:
    """Seconds for the first pass (cold caches) and for the best of ``repeat`` further passes."""
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        for source in formulas:
            fn(source)
        times.append(time.perf_counter() - start)
    return times[0], min(times[1:])


def main(argv: list[str] | None = None) -> int:
    """Print a table of timings, then one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m atlas_quiz.bench render",
                                     description=__doc__.split("\n\n")[1])
    parser.add_argument("--repeat", type=int, default=5, help="timed passes after the first")
    parser.add_argument("--no-gallery", action="store_true", help="the decks' formulas only")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import atlas_quiz.render as render  # timed: the UI pays this once, before its first card

    import_s = time.perf_counter() - start
    from pylatexenc.latex2text import LatexNodes2Text

    formulas, n_decks, n_gallery = _formulas(not args.no_gallery)
    if not formulas:
        print("no formulas to render")
        return 1
    flat = LatexNodes2Text()
    rows = {
        "render_latex": _passes(render.render_latex, formulas, args.repeat),
        "render_latex(width=60)": _passes(lambda s: render.render_latex(s, width=60), formulas,
                                          args.repeat),
        "render_inline": _passes(render.render_inline, formulas, args.repeat),
        "LatexNodes2Text (baseline)": _passes(flat.latex_to_text, formulas, args.repeat),
    }
    base = rows["LatexNodes2Text (baseline)"][1]
    n = len(formulas)
    print(f"{n} formulas ({n_decks} from the decks, {n_gallery} from the gallery); "
          f"import atlas_quiz.render: {import_s * 1e3:.1f} ms")
    print(f"{'':28} {'first pass ms':>14} {'best pass ms':>13} {'µs/formula':>11} {'× baseline':>11}")
    for name, (first, best) in rows.items():
        print(f"{name:28} {first * 1e3:14.1f} {best * 1e3:13.1f} {best / n * 1e6:11.0f} "
              f"{best / base:11.2f}")
    first, best = rows["render_latex"]
    print(json.dumps({
        "benchmark": "render", "formulas": n, "deck_formulas": n_decks,
        "gallery_formulas": n_gallery, "import_ms": round(import_s * 1e3, 2),
        "render_latex_first_pass_ms": round(first * 1e3, 2),
        "render_latex_ms": round(best * 1e3, 2),
        "render_latex_us_per_formula": round(best / n * 1e6, 1),
        "render_inline_ms": round(rows["render_inline"][1] * 1e3, 2),
        "baseline_latexnodes2text_ms": round(base * 1e3, 2),
        "ratio_to_baseline": round(best / base, 2),
    }))
    return 0
