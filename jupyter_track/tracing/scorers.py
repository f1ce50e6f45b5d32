"""Scorers for ``jt.evaluate``: the built-in ones and ``@jt.scorer`` for your own.

A scorer is called per row with the arguments it names among ``inputs`` (the row's inputs),
``outputs`` (what ``predict_fn`` returned), ``expectations`` (the row's expectations) and
``trace`` (the row's :class:`~.entities.Trace`), and returns a bool, a number, a string, a
:class:`~.entities.Feedback` (value and rationale), or a list of Feedbacks (each with its own
name). An exception inside a scorer becomes a feedback with an error; it never stops the
evaluation.

Built-in: :class:`ExactMatch`, :class:`Contains`, :class:`RegexMatch`, :class:`JsonValid`,
:class:`Latency`, :class:`TokenCount`; LLM-as-judge: :func:`.judges.make_judge`.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..store.errors import InvalidInput
from .entities import Feedback

ARGUMENTS = ("inputs", "outputs", "expectations", "trace")
DEFAULT_EXPECTATION = "expected_response"


def output_text(outputs: Any) -> str:
    """The text of an output: a string as it is; a chat completion's or a Responses API
    answer; else JSON."""
    if isinstance(outputs, str):
        return outputs
    if isinstance(outputs, Mapping):
        choices = outputs.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
            message = choices[0].get("message")
            if isinstance(message, Mapping) and isinstance(message.get("content"), str):
                return str(message["content"])
        if isinstance(outputs.get("output_text"), str):
            return str(outputs["output_text"])
    text = getattr(outputs, "output_text", None)
    if isinstance(text, str):
        return text
    try:
        return json.dumps(outputs, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(outputs)


class Scorer:
    """Something that scores one row; subclasses implement :meth:`score`.

    ``kind`` is ``"CODE"`` for code scorers and ``"LLM_JUDGE"`` for judges (the source of the
    feedback they attach to traces).
    """

    name = "scorer"
    kind = "CODE"
    #: whether a higher score is a better one (comparisons of evaluations read it)
    higher_is_better = True

    def score(
        self, *, inputs: Any, outputs: Any, expectations: Mapping[str, Any], trace: Any
    ) -> Any:
        raise NotImplementedError

    def __call__(
        self,
        *,
        inputs: Any = None,
        outputs: Any = None,
        expectations: Mapping[str, Any] | None = None,
        trace: Any = None,
    ) -> Any:
        return self.score(
            inputs=inputs, outputs=outputs, expectations=expectations or {}, trace=trace
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _expected(expectations: Mapping[str, Any], key: str, scorer: str) -> Any:
    if key not in expectations:
        raise InvalidInput(f"{scorer}: the row has no expectation {key!r}")
    return expectations[key]


class ExactMatch(Scorer):
    """True when the output's text equals the expectation (``expected_response`` by default;
    whitespace at both ends ignored, case too with ``ignore_case``)."""

    def __init__(
        self,
        *,
        name: str = "exact_match",
        expectation: str = DEFAULT_EXPECTATION,
        ignore_case: bool = False,
    ):
        self.name = name
        self.expectation = expectation
        self.ignore_case = ignore_case

    def score(
        self, *, inputs: Any, outputs: Any, expectations: Mapping[str, Any], trace: Any
    ) -> Any:
        expected = str(_expected(expectations, self.expectation, self.name)).strip()
        got = output_text(outputs).strip()
        if self.ignore_case:
            expected, got = expected.lower(), got.lower()
        return Feedback(
            name=self.name,
            value=got == expected,
            rationale=None if got == expected else f"expected {expected!r}, got {got[:200]!r}",
        )


class Contains(Scorer):
    """True when the output's text contains ``substring`` (or, without one, the expectation);
    case-insensitive unless ``ignore_case=False``."""

    def __init__(
        self,
        substring: str | None = None,
        *,
        name: str = "contains",
        expectation: str = DEFAULT_EXPECTATION,
        ignore_case: bool = True,
    ):
        self.substring = substring
        self.name = name
        self.expectation = expectation
        self.ignore_case = ignore_case

    def score(
        self, *, inputs: Any, outputs: Any, expectations: Mapping[str, Any], trace: Any
    ) -> Any:
        needle = self.substring
        if needle is None:
            needle = str(_expected(expectations, self.expectation, self.name))
        text = output_text(outputs)
        if self.ignore_case:
            return needle.lower() in text.lower()
        return needle in text


class RegexMatch(Scorer):
    """True when the regular expression ``pattern`` is found in the output's text."""

    def __init__(self, pattern: str, *, name: str = "regex_match", flags: int = 0):
        try:
            self.pattern = re.compile(pattern, flags)
        except (re.error, TypeError) as exc:
            raise InvalidInput(f"RegexMatch pattern {pattern!r}: {exc}") from None
        self.name = name

    def score(
        self, *, inputs: Any, outputs: Any, expectations: Mapping[str, Any], trace: Any
    ) -> Any:
        return self.pattern.search(output_text(outputs)) is not None


class JsonValid(Scorer):
    """True when the output is JSON: a dict or list, or a string that parses as JSON (with
    ``required_keys`` present in the object, when given)."""

    def __init__(self, *, name: str = "json_valid", required_keys: tuple[str, ...] = ()):
        self.name = name
        self.required_keys = tuple(required_keys)

    def score(
        self, *, inputs: Any, outputs: Any, expectations: Mapping[str, Any], trace: Any
    ) -> Any:
        value = outputs
        if isinstance(outputs, str):
            try:
                value = json.loads(outputs)
            except ValueError as exc:
                return Feedback(name=self.name, value=False, rationale=f"not JSON: {exc}")
        if not isinstance(value, (dict, list)):
            return Feedback(
                name=self.name, value=False, rationale=f"a {type(value).__name__}, not JSON"
            )
        missing = [k for k in self.required_keys if not isinstance(value, dict) or k not in value]
        if missing:
            return Feedback(name=self.name, value=False, rationale=f"missing keys {missing}")
        return True


class Latency(Scorer):
    """The row's latency in milliseconds (its trace's), or, with ``max_ms``, whether it was
    at most that."""

    def __init__(self, max_ms: float | None = None, *, name: str = "latency"):
        self.max_ms = max_ms
        self.name = name
        self.higher_is_better = max_ms is not None  # milliseconds: fewer is better

    def score(
        self, *, inputs: Any, outputs: Any, expectations: Mapping[str, Any], trace: Any
    ) -> Any:
        if trace is None or trace.info.execution_time_ms is None:
            raise InvalidInput(f"{self.name}: the row has no finished trace")
        root = trace.data._root
        ms = (
            root.duration_ms
            if root is not None and root.duration_ms is not None
            else float(trace.info.execution_time_ms)
        )
        if self.max_ms is None:
            return round(ms, 3)
        return Feedback(
            name=self.name, value=ms <= self.max_ms, rationale=f"{ms:.1f} ms (limit {self.max_ms})"
        )


class TokenCount(Scorer):
    """The total tokens of the row's model calls (its trace's token usage), or, with
    ``max_tokens``, whether they were at most that."""

    def __init__(self, max_tokens: int | None = None, *, name: str = "token_count"):
        self.max_tokens = max_tokens
        self.name = name
        self.higher_is_better = max_tokens is not None  # tokens: fewer is better

    def score(
        self, *, inputs: Any, outputs: Any, expectations: Mapping[str, Any], trace: Any
    ) -> Any:
        if trace is None:
            raise InvalidInput(f"{self.name}: the row has no trace")
        usage = trace.info.token_usage
        total = usage["total_tokens"] if usage else 0
        if self.max_tokens is None:
            return total
        return Feedback(
            name=self.name,
            value=total <= self.max_tokens,
            rationale=f"{total} tokens (limit {self.max_tokens})",
        )


class FunctionScorer(Scorer):
    """A scorer made from a function by ``@jt.scorer``; it gets the arguments it names."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None):
        self.fn = fn
        self.name = str(name or getattr(fn, "__name__", "scorer"))
        try:
            parameters = inspect.signature(fn).parameters
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"scorer {self.name!r}: cannot read its signature: {exc}") from None
        takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        unknown = [
            n
            for n, p in parameters.items()
            if n not in ARGUMENTS
            and p.default is inspect.Parameter.empty
            and p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
        ]
        if unknown:
            raise InvalidInput(
                f"scorer {self.name!r}: parameter(s) {', '.join(unknown)} are not among "
                f"{', '.join(ARGUMENTS)}"
            )
        self.wants = ARGUMENTS if takes_all else tuple(n for n in ARGUMENTS if n in parameters)
        self.__doc__ = fn.__doc__

    def score(
        self, *, inputs: Any, outputs: Any, expectations: Mapping[str, Any], trace: Any
    ) -> Any:
        given = {"inputs": inputs, "outputs": outputs, "expectations": expectations, "trace": trace}
        return self.fn(**{n: given[n] for n in self.wants})


def scorer(func: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Make a function a scorer: ``@jt.scorer`` or ``@jt.scorer(name="polite")``. It is called
    with the arguments it names among ``inputs``, ``outputs``, ``expectations``, ``trace``."""

    def decorate(fn: Callable[..., Any]) -> FunctionScorer:
        return FunctionScorer(fn, name)

    if func is not None:
        return decorate(func)
    return decorate


def as_scorer(value: Any) -> Scorer:
    """A :class:`Scorer` from a scorer or a plain function."""
    if isinstance(value, Scorer):
        return value
    if callable(value):
        return FunctionScorer(value)
    raise InvalidInput(f"scorers: {value!r} is not a scorer or a function")


__all__ = [
    "Contains",
    "ExactMatch",
    "FunctionScorer",
    "JsonValid",
    "Latency",
    "RegexMatch",
    "Scorer",
    "TokenCount",
    "output_text",
    "scorer",
]
