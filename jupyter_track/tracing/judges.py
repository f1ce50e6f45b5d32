"""LLM-as-judge: ``jt.judges.make_judge(instructions, model=...)`` makes a scorer that asks a
model to judge each row.

``instructions`` say what to judge and may name the row's parts with MLflow's template
variables ``{{ inputs }}``, ``{{ outputs }}``, ``{{ expectations }}`` (put in place, each in
its own tag: ``<inputs>``, ``<response>``, ``<expected>``); parts not named are appended the
same way. The model answers with a JSON object ``{"result": ..., "rationale": "..."}``, which
becomes the row's feedback (``result`` as the value). The model is any callable taking the
prompt text and returning the answer text, or an OpenAI-compatible chat model:
``"openai:/gpt-4o-mini"`` (the ``openai`` client, reading ``OPENAI_BASE_URL`` and
``OPENAI_API_KEY``; ``base_url=``/``api_key=`` override them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..store.errors import InvalidInput
from .entities import Feedback
from .scorers import Scorer, output_text

SYSTEM_PROMPT = (
    "You are an impartial judge of the answers of an AI application. Follow the "
    "instructions, look only at the data you are given, and answer with a JSON object "
    'with two keys: "result" (your verdict) and "rationale" (one or two sentences).'
)

_VARIABLE = re.compile(r"\{\{\s*(inputs|outputs|expectations|trace)\s*\}\}")
_TAGS = {"inputs": "inputs", "outputs": "response", "expectations": "expected", "trace": "trace"}


def _dump(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, indent=1)


def _section(part: str, value: Any) -> str:
    tag = _TAGS[part]
    return f"<{tag}>\n{value}\n</{tag}>"


def _verdict(text: str) -> dict[str, Any]:
    """The JSON object of the model's answer (code fences and surrounding text tolerated)."""
    candidates = [text.strip()]
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        candidates.append(fenced.group(1).strip())
    braces = re.search(r"\{.*\}", text, re.S)
    if braces:
        candidates.append(braces.group(0))
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict) and "result" in value:
            return value
    raise ValueError(f"the judge's answer is not a JSON object with a result: {text[:200]!r}")


class Judge(Scorer):
    """A scorer that asks a model (see the module doc); ``kind`` ``LLM_JUDGE``."""

    kind = "LLM_JUDGE"

    def __init__(
        self,
        name: str,
        instructions: str,
        model: str | Callable[[str], str],
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float | None = 0.0,
    ):
        if not isinstance(instructions, str) or not instructions.strip():
            raise InvalidInput("make_judge: instructions must be a non-empty string")
        self.name = name
        self.instructions = instructions
        self.model = model
        self._base_url = base_url
        self._api_key = api_key
        self._temperature = temperature
        self._client: Any = None
        if isinstance(model, str):
            scheme, sep, name_ = model.partition(":/")
            if not sep or scheme not in ("openai", "endpoints") or not name_.strip("/"):
                raise InvalidInput(
                    f"make_judge model {model!r}: use 'openai:/<model>' or a callable "
                    "prompt -> answer"
                )
            self.model_name = name_.strip("/")
        elif callable(model):
            self.model_name = getattr(model, "__name__", "callable")
        else:
            raise InvalidInput(
                f"make_judge model: expected 'openai:/<model>' or a callable, got "
                f"{type(model).__name__}"
            )

    def prompt(self, inputs: Any, outputs: Any, expectations: Mapping[str, Any]) -> str:
        """The text sent to the model for one row."""
        expected = ""
        if len(expectations) == 1:  # one expectation: its value, as the judge reads it
            expected = _dump(next(iter(expectations.values())))
        elif expectations:
            expected = _dump(dict(expectations))
        parts = {"inputs": _dump(inputs), "outputs": output_text(outputs), "expectations": expected}
        named: set[str] = set()

        def fill(match: re.Match[str]) -> str:
            part = match.group(1)
            named.add(part)
            return _section(part, parts.get(part, ""))

        text = _VARIABLE.sub(fill, self.instructions)
        extra = [
            _section(part, parts[part])
            for part in ("inputs", "outputs", "expectations")
            if part not in named and parts[part]
        ]
        if extra:
            text += "\n\n" + "\n".join(extra)
        return text

    def _ask(self, prompt: str) -> str:
        if callable(self.model):
            return str(self.model(prompt))
        if self._client is None:
            from openai import OpenAI

            kwargs: dict[str, Any] = {}
            if self._base_url:
                kwargs["base_url"] = self._base_url
            if self._api_key:
                kwargs["api_key"] = self._api_key
            self._client = OpenAI(**kwargs)
        request: dict[str, Any] = {
            "model": self.model_name,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": prompt},
            ],
        }
        if self._temperature is not None:
            request["temperature"] = self._temperature
        reply = self._client.chat.completions.create(**request)
        return reply.choices[0].message.content or ""

    def score(
        self, *, inputs: Any, outputs: Any, expectations: Mapping[str, Any], trace: Any
    ) -> Any:
        answer = self._ask(self.prompt(inputs, outputs, expectations))
        verdict = _verdict(answer)
        rationale = verdict.get("rationale")
        return Feedback(
            name=self.name,
            value=verdict["result"],
            rationale=None if rationale is None else str(rationale),
        )

    def __repr__(self) -> str:
        return f"Judge(name={self.name!r}, model={self.model_name!r})"


def make_judge(
    instructions: str,
    model: str | Callable[[str], str] = "openai:/gpt-4o-mini",
    *,
    name: str = "judge",
    base_url: str | None = None,
    api_key: str | None = None,
    temperature: float | None = 0.0,
) -> Judge:
    """An LLM-as-judge scorer (see the module doc): ``make_judge("Is the {{ outputs }} a
    correct answer to {{ inputs }}? Answer yes or no.", model="openai:/gpt-4o-mini",
    name="correct")``."""
    return Judge(
        name, instructions, model, base_url=base_url, api_key=api_key, temperature=temperature
    )


__all__ = ["Judge", "make_judge"]
