"""``jt.log_input`` with polars DataFrames, Hugging Face datasets and URLs (recorded, not
fetched), and the data check a reproduction runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jupyter_track as jt
from jupyter_track import provenance
from jupyter_track.lineage import InputChanged, run_inputs, verify_inputs

pl = pytest.importorskip("polars")
datasets = pytest.importorskip("datasets")


def tags_of(run_id: str) -> dict[str, str]:
    return jt.get_run(run_id).data.tags


def test_polars_frames_are_digested_by_their_rows() -> None:
    frame = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    with jt.start_run() as run:
        record = jt.log_input(frame, name="train", context="training")
    assert record["kind"] == "polars" and record["rows"] == 3
    assert record["schema"] == {"a": "Int64", "b": "String"}
    again = provenance.fingerprint(pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    assert again.digest == record["digest"]
    changed = provenance.fingerprint(frame.with_columns(pl.col("a") + 1))
    assert changed.digest != record["digest"]
    assert tags_of(run.info.run_id)["jt.input.train.kind"] == "polars"
    with pytest.raises(ValueError, match="LazyFrame"):
        provenance.fingerprint(frame.lazy())


def test_hugging_face_datasets_use_their_own_fingerprint() -> None:
    data = datasets.Dataset.from_dict({"text": ["a", "b"], "label": [0, 1]})
    with jt.start_run():
        record = jt.log_input(data, name="reviews")
    assert record["kind"] == "huggingface" and record["rows"] == 2
    assert record["digest"] == data._fingerprint
    mapped = data.map(lambda row: {"label": row["label"] + 1})
    assert provenance.fingerprint(mapped).digest != record["digest"]
    with pytest.raises(ValueError, match="DatasetDict"):
        provenance.fingerprint(datasets.DatasetDict({"train": data}))


@given(st.sampled_from(["https", "http", "s3", "gs", "hf"]), st.text(min_size=1, max_size=30))
@settings(max_examples=30, deadline=None)
def test_urls_are_recorded_not_fetched(scheme: str, rest: str) -> None:
    url = f"{scheme}://example.invalid/{rest}"
    found = provenance.fingerprint(url, name="remote")
    assert found.kind == "url" and found.source == url
    assert found.digest == provenance.fingerprint(url, name="remote").digest


def test_a_url_input_of_a_run() -> None:
    with jt.start_run() as run:
        jt.log_input("https://example.invalid/data/train.csv?version=3")
    (item,) = run_inputs(tags_of(run.info.run_id))
    assert item["name"] == "train.csv" and item["kind"] == "url"
    assert item["source"] == "https://example.invalid/data/train.csv?version=3"
    assert verify_inputs([item], quiet=True)[0].startswith("skipped")


def test_verify_inputs_names_the_file_and_both_digests(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("a\n1\n")
    with jt.start_run() as run:
        jt.log_input(str(data))
    inputs = run_inputs(tags_of(run.info.run_id))
    assert verify_inputs(inputs, quiet=True)[0].startswith("verified train.csv")
    recorded = inputs[0]["digest"]
    data.write_text("a\n2\n")
    with pytest.raises(InputChanged) as changed:
        verify_inputs(inputs, quiet=True)
    now = provenance.fingerprint(data).digest
    assert str(data) in str(changed.value) and recorded in str(changed.value)
    assert now in str(changed.value)
    data.unlink()
    with pytest.raises(InputChanged, match="missing"):
        verify_inputs(inputs, quiet=True)
