"""LaTeX in the terminal: a renderer of our own over pylatexenc's parse tree.

``render_latex`` lays a formula out in two dimensions (stacked fractions,
limits above and below big operators, tall delimiters, aligned matrices);
``render_inline`` gives the one-line form. Neither imports torch or textual.
"""

from .api import render_inline, render_latex

__all__ = ["render_inline", "render_latex"]
