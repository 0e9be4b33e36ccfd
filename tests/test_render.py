"""The LaTeX renderer: what each construct looks like in the terminal, at any width, and on one line."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import atlas_quiz.render as render
from atlas_quiz.render import render_inline, render_latex
from atlas_quiz.render.box import cell_width

ROOT = Path(__file__).resolve().parents[1]


def lines(source: str, **kwargs) -> list[str]:
    return render_latex(source, **kwargs).split("\n")


def column_of(line: str, fragment: str) -> int:
    """The terminal column where ``fragment`` starts in ``line`` (wide characters count two)."""
    return cell_width(line[: line.index(fragment)])


# --- the public surface -----------------------------------------------------------------------

def test_public_api_is_the_two_render_functions():
    assert render.__all__ == ["render_inline", "render_latex"]


def test_importing_the_renderer_loads_neither_torch_nor_textual():
    code = ("import sys, atlas_quiz.render as r; r.render_latex(r'\\frac{a}{b}'); "
            "print(','.join(m for m in ('torch', 'textual', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


# --- fractions and roots ----------------------------------------------------------------------

@pytest.mark.parametrize("command", ["frac", "dfrac", "tfrac"])
def test_fraction_is_stacked_over_a_bar_wider_than_both_parts(command):
    num, bar, den = lines(f"\\{command}{{a+b}}{{c}}")
    assert num.strip() == "a + b" and den.strip() == "c"
    assert set(bar) == {"─"} and len(bar) == len("a + b") + 2
    assert column_of(den, "c") == len(bar) // 2  # centered under the bar


def test_fraction_lines_up_with_its_neighbours_on_the_bar_row():
    out = lines(r"y = \frac{1}{2} x")
    assert out[1].startswith("y = ─") and out[1].endswith(" x")


def test_fraction_inside_a_script_is_written_on_one_line():
    assert lines(r"x^{\frac{1}{2}}") == [" 1/2", "x"]


def test_square_root_of_one_symbol_is_a_radical_sign_only():
    assert render_latex(r"\sqrt{x}") == "√x"


def test_square_root_draws_a_vinculum_over_a_wide_body():
    assert lines(r"\sqrt{x + 1}") == [" _____", "√x + 1"]


def test_square_root_of_a_tall_body_draws_a_diagonal_as_tall_as_it():
    out = lines(r"\sqrt{\frac{a}{b}}")
    assert out[0].strip() == "_" * len("───") + "_"
    assert "╱" in out[1] and out[-1].startswith("╲╱")
    assert len(out) == 4  # vinculum + numerator, bar, denominator


def test_nth_root_shows_its_index():
    assert render_latex(r"\sqrt[3]{x}") == "³√x"


def test_a_power_of_a_root_is_bracketed_so_it_cannot_read_as_the_root_of_a_power():
    assert render_latex(r"\sqrt{x}^2") == "(√x)²"
    assert render_latex(r"\sqrt{x^2}") == " __\n√x²"


# --- sub- and superscripts --------------------------------------------------------------------

def test_scripts_use_unicode_characters_when_every_character_has_one():
    assert render_latex(r"x_i^2 + e^{-x} + W^{(l+1)} + A^T + B^\top") == "xᵢ² + e⁻ˣ + W⁽ˡ⁺¹⁾ + Aᵀ + Bᵀ"


def test_a_script_with_a_character_lacking_a_unicode_form_is_lowered_onto_its_own_line():
    assert lines(r"C_{q,j} = 1") == ["C    = 1", " q,j"]


def test_index_pairs_become_unicode_subscripts_so_only_real_limits_sit_below():
    assert lines(r"C_{i,j}=\sum_k A_{i,k}B_{k,j}") == ["Cᵢ,ⱼ = ∑ Aᵢ,ₖ Bₖ,ⱼ", "       k"]
    assert render_inline(r"C_{i,j}=\sum_k A_{i,k}B_{k,j}") == "Cᵢ,ⱼ = ∑ₖ Aᵢ,ₖ Bₖ,ⱼ"


def test_a_comma_alone_is_not_a_unicode_subscript():
    assert lines(r"x_{,}") == ["x", " ,"]


def test_a_superscript_beside_a_bracket_of_lowered_subscripts_is_raised_above_it():
    assert lines(r"(x_{q,j} - y)^2") == ["          2", "(x    − y)", "  q,j"]


def test_a_raised_superscript_sits_on_the_line_above():
    assert lines(r"\mathbb{R}^{d \times k}") == [" d×k", "ℝ"]


def test_scripts_set_tight_without_operator_spacing():
    assert render_latex(r"x_{n+1} + y_i^{\,p}") == "xₙ₊₁ + yᵢᵖ"
    assert render_inline(r"y_i^{\,p}") == "yᵢᵖ"


# --- big operators and limits -----------------------------------------------------------------

def test_sum_limits_go_above_and_below_in_a_display():
    top, mid, bottom = lines(r"\sum_{i=1}^{n} x_i")
    assert top.strip() == "n" and bottom.strip() == "i=1"
    assert mid.startswith(" ∑ ")
    assert column_of(mid, "∑") == column_of(top, "n") == 1


def test_sum_limits_go_beside_it_inside_a_fraction():
    out = lines(r"\frac{1}{\sum_{j=1}^{n} e_j}")
    assert out[2].strip() == "∑ⱼ₌₁ⁿ eⱼ"


@pytest.mark.parametrize("source, name, below", [
    (r"\max_{m,n} f", "max", "m,n"),
    (r"\min_G f", "min", "G"),
    (r"\lim_{n \to \infty} f", "lim", "n→∞"),
    (r"\arg\max_{x} f", "arg max", "x"),
    (r"\operatorname*{arg\,min}_{\theta} f", "arg min", "θ"),
])
def test_named_operators_take_their_limits_below(source, name, below):
    top, bottom = lines(source)
    assert top.startswith(name + " f")
    assert bottom.strip() == below


def test_integral_limits_sit_beside_the_sign():
    assert render_latex(r"\int_a^b f(x)\,dx") == "∫ₐᵇ f(x) dx"


def test_limits_commands_override_the_operator_default():
    assert len(lines(r"\int\limits_0^1 f")) == 3
    assert render_latex(r"\sum\nolimits_{i} x_i") == "∑ᵢ xᵢ"


# --- matrices and environments ----------------------------------------------------------------

@pytest.mark.parametrize("env, expected", [
    ("pmatrix", ["⎛  1   22 ⎞", "⎝ 333  4  ⎠"]),
    ("bmatrix", ["⎡  1   22 ⎤", "⎣ 333  4  ⎦"]),
    ("matrix", [" 1   22", "333  4"]),
])
def test_matrix_entries_are_centered_in_aligned_columns_between_its_delimiters(env, expected):
    assert lines(f"\\begin{{{env}}} 1 & 22 \\\\ 333 & 4 \\end{{{env}}}") == expected


def test_cases_draws_a_brace_spanning_its_rows_and_aligns_the_conditions():
    out = lines(r"f(x) = \begin{cases} x, & x > 0 \\ 0, & \text{otherwise} \end{cases}")
    assert [ln[7] for ln in out] == ["⎰", "⎱"]
    assert column_of(out[0], "x > 0") == column_of(out[1], "otherwise")


def test_aligned_environment_lines_up_the_relations():
    out = lines(r"\begin{aligned} f(x) &= (x+1)^2 \\ &= x^2 + 2x + 1 \end{aligned}")
    assert out == ["f(x) = (x + 1)²", "     = x² + 2x + 1"]


def test_matrix_rows_holding_fractions_are_kept_apart():
    out = lines(r"\begin{bmatrix} \frac{a}{b} \\ \frac{c}{d} \end{bmatrix}")
    assert len(out) == 7 and out[3].strip("⎢⎥ ") == ""


# --- alphabets, Greek, accents ----------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    (r"\mathbf{x}", "𝐱"), (r"\mathbf{W}", "𝐖"), (r"\mathbf{0}", "𝟎"),
    (r"\boldsymbol{\mu}", "𝝁"), (r"\boldsymbol{\Sigma}", "𝜮"),
    (r"\mathbb{E}", "𝔼"), (r"\mathbb{R}", "ℝ"), (r"\mathcal{N}", "𝒩"), (r"\mathcal{L}", "ℒ"),
    (r"\mathfrak{g}", "𝔤"), (r"\mathrm{d}x", "dx"),
])
def test_font_commands_use_unicode_math_alphabets(source, expected):
    assert render_latex(source) == expected


@pytest.mark.parametrize("source, expected", [
    (r"\text{if } x \text{ is positive}", "if x is positive"),
    (r"\text{kernel_size}", "kernel_size"),
    (r"\mathrm{RMSNorm}(x)", "RMSNorm(x)"),
    (r"\operatorname{diag}(x)", "diag(x)"),
    (r"\text{其中 } C", "其中 C"),
])
def test_text_and_upright_names_keep_their_letters_and_spaces(source, expected):
    assert render_latex(source) == expected


def test_greek_letters_are_unicode():
    assert render_latex(r"\alpha\beta\gamma\epsilon\varepsilon\theta\lambda\sigma\phi\omega\Delta\Sigma") \
        == "αβγϵεθλσϕωΔΣ"


@pytest.mark.parametrize("accent, mark", [
    ("hat", "\u0302"), ("bar", "\u0304"), ("tilde", "\u0303"), ("vec", "\u20d7"), ("dot", "\u0307"),
])
def test_an_accent_on_one_letter_is_a_combining_mark(accent, mark):
    assert render_latex(f"\\{accent}{{x}}") == unicodedata.normalize("NFC", "x" + mark)


def test_an_accent_over_a_scripted_letter_goes_on_the_letter():
    assert render_latex(r"\hat{y}_i = \bar{\mathbf{A}}_t") == "ŷᵢ = 𝐀̄ₜ"


def test_an_accent_over_several_letters_is_drawn_on_the_line_above():
    assert lines(r"\overline{xy} + \widehat{abc}") == ["__    ^", "xy + abc"]


# --- operators, relations, delimiters, spacing ------------------------------------------------

def test_operators_and_relations_become_symbols_spaced_like_tex():
    source = (r"a \odot b \otimes c \cdot d \times e \le f \approx g \propto h \in i \to j"
              r" \implies k \sim l")
    assert render_latex(source) == "a ⊙ b ⊗ c · d × e ≤ f ≈ g ∝ h ∈ i → j ⟹ k ∼ l"


def test_ordinary_symbols_and_norms():
    assert render_latex(r"\nabla \partial \infty \ell \emptyset") == "∇∂∞ℓ∅"
    assert render_latex(r"\lVert x \rVert_2 = \|x\|_2") == "‖x‖₂ = ‖x‖₂"


def test_a_leading_minus_is_a_sign_that_sticks_to_what_follows():
    assert render_latex(r"-\log(x) - y") == "−log(x) − y"
    assert lines(r"-\frac{1}{2}")[1] == "−───"


def test_an_operator_after_a_bare_function_name_is_binary():
    # RoPE uses cos and sin as tensors: "cos +rotate_half" read as a sign before rotate_half.
    source = r"x\odot\cos + \mathrm{rotate\_half}(x)\odot\sin"
    assert render_latex(source) == "x ⊙ cos + rotate_half(x) ⊙ sin"
    assert render_inline(source) == "x ⊙ cos + rotate_half(x) ⊙ sin"
    assert render_latex(r"\max_i -x_i") == "max −xᵢ\n i"  # an operator over a limit keeps its sign


@pytest.mark.parametrize("left, right, top, bottom", [
    (r"\left(", r"\right)", "⎛⎞", "⎝⎠"), (r"\left[", r"\right]", "⎡⎤", "⎣⎦"),
    (r"\left\lfloor", r"\right\rfloor", "⎢⎥", "⎣⎦"), (r"\left\{", r"\right\}", "⎧⎫", "⎩⎭"),
    (r"\left|", r"\right|", "││", "││"),
])
def test_left_right_delimiters_grow_to_the_height_of_their_content(left, right, top, bottom):
    out = lines(f"{left} \\frac{{a}}{{b}} {right}")
    assert len(out) == 3
    assert out[0][0] + out[0][-1] == top and out[2][0] + out[2][-1] == bottom


def test_plain_brackets_around_a_fraction_grow_too():
    assert lines(r"\log(\frac{a}{b})")[0].startswith("   ⎛")


def test_brackets_around_a_lone_lowered_subscript_stay_one_row():
    assert lines(r"\log(y_{c})") == ["log(y )", "     c"]


def test_invisible_left_delimiter_and_evaluation_bar():
    out = lines(r"\left. \frac{df}{dx} \right|_{x=0}")
    assert out[-1].rstrip().endswith("│x=0")


@pytest.mark.parametrize("space, cells", [
    (r"\,", 1), (r"\;", 1), (r"\:", 1), (r"\ ", 1), ("~", 1), (r"\quad", 2), (r"\qquad", 4), (r"\!", 0),
])
def test_spacing_commands_take_whole_cells(space, cells):
    assert render_latex(f"a{space} b") == "a" + " " * cells + "b"


def test_tag_follows_the_formula_like_an_equation_number():
    assert render_latex(r"A = QR \tag{2.2}") == "A = QR    (2.2)"
    assert render_latex(r"A = QR \qquad (1.3)") == "A = QR    (1.3)"


def test_stacked_formula_after_chinese_text_lines_up_on_terminal_cells():
    num, bar, den = lines(r"\text{其中} \frac{a}{b}")
    assert bar.startswith("其中 ─")  # a one-cell gap, as after any atom
    assert column_of(bar, "─") == cell_width("其中 ") == 5
    assert column_of(num, "a") == column_of(den, "b") == 6


# --- width ------------------------------------------------------------------------------------

def test_a_formula_wider_than_the_screen_breaks_before_its_relations():
    source = r"\frac{1}{N} \sum_{i=1}^N (y_i - \hat{y}_i)^2 = \frac{1}{N} \|\mathbf{y} - \hat{\mathbf{y}}\|_2^2 = L"
    assert max(cell_width(ln) for ln in lines(source)) > 30
    narrow = lines(source, width=30)
    assert max(cell_width(ln) for ln in narrow) <= 30
    assert narrow[4].startswith("  = ───") and narrow[1].startswith("───  ∑")


def test_continuation_lines_line_up_under_the_first_relation():
    source = "loss = " + " + ".join(f"x_{{{i}}}" for i in range(12)) + " = S"
    out = lines(source, width=30)
    assert len(out) == 3 and all(cell_width(ln) <= 30 for ln in out)
    assert [len(ln) - len(ln.lstrip()) for ln in out[1:]] == [column_of(out[0], "=")] * 2
    assert out[-1].endswith("= S")


def test_a_long_sum_breaks_before_a_binary_operator_when_no_relation_helps():
    source = " + ".join(f"x_{{{i}}}" for i in range(30))
    out = lines(source, width=40)
    assert len(out) > 1 and all(cell_width(ln) <= 40 for ln in out)
    assert all(ln.lstrip().startswith("+") for ln in out[1:])


def test_a_formula_that_cannot_be_broken_to_fit_falls_back_to_one_line():
    source = r"\frac{a + b + c + d + e + f}{g}"
    assert render_latex(source, width=10) == render_inline(source) == "(a + b + c + d + e + f)/g"


def test_a_formula_that_fits_is_the_same_with_or_without_a_width():
    source = r"\sigma(x) = \frac{1}{1 + e^{-x}}"
    assert render_latex(source, width=80) == render_latex(source)


# --- the one-line form ------------------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    (r"\tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}}", "tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ)"),
    (r"\frac{1}{2\pi\sigma}", "1/(2πσ)"),
    (r"\frac{\partial y}{\partial x}", "∂y/∂x"),
    (r"\frac{QK^\top}{\sqrt{d_k}}", "QKᵀ/√dₖ"),
    (r"\sqrt{x + 1}", "√(x + 1)"),
    (r"\sqrt{x}^2 + \sqrt{y^2}", "(√x)² + √y²"),
    (r"\sum_{i=1}^{n} x_i", "∑ᵢ₌₁ⁿ xᵢ"),
    (r"\mathbb{E}_{x \sim p} f", "𝔼_(x∼p) f"),
    (r"p_{data}(x) + W_{out} x", "p_data(x) + Wₒᵤₜx"),
    (r"D_{KL} q", "D_KL q"),
    (r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}", "(a, b; c, d)"),
    (r"\begin{cases} x, & x > 0 \\ 0, & \text{otherwise} \end{cases}", "{x, x > 0; 0, otherwise}"),
    (r"\hat{x} + \overline{xy}", "x̂ + overline(xy)"),
    (r"A = QR \tag{2.2}", "A = QR  (2.2)"),
])
def test_render_inline_writes_one_line(source, expected):
    assert render_inline(source) == expected
