"""What a card's fields must hold beyond their TOML types: generators that parse, names that do
not clash, answers and code that parse, placeholders over real parameters, balanced LaTeX.

Each check returns ``(field, message)`` pairs; the loader adds the file, line and card.
"""

from __future__ import annotations

from typing import Any

from .answers import AnswerSyntaxError, check_kernel_body, check_syntax
from .generators import GeneratorError, parse_dim_rule, parse_generator
from .latex import latex_problem
from .params import fill_params, placeholders
from .schema import RESERVED_NAMES, VARIABLE_DOMAINS, is_identifier

__all__ = ["content_problems", "type_problem"]


def type_problem(expected: str, value: Any) -> str | None:
    """What is wrong with a field's TOML type, or None."""
    def is_num(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    checks = {
        "str": (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string"),
        "list[str]": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
                      "a list of strings"),
        "list[reject]": (lambda v: isinstance(v, list) and all(
            isinstance(x, str) or (isinstance(x, dict) and isinstance(x.get("answer"), str)
                                   and set(x) <= {"answer", "why"}
                                   and isinstance(x.get("why", ""), str)) for x in v),
            'a list of answers, each a string or { answer = "...", why = "..." }'),
        "table[str]": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
                       "a table of strings"),
        "table[scalar]": (lambda v: isinstance(v, dict) and all(
            isinstance(x, (int, float, bool, str)) for x in v.values()),
            "a table of numbers, booleans or strings"),
        "table[dim]": (lambda v: isinstance(v, dict), "a table of dimension rules"),
        "table[range]": (lambda v: isinstance(v, dict) and all(
            isinstance(x, list) and len(x) == 2 and all(type(y) is int for y in x)
            for x in v.values()), "a table of [low, high] integer ranges"),
        "positive": (lambda v: is_num(v) and v > 0, "a positive number"),
        "int": (lambda v: type(v) is int and 1 <= v <= 32, "an integer from 1 to 32"),
        "bool": (lambda v: isinstance(v, bool), "true or false"),
    }
    ok, what = checks[expected]
    return None if ok(value) else f"expected {what}, got {value!r}"


def content_problems(raw: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    """Problems inside well-typed fields: generators, names, syntax, LaTeX."""
    out: list[tuple[str, str]] = []
    if "latex" in raw:
        msg = latex_problem(raw["latex"])
        if msg:
            out.append(("latex", msg))
    out.extend(_name_problems(raw))
    if kind in ("expr", "kernel"):
        out.extend(_syntax_problems(raw))
    if kind in ("shape", "output"):
        out.extend(_code_problems(raw, kind))
    if kind == "symbolic":
        for name, domain in raw["variables"].items():
            if not is_identifier(name):
                out.append((f"variables.{name}", f"{name!r} cannot be a variable name"))
            if domain not in VARIABLE_DOMAINS:
                out.append((f"variables.{name}",
                            f"unknown domain {domain!r}; expected one of {', '.join(VARIABLE_DOMAINS)}"))
    return out


def _code_problems(raw: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    """A shape or output card's code, parameters and placeholders.

    The code is graded by the value of its last line, so a last line that is an
    assignment would only fail later, in ``deck check``, as a confusing verdict.
    """
    params: dict[str, list[int]] = raw.get("params", {})
    out = [(f"params.{name}", f"{name!r} cannot be a parameter name")
           for name in params if not is_identifier(name)]
    out += _placeholder_problems(raw, set(params))
    code = fill_params(raw["code"], {k: v[0] for k, v in params.items()})
    try:
        compile(code, "<code>", "exec")
    except SyntaxError as exc:
        return [*out, ("code", f"SyntaxError on line {exc.lineno}: {exc.msg}")]
    try:
        check_syntax(code)
    except AnswerSyntaxError as exc:
        asked = "shape" if kind == "shape" else "printed value"
        out.append(("code", f"line {exc.line} of the code: it must end in the expression whose {asked} "
                            "is asked, e.g. a last line `y` after `y = ...`"))
    return out


def _placeholder_problems(raw: dict[str, Any], params: set[str]) -> list[tuple[str, str]]:
    """``{Q}`` placeholders over names that are not parameters: left as typed, they would
    show the learner a literal ``{Q}`` (or run as a set in the code)."""
    texts = [("code", raw["code"]), ("prompt", raw["prompt"]), ("prompt_zh", raw.get("prompt_zh", "")),
             ("hint", raw.get("hint", "")), ("hint_zh", raw.get("hint_zh", ""))]
    texts += [(f"accept[{i}]", a) for i, a in enumerate(raw.get("accept", []))]
    texts += [(f"reject[{i}]", r if isinstance(r, str) else r["answer"])
              for i, r in enumerate(raw.get("reject", []))]
    known = ", ".join(sorted(params)) or "none: add params = { NAME = [low, high] }"
    out: list[tuple[str, str]] = []
    for fld, text in texts:
        for placeholder, names in placeholders(text):
            unknown = sorted(set(names) - params)
            if unknown:
                out.append((fld, f"placeholder {placeholder} uses {', '.join(unknown)}, which is not "
                                 f"a parameter (params: {known})"))
    return out


def _name_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Inputs, stress inputs, dimension rules and constants: each parses, and no name clashes."""
    out: list[tuple[str, str]] = []
    inputs: dict[str, str] = raw.get("inputs", {})
    constants: dict[str, Any] = raw.get("constants", {})
    dims: dict[str, Any] = raw.get("dims", {})
    symbols: set[str] = set()
    for field_name, table in (("inputs", inputs), ("stress", raw.get("stress", {}))):
        for name, text in table.items():
            if field_name == "inputs" and (not is_identifier(name) or name in RESERVED_NAMES):
                out.append((f"inputs.{name}", f"{name!r} cannot be an input name"))
            if field_name == "stress" and name not in inputs:
                out.append((f"stress.{name}", f"stress replaces inputs; {name!r} is not an input"))
            try:
                symbols.update(parse_generator(text).symbols)
            except GeneratorError as exc:
                out.append((f"{field_name}.{name}", str(exc)))
    for name, value in dims.items():
        try:
            rule = parse_dim_rule(value)
        except GeneratorError as exc:
            out.append((f"dims.{name}", str(exc)))
            continue
        unknown = [s for s in (rule.derived.symbols if rule.derived else ())
                   if s not in dims and s not in constants and s not in symbols]
        if unknown:
            out.append((f"dims.{name}", f"{value!r} uses unknown symbols {unknown}"))
    for name in (*constants, *dims, *symbols):
        if not is_identifier(name) or name in RESERVED_NAMES:
            out.append(("constants" if name in constants else "dims", f"{name!r} cannot be a name"))
        elif name in inputs:
            out.append((f"inputs.{name}", f"{name!r} is both an input and a dimension or constant"))
    out += [(f"dims.{name}", f"{name!r} is both a constant and a dimension")
            for name in constants if name in dims]
    return out


def _syntax_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    answers: list[tuple[str, str]] = [("reference", raw["reference"])]
    answers += [(f"accept[{i}]", a) for i, a in enumerate(raw.get("accept", []))]
    answers += [(f"reject[{i}]", r if isinstance(r, str) else r["answer"])
                for i, r in enumerate(raw.get("reject", []))]
    kernel = raw["kind"] == "kernel"
    body_check = check_kernel_body if kernel else check_syntax  # a kernel body returns nothing
    checks = [(fld, text, body_check) for fld, text in answers]
    if kernel:
        checks += [("spec", raw["spec"], check_syntax), ("launcher", raw["launcher"], check_syntax)]
    for fld, text, check in checks:
        try:
            check(text)
        except AnswerSyntaxError as exc:
            out.append((fld, f"does not parse: {exc}"))
    return out
