"""Reading code answers: one expression, or a body of statements ending in ``return``.

Shared by the deck validator (syntax only) and the grader (which compiles the
result into a function); standard library only.
"""

from __future__ import annotations

import ast
import builtins
import symtable
import textwrap
from dataclasses import dataclass

__all__ = ["AnswerSyntaxError", "FUNCTION_NAME", "answer_function", "check_kernel_body", "check_syntax"]

FUNCTION_NAME = "__answer__"


@dataclass
class AnswerSyntaxError(Exception):
    """The answer is not valid Python, or does not end in a value; ``line`` is 1-based."""

    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


MAX_ANSWER_CHARS = 50_000


def _body(text: str) -> list[ast.stmt]:
    try:
        return _parse_body(text)
    except (RecursionError, MemoryError):
        raise AnswerSyntaxError("the answer is nested too deeply to read") from None


def _parse_body(text: str) -> list[ast.stmt]:
    # a body copied out of a function keeps its indent: every line indented alike is no error
    src = textwrap.dedent(text.strip("\n"))
    if not src.strip():
        raise AnswerSyntaxError("the answer is empty")
    if len(src) > MAX_ANSWER_CHARS:
        raise AnswerSyntaxError(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
    try:
        expr = ast.parse(src.strip(), mode="eval")
        ret = ast.Return(value=expr.body)
        ast.copy_location(ret, expr.body)
        return [ret]
    except SyntaxError:
        pass
    try:
        module = ast.parse(src, mode="exec")
    except SyntaxError as exc:
        raise AnswerSyntaxError(f"SyntaxError: {exc.msg}", exc.lineno) from None
    body = module.body
    if not body:
        raise AnswerSyntaxError("the answer is empty")
    last = body[-1]
    if isinstance(last, ast.Expr):  # a body whose last line is a bare expression: return it
        ret = ast.Return(value=last.value)
        ast.copy_location(ret, last)
        body[-1] = ret
    elif not isinstance(last, ast.Return) and not _always_returns(last):
        raise AnswerSyntaxError(
            "an answer is one expression, or a body ending in `return <value>` (or a final expression)",
            last.lineno)
    return body


def _always_returns(stmt: ast.stmt) -> bool:
    """An if/else whose every branch returns, or a ``with`` block that returns, ends the answer."""
    if isinstance(stmt, ast.Return):
        return True
    if isinstance(stmt, ast.If):
        return bool(stmt.orelse) and _always_returns(stmt.body[-1]) and _always_returns(stmt.orelse[-1])
    if isinstance(stmt, ast.With):
        return _always_returns(stmt.body[-1])
    return False


def answer_function(text: str, argnames: list[str] | tuple[str, ...]) -> ast.Module:
    """Wrap an answer as ``def __answer__(<argnames>): <body>``, keeping its line numbers."""
    body = _body(text)
    args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in argnames], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    fn = ast.FunctionDef(name=FUNCTION_NAME, args=args, body=body, decorator_list=[], returns=None,
                         type_params=[])
    fn.lineno, fn.col_offset = 1, 0
    module = ast.Module(body=[fn], type_ignores=[])
    return ast.fix_missing_locations(module)


def check_syntax(text: str) -> None:
    """Raise :class:`AnswerSyntaxError` if the text is not a valid answer."""
    _body(text)


def check_kernel_body(text: str) -> None:
    """Raise :class:`AnswerSyntaxError` if the text is not a kernel body.

    A ``@triton.jit`` body returns nothing: any statements will do, so it may
    end in a loop or a store rather than in ``return <value>``.
    """
    if not text.strip():
        raise AnswerSyntaxError("the kernel body is empty")
    lines = text.strip("\n").splitlines()
    indent = min(len(s) - len(s.lstrip()) for s in lines if s.strip())
    try:
        ast.parse("\n".join(s[indent:] for s in lines), mode="exec")
    except SyntaxError as exc:
        raise AnswerSyntaxError(f"SyntaxError: {exc.msg}", exc.lineno) from None


def unknown_names(text: str, argnames: list[str] | tuple[str, ...], scope: set[str]) -> list[str]:
    """Names the answer reads that nothing defines: not an argument, not in ``scope``, not a
    builtin, not assigned or imported by the answer itself (a typo such as ``X`` for ``x``)."""
    try:
        source = ast.unparse(answer_function(text, argnames))
    except (RecursionError, MemoryError):  # too deep to inspect: running it will say what is wrong
        return []
    known = set(scope) | set(dir(builtins))
    missing: list[str] = []

    def walk(table: symtable.SymbolTable) -> None:
        for sym in table.get_symbols():
            if sym.is_global() and sym.is_referenced() and not sym.is_assigned() \
                    and sym.get_name() not in known and sym.get_name() not in missing:
                missing.append(sym.get_name())
        for child in table.get_children():
            walk(child)

    try:
        top = symtable.symtable(source, "<answer>", "exec")
    except (RecursionError, MemoryError, SyntaxError):
        return []
    assigned_at_top = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    walk(top)
    return [m for m in missing if m not in assigned_at_top]
