"""The fields of one MLflow call, read with types and limits.

MLflow's client sends ``POST``/``PATCH``/``DELETE`` fields as a JSON object and ``GET`` fields as
a query string (repeated keys for lists, ``True``/``False`` for booleans). :class:`Fields` reads
both the same way, checking each value the protocol's message types allow (strings, int64,
doubles with ``"NaN"``/``"Infinity"``, lists, objects); a wrong value raises
``INVALID_PARAMETER_VALUE`` naming the field (``metrics[3].value: ...``) and the reason. Unknown
fields are ignored, as newer clients send fields older servers do not know.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from .errors import MlflowError, invalid

_DIGITS = re.compile(r"^[+-]?[0-9]+$")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_SPECIAL_FLOATS = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf}
_SPECIAL_FLOATS["-inf"] = -math.inf


def is_digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts '³' and other digits ``int`` refuses)."""
    return bool(text) and text.isascii() and text.isdigit()


def _clean_text(value: str, where: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(f"{where}: is not valid UTF-8 text (lone surrogate)") from None
    return value


class Fields:
    """Typed access to the fields of a message; ``where`` prefixes error messages."""

    def __init__(self, values: Mapping[str, Any], *, where: str = "", query: bool = False):
        self._values = values
        self._where = where
        self._query = query

    def _name(self, name: str) -> str:
        return f"{self._where}.{name}" if self._where else name

    def has(self, name: str) -> bool:
        """Whether the field was sent (``null`` counts as not sent)."""
        return self._raw(name) is not None

    def raw(self, name: str) -> Any:
        """The value as sent (the first one for a repeated query key), unchecked."""
        return self._raw(name)

    def _raw(self, name: str) -> Any:
        value = self._values.get(name)
        if self._query and isinstance(value, list):
            return value[0] if value else None
        return value

    # ------------------------------------------------------------------------- scalars

    def text(
        self,
        name: str,
        *aliases: str,
        required: bool = False,
        default: str | None = None,
        max_length: int | None = None,
    ) -> str | None:
        """A string field (``aliases``: older names of the same field, e.g. ``run_uuid``)."""
        for candidate in (name, *aliases):
            value = self._raw(candidate)
            if value is not None:
                where = self._name(candidate)
                if not isinstance(value, str):
                    raise invalid(f"{where}: must be a string, got {_kind(value)}")
                if max_length is not None and len(value) > max_length:
                    raise invalid(
                        f"{where}: is {len(value)} characters long, the limit is {max_length}"
                    )
                return _clean_text(value, where)
        if required:
            raise invalid(f"{self._name(name)}: missing (a string is required)")
        return default

    def required_text(self, name: str, *aliases: str, max_length: int | None = None) -> str:
        """A string field that must be present."""
        value = self.text(name, *aliases, required=True, max_length=max_length)
        assert value is not None
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        default: int | None = None,
        lo: int = INT64_MIN,
        hi: int = INT64_MAX,
    ) -> int | None:
        """An int64 field: a JSON integer or its text (``"12"``, as protobuf's JSON allows)."""
        value = self._raw(name)
        where = self._name(name)
        if value is None:
            if required:
                raise invalid(f"{where}: missing (an integer is required)")
            return default
        number: int
        if isinstance(value, bool):
            raise invalid(f"{where}: must be an integer, got a boolean")
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _DIGITS.match(value.strip()) and len(value) < 40:
            number = int(value.strip())
        else:
            raise invalid(f"{where}: must be an integer, got {_show(value)}")
        if not lo <= number <= hi:
            raise invalid(f"{where}: {number} is out of range ({lo} to {hi})")
        return number

    def required_integer(self, name: str, *, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int:
        """An integer field that must be present."""
        value = self.integer(name, required=True, lo=lo, hi=hi)
        assert value is not None
        return value

    def number(self, name: str, *, required: bool = False) -> float | None:
        """A double: a JSON number, ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` or numeric text."""
        value = self._raw(name)
        where = self._name(name)
        if value is None:
            if required:
                raise invalid(f"{where}: missing (a number is required)")
            return None
        if isinstance(value, bool):
            raise invalid(f"{where}: must be a number, got a boolean")
        if isinstance(value, (int, float)):
            try:
                return float(value)
            except OverflowError:
                raise invalid(f"{where}: {_show(value)} is too large for a double") from None
        if isinstance(value, str):
            special = _SPECIAL_FLOATS.get(value.strip().lower())
            if special is not None:
                return special
            try:
                return float(value) if len(value) < 400 else _fail(where, value)
            except ValueError:
                pass
        raise invalid(f"{where}: must be a number, got {_show(value)}")

    def boolean(self, name: str, *, default: bool = False) -> bool:
        """A boolean: JSON ``true``/``false`` or the text ``true``/``false`` (any case)."""
        value = self._raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(f"{self._name(name)}: must be true or false, got {_show(value)}")

    def enum(self, name: str, choices: Mapping[str, int], *, default: int) -> int:
        """An enum sent by name (``"ACTIVE_ONLY"``) or by number (``1``)."""
        value = self._raw(name)
        if value is None:
            return default
        if isinstance(value, str) and value.upper() in choices:
            return choices[value.upper()]
        numbers = set(choices.values())
        if isinstance(value, str) and _DIGITS.match(value) and int(value) in numbers:
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value in numbers:
            return value
        raise invalid(
            f"{self._name(name)}: must be one of {', '.join(choices)}, got {_show(value)}"
        )

    # --------------------------------------------------------------------------- lists

    def texts(self, name: str, *, max_items: int = 10_000) -> list[str]:
        """A repeated string field (a JSON list, or repeated query keys)."""
        value = self._values.get(name)
        where = self._name(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise invalid(f"{where}: must be a list of strings, got {_kind(value)}")
        if len(value) > max_items:
            raise invalid(f"{where}: has {len(value)} items, the limit is {max_items}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise invalid(f"{where}[{i}]: must be a string, got {_kind(item)}")
            out.append(_clean_text(item, f"{where}[{i}]"))
        return out

    def messages(self, name: str, *, max_items: int) -> list[Fields]:
        """A repeated message field (a JSON list of objects), each read as :class:`Fields`."""
        if self._query:
            if name in self._values:
                raise invalid(f"{self._name(name)}: send it in a JSON body, not a query string")
            return []
        value = self._values.get(name)
        where = self._name(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise invalid(f"{where}: must be a list of objects, got {_kind(value)}")
        if len(value) > max_items:
            raise invalid(f"{where}: has {len(value)} items, the limit is {max_items}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise invalid(f"{where}[{i}]: must be an object, got {_kind(item)}")
            out.append(Fields(item, where=f"{where}[{i}]"))
        return out

    def message(self, name: str) -> Fields:
        """A nested message field (a JSON object), read as :class:`Fields`."""
        value = None if self._query else self._values.get(name)
        where = self._name(name)
        if value is None:
            raise invalid(f"{where}: missing (an object is required)")
        if not isinstance(value, dict):
            raise invalid(f"{where}: must be an object, got {_kind(value)}")
        return Fields(value, where=where)

    def key_values(self, name: str, *, max_items: int = 1000) -> dict[str, str]:
        """A repeated ``{key, value}`` field (tags) as a dict, in order."""
        pairs: dict[str, str] = {}
        for item in self.messages(name, max_items=max_items):
            key = item.required_text("key")
            pairs[key] = item.text("value", default="") or ""
        return pairs


class Request(Fields):
    """The fields of one call and the authenticated user making it (``verified``: the host
    authenticated that identity itself, as opposed to taking a name it was told)."""

    def __init__(
        self, values: Mapping[str, Any], *, user: str, verified: bool = True, query: bool = False
    ):
        super().__init__(values, query=query)
        self.user = user
        self.verified = verified

    @classmethod
    def from_json(
        cls,
        body: bytes,
        *,
        user: str,
        verified: bool = True,
        path: Mapping[str, str] | None = None,
    ) -> Request:
        """Fields from a JSON object body (an empty body is an empty message) and the path's
        own fields (``{model_id}``), which win."""
        if not body or not body.strip():
            return cls(dict(path or {}), user=user, verified=verified)
        try:
            values = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise MlflowError(
                "MALFORMED_REQUEST", f"the body is not valid JSON: {exc}", status=400
            ) from None
        if not isinstance(values, dict):
            raise MlflowError("MALFORMED_REQUEST", "the body must be a JSON object", status=400)
        return cls({**values, **(path or {})}, user=user, verified=verified)

    @classmethod
    def from_query(
        cls,
        arguments: Mapping[str, list[bytes]],
        *,
        user: str,
        verified: bool = True,
        path: Mapping[str, str] | None = None,
    ) -> Request:
        """Fields from a query string (values as sent: lists of bytes) and the path's own
        fields, which win."""
        values: dict[str, list[str]] = {}
        for name, raw in arguments.items():
            try:
                values[name] = [item.decode("utf-8") for item in raw]
            except UnicodeDecodeError:
                raise invalid(f"{name}: is not valid UTF-8") from None
        for name, value in (path or {}).items():
            values[name] = [value]
        return cls(values, user=user, verified=verified, query=True)


def _fail(where: str, value: Any) -> float:
    raise invalid(f"{where}: must be a number, got {_show(value)}")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
