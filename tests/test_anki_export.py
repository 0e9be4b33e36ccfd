"""Anki export, proven with the real Anki library: import, check, edit, re-export, re-import."""

from __future__ import annotations

import textwrap

import pytest

from atlas_quiz.anki import FIELDS, MODEL_ID, export_anki, note_guid
from atlas_quiz.anki.notes import card_fields, mathjax, note_tags
from atlas_quiz.cards import Card, instantiate, load_decks

DECK = textwrap.dedent('''
    [deck]
    name = "07 Normalization"
    name_zh = "归一化"

    [[card]]
    id = "t.rms"
    kind = "expr"
    title = "RMSNorm <row-wise>"
    title_zh = "均方根归一化"
    source = "000 §15.1"
    tags = ["norm", "llm components"]
    latex = \'\'\'\\mathrm{RMS}(x)=\\sqrt{\\frac{1}{d}\\sum_{i=1}^{d}x_i^2+\\epsilon}\'\'\'
    prompt = "Normalize each row of x (B, d) & scale by g."
    inputs = { x = "randn(B, d)", g = "randn(d)" }
    constants = { eps = 1e-6 }
    reference = "x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g"
    accept = ["F.rms_norm(x, (x.shape[-1],), g, eps)"]
    reject = [{ answer = "x / x.norm() * g", why = "whole tensor" }]
    explain = "Each row is divided by its own RMS: a < b."
    hint = "Per row: reduce over the last dim & keep it."
    hint_zh = "按行归约"

    [[card]]
    id = "t.shape"
    kind = "shape"
    title = "Conv shape"
    title_zh = "卷积形状"
    source = "000 §5.2"
    prompt = "Shape for B={B}?"
    code = "nn.Conv2d(3, 16, 3, padding=1)(torch.randn({B}, 3, 8, 8))"
    params = { B = [2, 9] }
    accept = ["({B}, 16, 8, 8)"]
''')


@pytest.fixture
def cards(tmp_path):
    path = tmp_path / "000_07_norm.toml"
    path.write_text(DECK, encoding="utf-8")
    (deck,) = load_decks([path])
    return list(deck.cards), {deck.key: deck.name}


def test_latex_goes_between_mathjax_delimiters_escaped_and_without_double_braces():
    out = mathjax(r"\frac{a}{b^{2}} < c")
    assert out.startswith(r"\[") and out.endswith(r"\]")
    assert "&lt;" in out and "<" not in out[2:-2] and "}}" not in out


def test_text_fields_are_html_escaped(cards):
    rms = cards[0][0]
    fields = dict(zip(FIELDS, card_fields(rms)))
    assert fields["Title"] == "RMSNorm &lt;row-wise&gt;"
    assert "&amp; scale" in fields["Prompt"] and "a &lt; b" in fields["Explain"]
    assert "style=" in fields["Answer"]  # pygments with inline styles
    assert "<b>x</b></td><td>(B, d) float32" in fields["Scope"]


def test_the_prompt_field_ends_with_what_the_kind_asks_for(cards):
    rms, shape = cards[0]
    rms_prompt = dict(zip(FIELDS, card_fields(rms)))["Prompt"]
    shape_prompt = dict(zip(FIELDS, card_fields(instantiate(shape, 0))))["Prompt"]
    assert rms_prompt.startswith("Normalize each row") and "Write the PyTorch expression" in rms_prompt
    assert shape_prompt.startswith("Shape for B=")
    assert shape_prompt.endswith("Give the shape of the result, like (4, 8), or <code>error</code>.</i></div>")
    assert "Give the shape" not in rms_prompt


def test_tags_carry_kind_and_source_without_spaces(cards):
    tags = note_tags(cards[0][0])
    assert "llm_components" in tags and "kind::expr" in tags and "source::000::ch15" in tags
    assert all(" " not in t for t in tags)


def test_guid_depends_on_the_card_id_only(cards):
    rms = cards[0][0]
    assert note_guid(rms.id) == note_guid(rms.with_changes(prompt="edited").id)
    assert note_guid("a.b") != note_guid("a.c")


def _import(col, path):
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    col.models._clear_cache()
    col.import_anki_package(ImportAnkiPackageRequest(
        package_path=str(path),
        options=ImportAnkiPackageOptions(update_notes=1, update_notetypes=1, with_scheduling=False)))


@pytest.mark.slow
def test_real_anki_imports_updates_and_never_duplicates(tmp_path, cards):
    pytest.importorskip("anki", reason="the real Anki library is in the test extras")
    from anki.collection import Collection

    card_list, names = cards
    first = tmp_path / "first.apkg"
    export_anki(card_list, names, first, mod_time=1_700_000_000)
    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        _import(col, first)
        note_ids = col.find_notes("")
        assert len(note_ids) == 2
        notes = {col.get_note(n)["CardId"]: col.get_note(n) for n in note_ids}
        rms = notes["t.rms"]
        assert rms.note_type()["id"] == MODEL_ID
        assert [f["name"] for f in rms.note_type()["flds"]] == list(FIELDS)
        assert rms["Equation"].startswith(r"\[") and r"\frac{1}{d}" in rms["Equation"]
        assert "kind::expr" in rms.tags and "norm" in rms.tags
        assert notes["t.shape"]["Answer"].count("16") >= 1 and "{B}" not in notes["t.shape"]["Prompt"]
        deck_names = {d.name for d in col.decks.all_names_and_ids()}
        assert "Atlas::07 Normalization" in deck_names
        card = col.get_card(rms.card_ids()[0])
        assert col.decks.name(card.did) == "Atlas::07 Normalization"
        question = card.question()
        assert r"\[" in question and "RMSNorm &lt;row-wise&gt;" in question
        assert "Per row: reduce over the last dim &amp; keep it." in rms["Hint"] and "按行归约" in rms["Hint"]
        assert 'href="#"' in question and 'style="display: none">Per row' in question  # behind a link
        assert notes["t.shape"]["Hint"] == ""
        shape_question = col.get_card(notes["t.shape"].card_ids()[0]).question()
        assert "Give the shape of the result, like (4, 8), or <code>error</code>." in shape_question

        edited = [card_list[0].with_changes(prompt="A clearer prompt."), card_list[1]]
        second = tmp_path / "second.apkg"
        export_anki(edited, names, second, mod_time=1_700_000_100)
        _import(col, second)
        assert len(col.find_notes("")) == 2
        assert col.get_note(rms.id)["Prompt"].startswith("A clearer prompt.<div class=\"ask\">")
    finally:
        col.close()


def test_export_of_every_builtin_card_writes_one_note_each(tmp_path, builtin_decks):
    cards = [c for d in builtin_decks for c in d.cards]
    names = {d.key: d.name for d in builtin_decks}
    report = export_anki(cards, names, tmp_path / "all.apkg", mod_time=1_700_000_000)
    assert report.notes == len(cards) and report.decks == len(builtin_decks)
    assert all(isinstance(c, Card) for c in cards)
