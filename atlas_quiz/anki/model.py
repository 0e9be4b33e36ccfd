"""The Anki note type: a frozen model id and field names, so re-exports update notes in place."""

from __future__ import annotations

import genanki

__all__ = ["FIELDS", "MODEL_ID", "note_model"]

# Never change these once a release has exported them: Anki matches notes to this note type by
# id and fields by name, and an import whose fields differ puts a copy of the note type beside
# ours ("Atlas Quiz card+") and leaves the notes un-updated, unless the user ticks "Merge note
# types" (checked with the anki library).
MODEL_ID = 1_607_392_319
MODEL_NAME = "Atlas Quiz card"
FIELDS = ("CardId", "Title", "TitleZh", "Equation", "Prompt", "PromptZh", "Scope", "Code",
          "Answer", "Accepted", "Explain", "ExplainZh", "Source", "Kind", "Hint")

_FRONT = """\
<div class="kind">{{Kind}}</div>
<div class="title">{{Title}}</div>
<div class="title-zh">{{TitleZh}}</div>
{{#Equation}}<div class="equation">{{Equation}}</div>{{/Equation}}
<div class="prompt">{{Prompt}}</div>
{{#PromptZh}}<div class="prompt-zh">{{PromptZh}}</div>{{/PromptZh}}
{{#Scope}}<div class="scope">{{Scope}}</div>{{/Scope}}
{{#Code}}<div class="code">{{Code}}</div>{{/Code}}
{{#Hint}}<div class="hint-box">{{hint:Hint}}</div>{{/Hint}}
"""

_BACK = """\
{{FrontSide}}
<hr id="answer">
<div class="answer">{{Answer}}</div>
{{#Accepted}}<div class="accepted"><div class="label">Also correct</div>{{Accepted}}</div>{{/Accepted}}
{{#Explain}}<div class="explain">{{Explain}}</div>{{/Explain}}
{{#ExplainZh}}<div class="explain-zh">{{ExplainZh}}</div>{{/ExplainZh}}
<div class="source">{{Source}} · {{CardId}}</div>
"""

_CSS = """\
.card { font-family: -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", sans-serif;
        font-size: 18px; text-align: left; color: #222; background: #fff; max-width: 46em; margin: auto; }
.nightMode .card, .night_mode .card { color: #ddd; background: #1e1e1e; }
.kind { font-size: 12px; text-transform: uppercase; letter-spacing: .08em; color: #888; }
.title { font-size: 24px; font-weight: 600; }
.title-zh { font-size: 18px; color: #666; margin-bottom: .6em; }
.equation { text-align: center; margin: .8em 0; overflow-x: auto; }
.prompt-zh, .explain-zh { color: #555; }
.scope table { border-collapse: collapse; font-family: monospace; font-size: 15px; }
.scope td { padding: 1px 10px 1px 0; }
.code pre, .answer pre, .accepted pre { font-size: 14px; padding: 8px; border-radius: 4px;
        overflow-x: auto; background: #f6f8fa; }
.nightMode pre, .night_mode pre { background: #2b2b2b !important; }
.hint-box { margin-top: .6em; color: #8a6d00; }
.label { font-size: 12px; color: #888; margin-top: .6em; }
.explain { margin-top: .8em; }
.source { margin-top: 1em; font-size: 12px; color: #999; }
"""


def note_model() -> genanki.Model:
    """The note type every exported card uses (question on the front, answer and why on the back)."""
    return genanki.Model(
        MODEL_ID, MODEL_NAME,
        fields=[{"name": f} for f in FIELDS],
        templates=[{"name": "Card", "qfmt": _FRONT, "afmt": _BACK}],
        css=_CSS, sort_field_index=1,
    )
