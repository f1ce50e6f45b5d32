"""Tables and stepped images as run artifacts, as MLflow keeps them (``log_table``,
``load_table``, ``log_image(key=, step=)``); the fluent API and ``MlflowClient`` share these.

* A table is a pandas DataFrame (or a dict of columns) saved as ``artifact_file`` (``.json`` in
  pandas' ``split`` orientation, or ``.parquet``); logging to the same file again appends rows.
  The run's ``mlflow.loggedArtifacts`` tag lists its tables (``[{"path": ..., "type":
  "table"}]``), which is how :func:`load_table` finds them across runs.
* An image logged with a ``key`` and ``step`` is saved as
  ``images/<key>+step+<step>+timestamp+<ms>+<uuid>.png`` (``/`` in the key becomes ``~``) and
  the run gets the tag ``mlflow.loggedImages``, MLflow's layout.
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from ..store.errors import InvalidInput, NotFound
from ..store.validation import INT64_MAX, INT64_MIN

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
LOGGED_IMAGES_TAG = "mlflow.loggedImages"
_IMAGE_KEY = re.compile(r"^[a-zA-Z0-9_\-./ ]+$")


def _frame(data: Any) -> Any:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        try:
            return pd.DataFrame.from_dict(data)
        except ValueError as exc:
            raise InvalidInput(f"data: the dict's columns do not make a table ({exc})") from None
    raise InvalidInput(f"data: must be a pandas DataFrame or a dict, got {type(data).__name__}")


def _check_table_file(artifact_file: Any) -> str:
    if not isinstance(artifact_file, str) or not artifact_file.endswith((".json", ".parquet")):
        raise InvalidInput(
            f"artifact_file {artifact_file!r}: a table is saved as a .json or .parquet file"
        )
    return artifact_file


def _read(data: bytes, artifact_file: str) -> Any:
    import pandas as pd

    if artifact_file.endswith(".parquet"):
        return pd.read_parquet(io.BytesIO(data))
    return pd.read_json(io.StringIO(data.decode("utf-8")), orient="split")


def _write(frame: Any, artifact_file: str) -> bytes:
    if artifact_file.endswith(".parquet"):
        buffer = io.BytesIO()
        try:
            frame.to_parquet(buffer, index=False)
        except ImportError as exc:
            raise InvalidInput(f"artifact_file {artifact_file!r}: parquet needs pyarrow") from exc
        return buffer.getvalue()
    try:
        return frame.to_json(orient="split", index=False).encode("utf-8")
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInput(f"data: the table cannot be saved as JSON ({exc})") from None


def log_table(store: Any, run_id: str, data: Any, artifact_file: str) -> None:
    """Save ``data`` as the table ``artifact_file`` of ``run_id`` (rows appended when the run
    already has that table) and list it in the run's ``mlflow.loggedArtifacts`` tag."""
    import pandas as pd

    artifact_file = _check_table_file(artifact_file)
    frame = _frame(data)
    try:
        existing = store.artifact_file(run_id, artifact_file).read_bytes()
    except NotFound:
        existing = None
    if existing is not None:
        frame = pd.concat([_read(existing, artifact_file), frame], ignore_index=True)
    store.write_artifact_bytes(run_id, artifact_file, _write(frame, artifact_file))
    tags = store.get_run(run_id).data.tags
    try:
        listed = json.loads(tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
    except ValueError:
        listed = []
    entry = {"path": artifact_file, "type": "table"}
    if not isinstance(listed, list):
        listed = []
    if entry not in listed:
        listed.append(entry)
        store.set_tags(run_id, {LOGGED_ARTIFACTS_TAG: json.dumps(listed)})


def load_table(
    store: Any,
    experiment_ids: Sequence[str] | None,
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> Any:
    """The rows of the table ``artifact_file`` of every run (of ``experiment_ids``, or of
    ``run_ids``) that logged it, concatenated; ``extra_columns`` adds run attributes
    (``run_id``, ``run_name``, ...) or tags to each row. ``RESOURCE_DOES_NOT_EXIST`` when no
    run has it (as MLflow)."""
    import pandas as pd

    artifact_file = _check_table_file(artifact_file)
    pattern = json.dumps({"path": artifact_file, "type": "table"})[1:-1].replace("%", "_")
    filter_string = f"tags.`{LOGGED_ARTIFACTS_TAG}` LIKE '%{_quote(pattern)}%'"
    if run_ids:
        filter_string += " AND attributes.run_id IN ({})".format(
            ", ".join(f"'{_quote(str(r))}'" for r in run_ids)
        )
    frames = []
    token = None
    while True:
        page = store.search_runs(
            experiment_ids, filter_string, max_results=1000, page_token=token, order_by=None
        )
        for run in page.runs:
            try:
                data = store.artifact_file(run.info.run_id, artifact_file).read_bytes()
            except NotFound:
                continue
            frame = _read(data, artifact_file)
            for column in extra_columns or ():
                value = getattr(run.info, column, None)
                if value is None:
                    value = run.data.tags.get(column)
                name = f"{column}_" if column in frame.columns else column
                frame[name] = value
            frames.append(frame)
        token = page.next_page_token
        if token is None:
            break
    if not frames:
        raise NotFound(f"No runs found with the table artifact {artifact_file!r}.")
    return pd.concat(frames, ignore_index=True)


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def image_bytes(image: Any, suffix: str = "png") -> bytes:
    """A numpy array (HxW, HxWx3, HxWx4) or a PIL image encoded as ``suffix``."""
    buffer = io.BytesIO()
    if hasattr(image, "save") and not hasattr(image, "shape"):
        image.save(buffer, format=suffix.upper().replace("JPG", "JPEG"))
    elif hasattr(image, "shape"):
        import matplotlib.image

        matplotlib.image.imsave(buffer, image, format=suffix)
    else:
        raise InvalidInput(
            f"image: expected a numpy array or a PIL image, got {type(image).__name__}"
        )
    return buffer.getvalue()


def log_image_step(
    store: Any, run_id: str, image: Any, key: str, step: int | None, timestamp: int | None
) -> str:
    """Save ``image`` as step ``step`` of the image series ``key`` (MLflow's file layout);
    returns the artifact path."""
    if not isinstance(key, str) or not _IMAGE_KEY.match(key):
        raise InvalidInput(
            f"key {key!r}: may only contain letters, digits, underscores, dashes, periods, "
            "spaces and slashes"
        )
    step = 0 if step is None else step
    timestamp = int(time.time() * 1000) if timestamp is None else timestamp
    for name, value in (("step", step), ("timestamp", timestamp)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not INT64_MIN <= value <= INT64_MAX
        ):
            raise InvalidInput(f"{name} {value!r}: must be a 64-bit integer")
    path = f"images/{key.replace('/', '~')}+step+{step}+timestamp+{timestamp}+{uuid.uuid4()}.png"
    store.write_artifact_bytes(run_id, path, image_bytes(image))
    store.set_tags(run_id, {LOGGED_IMAGES_TAG: "True"})
    return path


def log_image(
    store: Any,
    run_id: str,
    image: Any,
    artifact_file: str | None,
    key: str | None,
    step: int | None,
    timestamp: int | None,
) -> str:
    """``log_image``: as ``artifact_file`` (the format follows its extension), or as one step
    of the series ``key``; returns the artifact path."""
    if (artifact_file is None) == (key is None):
        raise InvalidInput("log_image: give exactly one of artifact_file, key")
    if key is not None:
        return log_image_step(store, run_id, image, key, step, timestamp)
    assert artifact_file is not None
    suffix = artifact_file.rsplit(".", 1)[-1].lower() if "." in artifact_file else "png"
    return str(store.write_artifact_bytes(run_id, artifact_file, image_bytes(image, suffix)))
