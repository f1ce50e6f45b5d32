"""Model signatures: what a model takes and returns, inferred from an input example.

Two kinds of schema, as in MLflow:

* **columns** -- named, typed columns (``double``, ``float``, ``long``, ``integer``, ``boolean``,
  ``string``, ``binary``, ``datetime``); inferred from a DataFrame, a list of dicts or a dict of
  columns. Input may then be a DataFrame, a list of dicts, a dict of columns or a numpy array
  with the columns in schema order.
* **tensor** -- one array with a dtype and a shape whose first axis (rows) is ``-1``; inferred from
  a numpy array or a list of lists.

:func:`enforce` turns any accepted input into what the model gets (a DataFrame in schema order or
an array of the schema's dtype) or raises :class:`SignatureError` naming the column and the
problem. Integers are accepted where floats are expected (as MLflow does); the reverse only when
the values are whole numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..store.errors import InvalidInput

COLUMN_TYPES = ("double", "float", "long", "integer", "boolean", "string", "binary", "datetime")


class SignatureError(InvalidInput):
    """The input does not match the model's signature; the message names the column."""


@dataclass(frozen=True)
class ColSpec:
    """One named input or output column."""

    name: str | None
    type: str
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            d["name"] = self.name
        if not self.required:
            d["required"] = False
        return d


@dataclass(frozen=True)
class Schema:
    """A columns schema (``columns``) or a tensor schema (``dtype`` + ``shape``)."""

    kind: str  # "columns" or "tensor"
    columns: tuple[ColSpec, ...] = ()
    dtype: str | None = None
    shape: tuple[int, ...] | None = None

    def input_names(self) -> list[str]:
        return [c.name for c in self.columns if c.name is not None]

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "columns":
            return {"type": "columns", "columns": [c.to_dict() for c in self.columns]}
        return {"type": "tensor", "dtype": self.dtype, "shape": list(self.shape or ())}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Schema:
        kind = d.get("type")
        if kind == "columns":
            return cls(
                "columns",
                tuple(
                    ColSpec(c.get("name"), c["type"], bool(c.get("required", True)))
                    for c in d.get("columns", [])
                ),
            )
        if kind == "tensor":
            return cls("tensor", dtype=str(d["dtype"]), shape=tuple(int(s) for s in d["shape"]))
        raise InvalidInput(f"schema: unknown type {kind!r} (expected 'columns' or 'tensor')")

    def __str__(self) -> str:
        if self.kind == "columns":
            return ", ".join(f"{c.name or '_'}: {c.type}" for c in self.columns)
        return f"tensor({self.dtype}, shape={list(self.shape or ())})"


@dataclass(frozen=True)
class ModelSignature:
    """``inputs`` (checked on every predict) and ``outputs`` (recorded) of a model."""

    inputs: Schema
    outputs: Schema | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "outputs": self.outputs.to_dict() if self.outputs is not None else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelSignature:
        outputs = d.get("outputs")
        return cls(Schema.from_dict(d["inputs"]), Schema.from_dict(outputs) if outputs else None)


# ------------------------------------------------------------------------------- inference


def _column_type(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer" if np.dtype(dtype).itemsize <= 4 else "long"
    if pd.api.types.is_float_dtype(dtype):
        return "float" if np.dtype(dtype).itemsize <= 4 else "double"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    values = series.dropna()
    if len(values) and all(isinstance(v, (bytes, bytearray)) for v in values):
        return "binary"
    if len(values) and all(isinstance(v, bool) for v in values):
        return "boolean"
    if pd.api.types.is_string_dtype(dtype) or all(isinstance(v, str) for v in values):
        return "string"
    raise InvalidInput(
        f"input_example: column {series.name!r} has values of type "
        f"{type(values.iloc[0]).__name__}, which no signature type describes"
    )


def _is_records(data: Any) -> bool:
    return isinstance(data, list) and len(data) > 0 and all(isinstance(r, Mapping) for r in data)


def example_to_data(example: Any) -> pd.DataFrame | np.ndarray:
    """Normalize an input example: a DataFrame (tabular inputs) or an ndarray (tensors)."""
    if isinstance(example, pd.DataFrame):
        return example
    if isinstance(example, pd.Series):
        return example.to_frame()
    if isinstance(example, np.ndarray):
        return example
    if isinstance(example, Mapping):
        values = list(example.values())
        if values and all(np.ndim(v) == 0 for v in values):
            return pd.DataFrame([dict(example)])
        return pd.DataFrame(dict(example))
    if _is_records(example):
        return pd.DataFrame(list(example))
    if isinstance(example, (list, tuple)):
        return np.asarray(example)
    raise InvalidInput(
        f"input_example: expected a DataFrame, a numpy array, a list of dicts or a dict of "
        f"columns, got {type(example).__name__}"
    )


def schema_of(data: Any) -> Schema:
    """The schema that describes ``data`` (a DataFrame, array, list of dicts, ...)."""
    data = example_to_data(data) if not isinstance(data, (pd.DataFrame, np.ndarray)) else data
    if isinstance(data, pd.DataFrame):
        return Schema(
            "columns", tuple(ColSpec(str(name), _column_type(data[name])) for name in data.columns)
        )
    array = np.asarray(data)
    if array.dtype == object:
        raise InvalidInput("input_example: an array of Python objects has no tensor signature")
    return Schema("tensor", dtype=str(array.dtype), shape=(-1, *array.shape[1:]))


def infer_signature(model_input: Any, model_output: Any = None) -> ModelSignature:
    """A signature from an input example and (optionally) the model's output for it."""
    outputs = None
    if model_output is not None:
        if isinstance(model_output, pd.Series):
            model_output = model_output.to_numpy()
        if isinstance(model_output, list):
            model_output = np.asarray(model_output)
        try:
            outputs = schema_of(model_output)
        except InvalidInput:
            outputs = None
    return ModelSignature(schema_of(model_input), outputs)


# ---------------------------------------------------------------------------- enforcement


def to_frame_or_array(data: Any) -> pd.DataFrame | np.ndarray:
    """Accept a DataFrame, numpy array, list of dicts, dict of columns or list of lists."""
    if isinstance(data, (pd.DataFrame, np.ndarray)):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame().T if data.index.dtype == object else data.to_frame()
    if isinstance(data, Mapping):
        values = list(data.values())
        if values and all(np.ndim(v) == 0 for v in values):
            return pd.DataFrame([dict(data)])
        try:
            return pd.DataFrame(dict(data))
        except ValueError as exc:
            raise SignatureError(f"input: columns of different lengths ({exc})") from exc
    if isinstance(data, (list, tuple)):
        if len(data) == 0:
            raise SignatureError("input: no rows")
        if _is_records(data):
            return pd.DataFrame(list(data))
        if any(isinstance(r, Mapping) for r in data):
            raise SignatureError("input: a list must hold only records (dicts) or only rows")
        try:
            return np.asarray(data)
        except ValueError as exc:
            raise SignatureError(f"input: rows of different lengths ({exc})") from exc
    raise SignatureError(
        f"input: expected a DataFrame, a numpy array or a list of dicts, got {type(data).__name__}"
    )


def _sample(values: pd.Series) -> str:
    bad = values.dropna()
    return repr(bad.iloc[0]) if len(bad) else "?"


def _enforce_column(series: pd.Series, spec: ColSpec) -> pd.Series:
    name, want = spec.name, spec.type
    dtype = series.dtype
    if want in ("double", "float"):
        if pd.api.types.is_bool_dtype(dtype):
            raise SignatureError(f"column {name!r}: expected {want}, got boolean values")
        if pd.api.types.is_numeric_dtype(dtype):
            return series.astype("float64" if want == "double" else "float32")
        numbers = pd.to_numeric(series, errors="coerce")
        bad = series[numbers.isna() & series.notna()]
        if len(bad) or any(isinstance(v, (bool, str)) for v in series.dropna()):
            sample = bad if len(bad) else series
            raise SignatureError(
                f"column {name!r}: expected {want}, got {type(sample.dropna().iloc[0]).__name__} "
                f"values (e.g. {_sample(sample)})"
            )
        return numbers.astype("float64" if want == "double" else "float32")
    if want in ("long", "integer"):
        target = "int64" if want == "long" else "int32"
        if pd.api.types.is_bool_dtype(dtype):
            raise SignatureError(f"column {name!r}: expected {want}, got boolean values")
        if pd.api.types.is_integer_dtype(dtype):
            return series.astype(target)
        if series.isna().any():
            raise SignatureError(f"column {name!r}: expected {want}, got missing values")
        if pd.api.types.is_float_dtype(dtype):
            if not np.all(np.mod(series.to_numpy(), 1) == 0):
                bad = series[np.mod(series.to_numpy(), 1) != 0]
                raise SignatureError(
                    f"column {name!r}: expected {want}, got fractional values (e.g. {_sample(bad)})"
                )
            return series.astype(target)
        values = list(series)
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            return series.astype(target)
        bad_value = next(v for v in values if not isinstance(v, (int, np.integer)))
        raise SignatureError(
            f"column {name!r}: expected {want}, got {type(bad_value).__name__} values "
            f"(e.g. {bad_value!r})"
        )
    if want == "boolean":
        if pd.api.types.is_bool_dtype(dtype):
            return series
        values = list(series.dropna())
        if len(values) == len(series) and all(isinstance(v, (bool, np.bool_)) for v in values):
            return series.astype(bool)
        bad_value = next((v for v in values if not isinstance(v, (bool, np.bool_))), None)
        what = type(bad_value).__name__ if bad_value is not None else "missing"
        raise SignatureError(f"column {name!r}: expected boolean, got {what} values")
    if want == "string":
        values = list(series.dropna())
        if all(isinstance(v, str) for v in values):
            return series
        bad_value = next(v for v in values if not isinstance(v, str))
        raise SignatureError(
            f"column {name!r}: expected string, got {type(bad_value).__name__} values "
            f"(e.g. {bad_value!r})"
        )
    if want == "datetime":
        try:
            return pd.to_datetime(series)
        except (ValueError, TypeError) as exc:
            raise SignatureError(f"column {name!r}: expected datetime ({exc})") from exc
    if want == "binary":
        values = list(series.dropna())
        if all(isinstance(v, (bytes, bytearray)) for v in values):
            return series
        raise SignatureError(f"column {name!r}: expected binary (bytes) values")
    return series


def _enforce_columns(data: pd.DataFrame | np.ndarray, schema: Schema) -> pd.DataFrame:
    names = schema.input_names()
    if isinstance(data, np.ndarray):
        if data.ndim == 1 and len(names) == 1:
            data = data.reshape(-1, 1)
        if data.ndim == 1 and data.shape[0] == len(names):
            data = data.reshape(1, -1)
        if data.ndim != 2 or data.shape[1] != len(names):
            raise SignatureError(
                f"input: expected {len(names)} columns ({', '.join(names)}), got an array of "
                f"shape {data.shape}"
            )
        frame = pd.DataFrame(data, columns=names)
    else:
        frame = data
    if len(frame) == 0:
        raise SignatureError("input: no rows")
    columns = {str(c): c for c in frame.columns}
    missing = [
        c.name
        for c in schema.columns
        if c.required and c.name is not None and c.name not in columns
    ]
    if missing:
        known = ", ".join(names)
        raise SignatureError(
            f"input: missing column {missing[0]!r}"
            + (f" (and {', '.join(map(repr, missing[1:]))})" if len(missing) > 1 else "")
            + f"; the model expects: {known}"
        )
    out = {}
    for spec in schema.columns:
        if spec.name is None or spec.name not in columns:
            continue
        out[spec.name] = _enforce_column(frame[columns[spec.name]].reset_index(drop=True), spec)
    return pd.DataFrame(out)


def _enforce_tensor(data: pd.DataFrame | np.ndarray, schema: Schema) -> np.ndarray:
    array = data.to_numpy() if isinstance(data, pd.DataFrame) else data
    shape = schema.shape or ()
    one_row = len(shape) >= 2 and array.ndim == len(shape) - 1 and array.ndim >= 1
    if one_row and all(want in (-1, got) for want, got in zip(shape[1:], array.shape)):
        array = array.reshape(1, *array.shape)  # one example without the batch axis
    if array.ndim != len(shape) or any(
        want not in (-1, got) for want, got in zip(shape[1:], array.shape[1:])
    ):
        raise SignatureError(
            f"input: expected an array of shape {list(shape)}, got shape {list(array.shape)}"
        )
    if array.shape[0] == 0:
        raise SignatureError("input: no rows")
    want = np.dtype(schema.dtype or "float64")
    if array.dtype == want:
        return array
    if array.dtype == object:
        try:
            converted = array.astype(want)
        except (TypeError, ValueError) as exc:
            raise SignatureError(f"input: expected {want} values ({exc})") from exc
        return converted
    if np.can_cast(array.dtype, want, casting="same_kind") or (
        array.dtype.kind in "iu" and want.kind == "f"
    ):
        return array.astype(want)
    if array.dtype.kind == "f" and want.kind in "iu" and np.all(np.mod(array, 1) == 0):
        return array.astype(want)
    raise SignatureError(f"input: expected {want} values, got {array.dtype}")


def enforce(data: Any, signature: ModelSignature | None) -> pd.DataFrame | np.ndarray:
    """Check ``data`` against the signature's inputs and return what the model receives."""
    converted = to_frame_or_array(data)
    if signature is None:
        return converted
    if signature.inputs.kind == "columns":
        return _enforce_columns(converted, signature.inputs)
    return _enforce_tensor(converted, signature.inputs)
