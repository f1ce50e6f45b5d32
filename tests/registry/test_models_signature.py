"""Signatures: inference from input examples and checks with errors that name the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jupyter_track.models.signature import (
    ModelSignature,
    SignatureError,
    enforce,
    infer_signature,
)
from jupyter_track.store import InvalidInput


@pytest.fixture
def columns_sig() -> ModelSignature:
    example = pd.DataFrame(
        {
            "amount": [12.5, 3.0],
            "count": [1, 2],
            "country": ["fr", "de"],
            "is_new": [True, False],
        }
    )
    return infer_signature(example, np.array([0, 1]))


def test_inferred_column_types(columns_sig: ModelSignature) -> None:
    assert str(columns_sig.inputs) == (
        "amount: double, count: long, country: string, is_new: boolean"
    )
    assert columns_sig.outputs is not None
    assert columns_sig.outputs.to_dict() == {"type": "tensor", "dtype": "int64", "shape": [-1]}
    assert ModelSignature.from_dict(columns_sig.to_dict()) == ModelSignature(
        columns_sig.inputs, columns_sig.outputs
    )


def test_records_columns_and_arrays_are_accepted(columns_sig: ModelSignature) -> None:
    records = [{"amount": 1, "count": 2, "country": "fr", "is_new": True, "extra": "ignored"}]
    out = enforce(records, columns_sig)
    assert list(out.columns) == ["amount", "count", "country", "is_new"]
    assert out["amount"].dtype == np.float64  # an int where a double is expected is fine
    cols = enforce(
        {"amount": [1.0, 2.0], "count": [3, 4], "country": ["a", "b"], "is_new": [1 == 1, 1 == 0]},
        columns_sig,
    )
    assert len(cols) == 2
    array = np.array([[1.0, 2, "x", True]], dtype=object)
    assert enforce(array, columns_sig)["country"].tolist() == ["x"]
    # whole-number floats are accepted for a long column (JSON clients send 2.0)
    assert enforce([{"amount": 1.0, "count": 2.0, "country": "fr", "is_new": False}], columns_sig)[
        "count"
    ].tolist() == [2]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"count": 1, "country": "fr", "is_new": True}, "missing column 'amount'"),
        (
            {"amount": "lots", "count": 1, "country": "fr", "is_new": True},
            "column 'amount': expected double, got str values",
        ),
        (
            {"amount": 1.0, "count": 1.5, "country": "fr", "is_new": True},
            "column 'count': expected long, got fractional values",
        ),
        (
            {"amount": 1.0, "count": 1, "country": 7, "is_new": True},
            "column 'country': expected string, got int values",
        ),
        (
            {"amount": 1.0, "count": 1, "country": "fr", "is_new": "yes"},
            "column 'is_new': expected boolean, got str values",
        ),
        (
            {"amount": True, "count": 1, "country": "fr", "is_new": True},
            "column 'amount': expected double, got bool",
        ),
    ],
)
def test_mismatches_name_the_column(
    columns_sig: ModelSignature, row: dict[str, object], message: str
) -> None:
    with pytest.raises(SignatureError, match=message) as info:
        enforce([row], columns_sig)
    assert isinstance(info.value, ValueError)  # callers may catch ValueError
    assert isinstance(info.value, InvalidInput)  # the server maps it to 400


def test_array_with_the_wrong_number_of_columns(columns_sig: ModelSignature) -> None:
    with pytest.raises(SignatureError, match=r"expected 4 columns \(amount, count"):
        enforce(np.zeros((2, 3)), columns_sig)


def test_tensor_signature() -> None:
    sig = infer_signature(np.zeros((3, 4), dtype=np.float32))
    assert sig.inputs.to_dict() == {"type": "tensor", "dtype": "float32", "shape": [-1, 4]}
    out = enforce(np.ones((2, 4), dtype=np.int64), sig)
    assert out.dtype == np.float32
    assert enforce([1, 2, 3, 4], sig).shape == (1, 4)  # one example without the batch axis
    assert enforce(pd.DataFrame(np.ones((2, 4))), sig).shape == (2, 4)
    with pytest.raises(SignatureError, match=r"expected an array of shape \[-1, 4\], got shape"):
        enforce(np.ones((2, 5)), sig)
    with pytest.raises(SignatureError, match="expected float32 values"):
        enforce(np.array([["a", "b", "c", "d"]]), sig)


def test_bad_inputs() -> None:
    sig = infer_signature(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(SignatureError, match="no rows"):
        enforce([], sig)
    with pytest.raises(SignatureError, match="expected a DataFrame, a numpy array or a list"):
        enforce("a,b,c", sig)
    with pytest.raises(SignatureError, match="only records"):
        enforce([{"a": 1.0}, [2.0]], sig)
    with pytest.raises(InvalidInput, match="input_example: expected a DataFrame"):
        infer_signature(42)
