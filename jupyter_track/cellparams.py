"""Hyperparameters read from a cell's code: top-level assignments of literals.

Found by parsing the cell's AST, never by guessing names::

    lr = 0.01                 -> lr = 0.01
    layers = [64, 32]         -> layers = [64, 32]
    opt = "adam"              -> opt = adam
    cfg = dict(depth=3)       -> cfg = {'depth': 3}
    a, b = 1, "x"             -> a = 1, b = x
    epochs: int = 10          -> epochs = 10

Names starting with ``_`` are private and skipped. When a name is assigned twice, the last
literal wins. Non-literal right-hand sides (``model = Net()``) are ignored.
"""

from __future__ import annotations

import ast
from typing import Any

_NOT_LITERAL = object()


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("dict", "list", "tuple", "set", "frozenset")
    ):
        if node.func.id == "dict" and not node.args:
            values = {}
            for keyword in node.keywords:
                if keyword.arg is None:
                    return _NOT_LITERAL
                value = _literal(keyword.value)
                if value is _NOT_LITERAL:
                    return _NOT_LITERAL
                values[keyword.arg] = value
            return values
        if not node.keywords and len(node.args) <= 1:
            inner = _literal(node.args[0]) if node.args else ()
            if inner is _NOT_LITERAL:
                return _NOT_LITERAL
            try:
                return {
                    "dict": dict,
                    "list": list,
                    "tuple": tuple,
                    "set": set,
                    "frozenset": frozenset,
                }[node.func.id](inner)
            except (TypeError, ValueError):
                return _NOT_LITERAL
    return _NOT_LITERAL


def _assign(target: ast.AST, value: ast.AST, out: dict[str, Any]) -> None:
    if isinstance(target, ast.Name):
        literal = _literal(value)
        if literal is not _NOT_LITERAL and not target.id.startswith("_"):
            out[target.id] = literal
        return
    if (
        isinstance(target, (ast.Tuple, ast.List))
        and isinstance(value, (ast.Tuple, ast.List))
        and len(target.elts) == len(value.elts)
    ):
        for t, v in zip(target.elts, value.elts):
            _assign(t, v, out)


def literal_assignments(source: str | ast.Module) -> dict[str, Any]:
    """Top-level ``name = <literal>`` assignments of ``source`` (valid Python after IPython's
    transforms, or its parse tree); returns {} when the code does not parse."""
    if isinstance(source, ast.Module):
        tree = source
    else:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return {}
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                _assign(target, node.value, found)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            _assign(node.target, node.value, found)
    return found


def param_text(value: Any) -> str:
    """How a param value is stored: strings as they are, everything else as ``str()``."""
    return value if isinstance(value, str) else str(value)
