"""The run table: ``jt.runs(filter_string=..., experiment_names=..., columns=...)``.

Sorting, filtering and paging happen in the kernel with the store's own search (the filter
grammar of ``jt.search_runs``: an error is shown under the filter box with a caret at its
position). Selecting rows in the browser sets ``widget.selected`` (a list of run ids);
``widget.observe(callback, "selected")`` is called on every change, and setting
``widget.selected`` from Python selects rows in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import traitlets

from .. import payloads
from ..formatting import format_duration, format_short_time
from ..store import FilterSyntaxError, InvalidInput, NotFound, Run, ViewType
from ..store import search as grammar
from ..store.entities import json_number
from ..tracking import session
from . import static
from ._common import TrackWidget, bundle

ATTRIBUTE_COLUMNS = payloads.ATTRIBUTE_COLUMNS  # one column vocabulary (src/columns.ts too)
DEFAULT_ATTRIBUTES = ("run_name", "status", "start_time", "duration")
MAX_DEFAULT_KEYS = 8


class RunTable(TrackWidget):
    """Runs as a sortable, filterable, multi-select table (see the module doc)."""

    _esm = bundle("runs.js")

    filter_string = traitlets.Unicode("").tag(sync=True)
    sort_by = traitlets.Unicode("").tag(sync=True)
    sort_desc = traitlets.Bool(False).tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.Int(50).tag(sync=True)
    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)
    columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    error = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    caption = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        filter_string: str = "",
        *,
        experiment_ids: Sequence[str] | None = None,
        experiment_names: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        order_by: str | None = None,
        page_size: int = 50,
        run_view_type: int = ViewType.ACTIVE_ONLY,
    ):
        super().__init__()
        session.current().flush()
        self._store = session.current().store
        self._experiment_ids = self._resolve_experiments(experiment_ids, experiment_names)
        self._view = run_view_type
        self._experiment_names: dict[str, str] = {}
        self._wanted_columns = list(columns) if columns is not None else None
        with self.hold_trait_notifications():
            self.page_size = page_size
            self.filter_string = filter_string or ""
            if order_by:
                (clause,) = grammar.parse_order_by([order_by])
                self.sort_by = str(clause.field)
                self.sort_desc = clause.descending
        self.refresh()
        self.observe(
            self._changed, names=["filter_string", "sort_by", "sort_desc", "page", "page_size"]
        )
        self.on_msg(self._on_message)

    # ------------------------------------------------------------------------------ python

    @property
    def selected_runs(self) -> list[Run]:
        """The selected runs (params, metrics, tags), in selection order."""
        return self._store.get_runs(list(self.selected))

    def compare(self, **kwargs: Any) -> Any:
        """``jt.compare`` of the selected runs."""
        from .comparison import compare

        return compare(list(self.selected), **kwargs)

    def refresh(self) -> None:
        """Run the query again (new runs appear; the selection is kept)."""
        session.current().flush()
        self._set_columns()
        order = []
        if self.sort_by:
            column = self._column(self.sort_by)
            if column is not None and column["sortable"]:
                order = [f"{column['order']} {'DESC' if self.sort_desc else 'ASC'}"]
        try:
            page = self._store.search_runs(
                self._experiment_ids,
                self.filter_string,
                run_view_type=self._view,
                max_results=self.page_size,
                order_by=order,
                offset=self.page * self.page_size,
                with_total=True,
            )
        except FilterSyntaxError as exc:
            self._show_error(str(exc).split("\n")[0], exc.position, exc.text)
            return
        except InvalidInput as exc:
            self._show_error(str(exc), None, self.filter_string)
            return
        with self.hold_trait_notifications():
            self.error = None
            self.total = page.total or 0
            self.caption = self._experiment_counts()
            if page.runs or self.page == 0:
                self.rows = [self._row(run) for run in page.runs]
        if not page.runs and self.page > 0:
            self.page = max(0, (self.total - 1) // self.page_size)

    def _on_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        if content.get("type") == "refresh":  # the browser's Refresh button
            self.refresh()

    def _changed(self, change: dict[str, Any]) -> None:
        if change["name"] != "page" and self.page != 0:
            self.page = 0  # refreshes through the observer
            return
        self.refresh()

    def _show_error(self, message: str, position: int | None, text: str) -> None:
        with self.hold_trait_notifications():
            self.error = {"message": message, "position": position, "text": text}
            self.rows = []
            self.total = 0

    # ----------------------------------------------------------------------------- columns

    def _resolve_experiments(
        self, ids: Sequence[str] | None, names: Sequence[str] | None
    ) -> list[str] | None:
        if not ids and not names:
            return None  # every experiment
        result = [str(i) for i in ids or []]
        for name in names or []:
            experiment = self._store.get_experiment_by_name(name)
            if experiment is None:
                raise NotFound(f"experiment {name!r} does not exist")
            result.append(experiment.experiment_id)
        return result

    def _set_columns(self) -> None:
        keys = self._store.param_and_metric_keys(self._experiment_ids)
        wanted = self._wanted_columns
        if wanted is None:
            several = self._experiment_ids is None or len(self._experiment_ids) > 1
            wanted = [*DEFAULT_ATTRIBUTES]
            if several and len(self._store.search_experiments()) > 1:
                wanted.append("experiment")
            wanted += [f"params.{k}" for k in keys["params"][:MAX_DEFAULT_KEYS]]
            # the kernel's system/ metrics (CPU, memory) are left out, as in the sidebar
            user = [k for k in keys["metrics"] if not k.startswith(payloads.SYSTEM_METRIC_PREFIX)]
            wanted += [f"metrics.{k}" for k in user[:MAX_DEFAULT_KEYS]]
        columns = [self._make_column(name, keys) for name in wanted]
        if columns != self.columns:
            self.columns = columns

    def _make_column(self, name: str, keys: dict[str, list[str]]) -> dict[str, Any]:
        entity, _, key = name.partition(".")
        entity = grammar.RUNS.prefixes.get(entity, entity)
        if not key or entity not in ("params", "metrics", "tags", "attributes"):
            key = name
            if key in ATTRIBUTE_COLUMNS:
                entity = "attributes"
            elif key in keys["metrics"] and key not in keys["params"]:
                entity = "metrics"
            elif key in keys["params"] and key not in keys["metrics"]:
                entity = "params"
            elif key in keys["tags"]:
                entity = "tags"
            else:
                raise InvalidInput(
                    f"column {name!r}: not an attribute ({', '.join(ATTRIBUTE_COLUMNS)}); "
                    "write params.<key>, metrics.<key> or tags.<key>"
                )
        if entity == "attributes":
            if key not in ATTRIBUTE_COLUMNS:
                raise InvalidInput(
                    f"column {name!r}: attributes are {', '.join(ATTRIBUTE_COLUMNS)}"
                )
            label, kind, order = ATTRIBUTE_COLUMNS[key]
            return {
                "key": f"attributes.{key}",
                "label": label,
                "kind": kind,
                "sortable": order is not None,
                "order": order or "",
                "title": f"attributes.{key}",
            }
        return {
            "key": f"{entity}.{key}",
            "label": key,
            "kind": "number" if entity == "metrics" else "text",
            "sortable": True,
            "order": payloads.filter_field(entity, key),
            "title": f"{entity}.{key}",
        }

    def _column(self, key: str) -> dict[str, Any] | None:
        for column in self.columns:
            if column["key"] == key:
                return column
        return None

    def _row(self, run: Run) -> dict[str, Any]:
        cells = []
        info, data = run.info, run.data
        for column in self.columns:
            entity, _, key = column["key"].partition(".")
            value: Any
            if entity == "params":
                value = data.params.get(key)
            elif entity == "metrics":
                value = json_number(data.metrics[key]) if key in data.metrics else None
            elif entity == "tags":
                value = data.tags.get(key)
            elif key == "duration":
                value = info.duration_ms
            elif key == "experiment":
                value = self._experiment_name(info.experiment_id)
            else:
                value = getattr(info, key, None)
            cells.append(value)
        return {"run_id": info.run_id, "cells": cells}

    def _experiment_counts(self) -> str:
        """``"breast-cancer: 7, iris: 3"``: matching runs per experiment, when several are
        shown (at most 20 experiments are counted)."""
        if self._experiment_ids is not None and len(self._experiment_ids) < 2:
            return ""
        ids = self._experiment_ids or [e.experiment_id for e in self._store.search_experiments()]
        if len(ids) < 2 or len(ids) > 20:
            return ""
        parts = []
        for experiment_id in ids:
            count = self._store.count_runs(
                [experiment_id], self.filter_string, run_view_type=self._view
            )
            if count:
                parts.append(f"{self._experiment_name(experiment_id)}: {count}")
        return ", ".join(parts) if len(parts) > 1 else ""

    def _experiment_name(self, experiment_id: str) -> str:
        name = self._experiment_names.get(experiment_id)
        if name is None:
            try:
                name = self._store.get_experiment(experiment_id).name
            except NotFound:
                name = experiment_id
            self._experiment_names[experiment_id] = name
        return name

    # ------------------------------------------------------------------------------ static

    def _static_text(self) -> str:
        return (
            f"RunTable: {self.total} runs"
            + (f" matching {self.filter_string!r}" if self.filter_string else "")
            + (f" ({self.caption})" if self.caption else "")
            + (f", {len(self.selected)} selected" if self.selected else "")
        )

    def _static_html(self) -> str:
        if self.error:
            return (
                f'<div class="jp-Track-static-error">{static.html.escape(self.error["message"])}'
                "</div>"
            )
        headers = [c["label"] for c in self.columns]
        rows = []
        for row in self.rows:
            cells = []
            for column, value in zip(self.columns, row["cells"]):
                if column["kind"] == "time" and value is not None:
                    value = format_short_time(value)
                elif column["kind"] == "duration" and value is not None:
                    value = format_duration(value)
                cells.append(value)
            rows.append(cells)
        caption = self._static_text()
        return static.table(headers, rows, caption=caption)


def runs(
    filter_string: str = "",
    *,
    experiment_ids: Sequence[str] | None = None,
    experiment_names: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    order_by: str | None = None,
    page_size: int = 50,
) -> RunTable:
    """A table of runs to sort, filter and select (``jt.runs()``).

    ``filter_string`` uses the grammar of ``jt.search_runs``; without experiments every
    experiment is searched. ``columns`` are ``"params.lr"``, ``"metrics.loss"``, ``"tags.x"`` or
    attributes (``run_name``, ``status``, ``start_time``, ``duration``, ``experiment``...); the
    default is the attributes plus up to 8 params and 8 metrics (not the ``system/`` ones).
    ``order_by`` is one clause (``"metrics.loss ASC"``). ``widget.selected`` holds the selected
    run ids.
    """
    return RunTable(
        filter_string,
        experiment_ids=experiment_ids,
        experiment_names=experiment_names,
        columns=columns,
        order_by=order_by,
        page_size=page_size,
    )
