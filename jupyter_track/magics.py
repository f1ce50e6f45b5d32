"""``%%track``, ``%track_cells`` and the cell-execution log (IPython events).

``%load_ext jupyter_track`` (or ``import jupyter_track`` inside IPython) registers:

* ``%%track [-e EXPERIMENT] [-n RUN_NAME] [-p NAME ...] [-m NAME ...] [-t KEY=VALUE ...]
  [--nested] [--live [KEY ...]] [--quiet]`` -- the cell's execution is one run;
* ``%track_cells on|off|status`` -- the log of every cell execution (on by default);
* ``pre_run_cell`` / ``post_run_cell`` hooks that note the cell being run (id, count, source)
  and append one row per execution to the background writer (no I/O on the cell's thread).
"""

from __future__ import annotations

import ast
import hashlib
import os
import sys
import time
import traceback
import uuid
from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool

from . import cellparams
from .lineage import kernel as lineage_kernel
from .lineage.model import Lineage
from .lineage.session import SessionLog
from .store import InvalidInput, RunStatus, TrackError
from .store.validation import metric_value
from .tracking import context, fluent, session

SESSION_ID = uuid.uuid4().hex[:12]
CELL_LOG_ENV = "JUPYTER_TRACK_CELL_LOG"


class CellLog:
    """IPython event handlers that record every cell execution.

    Besides the store's cell log, the executions of this kernel session are kept in memory
    (:class:`~jupyter_track.lineage.session.SessionLog`) for the lineage of tracked runs.
    """

    def __init__(self, shell: Any, enabled: bool = True):
        self.shell = shell
        self.enabled = enabled
        self._start_wall = 0.0
        self._start = 0.0
        self._raw_cell = ""
        self._code: str | None = None
        self._started = False
        transform = getattr(shell, "transform_cell", None)
        self.session_log = SessionLog(transform)
        #: runs of %%track cells (the magic records their lineage; the cell's end skips them)
        self.lineage_runs: set[str] = set()
        self.lineage_enabled = True
        # IPython 9 bumps ``execution_count`` before ``pre_run_cell``, IPython 8 after the
        # cell: learned from the first cell's result, then pre_run_cell knows the right count.
        self._count_offset = 0
        self._offset_known = False

    def pre_run_cell(self, info: Any) -> None:
        self._started = True
        self._start = time.perf_counter()
        self._start_wall = time.time()
        raw = info.raw_cell if info is not None else ""
        self._raw_cell = raw
        self._code = getattr(info, "transformed_cell", None)
        context.current = context.CellContext(
            cell_id=getattr(info, "cell_id", None),
            execution_count=self.shell.execution_count + self._count_offset,
            source=raw,
            run_ids=[],
        )

    def post_run_cell(self, result: Any) -> None:
        if not self._started:  # the extension was loaded during this cell
            self._loaded_during(result)
            return
        self._started = False
        duration_ms = (time.perf_counter() - self._start) * 1000
        cell = context.current
        writer = session.current().started_writer
        run_ids = cell.run_ids or []
        count = result.execution_count
        if count is not None and cell.execution_count is not None and not self._offset_known:
            self._count_offset = count - cell.execution_count
            self._offset_known = True
            if run_ids and self._count_offset:  # only a first cell that was also tracked
                store = session.current().store
                for run_id in run_ids:
                    store.update_run(run_id, execution_count=count)
        if self.enabled:
            error = result.error_in_exec or result.error_before_exec
            row = (
                SESSION_ID,
                _notebook(),
                cell.cell_id,
                result.execution_count
                if result.execution_count is not None
                else cell.execution_count,
                self._raw_cell,
                int(self._start_wall * 1000),
                duration_ms,
                "error" if error is not None else "ok",
                type(error).__name__ if error is not None else None,
                run_ids[0] if run_ids else None,
            )
            writer = writer or session.current().writer
            writer.append_cell(row)
            self._after_cell(cell, run_ids, row[3], error is not None)
        else:
            self.session_log.note_unlogged()
        # the row is written by the background writer's next flush (within its interval,
        # 0.2 s): not woken here, where a commit for every cell would hold the store's write
        # lock while the next cell (a %%track cell ending its run) wants it

    def _loaded_during(self, result: Any) -> None:
        """The cell that loaded the extension (``import jupyter_track`` next to the other
        imports) is kept for lineages too: what it imported is what later cells use."""
        info = getattr(result, "info", None)
        if not self.enabled or info is None or getattr(info, "silent", False):
            return
        self.session_log.add(
            cell_id=getattr(info, "cell_id", None),
            execution_count=result.execution_count,
            source=info.raw_cell or "",
            code=getattr(info, "transformed_cell", None),
            start_ms=int(time.time() * 1000),
            status="ok" if result.success else "error",
        )

    def _after_cell(
        self, cell: context.CellContext, run_ids: list[str], count: int | None, failed: bool
    ) -> None:
        """Keep the execution for lineages; runs ``jt.start_run()`` began in it get theirs."""
        untracked = [r for r in run_ids if r not in self.lineage_runs]
        if untracked and len(untracked) == len(run_ids) and self.lineage_enabled:
            try:
                lineage = lineage_kernel.lineage_for_cell(
                    self.session_log,
                    self.shell,
                    self._code if self._code is not None else self._raw_cell,
                    session=SESSION_ID,
                    cell_id=cell.cell_id,
                    source=self._raw_cell,
                    execution_count=count,
                    logging_on=self.enabled,
                )
                lineage_kernel.record_after_cell(session.current().store, untracked, lineage)
            except Exception as exc:  # never fail a cell that already ran
                print(f"jupyter-track: lineage not recorded: {exc}", file=sys.stderr)
        self.lineage_runs.difference_update(run_ids)
        self.session_log.add(
            cell_id=cell.cell_id,
            execution_count=count,
            source=self._raw_cell,
            code=self._code,
            start_ms=int(self._start_wall * 1000),
            status="error" if failed else "ok",
        )


def _notebook() -> str | None:
    return os.environ.get("JPY_SESSION_NAME")


def _parse_tags(values: list[str]) -> dict[str, str]:
    tags = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"-t {item!r}: expected KEY=VALUE")
        tags[key] = value
    return tags


def _split_last_expression(tree: ast.Module) -> tuple[ast.Module, ast.Expression | None]:
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
        return tree, ast.Expression(last.value)  # type: ignore[attr-defined]
    return tree, None


def _metric_number(name: str, value: Any) -> float | None:
    """The metric value of a ``-m`` variable, or None when it is not a number."""
    try:
        return metric_value(name, value)
    except InvalidInput:
        return None


@magics_class
class TrackMagics(Magics):
    """The ``%%track`` cell magic and ``%track_cells``."""

    log_cells = Bool(True, help="Record every cell execution in the store.").tag(config=True)
    show_summary = Bool(True, help="Show a summary after each %%track cell.").tag(config=True)
    lineage = Bool(
        True, help="Record each tracked run's lineage (the cells it depends on, stale flags)."
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any):
        super().__init__(shell=shell, **kwargs)
        if os.environ.get(CELL_LOG_ENV, "").lower() in ("0", "false", "off", "no"):
            self.log_cells = False
        self.cell_log = CellLog(shell, enabled=self.log_cells)
        self.observe(self._toggle_log, names="log_cells")
        self.observe(self._toggle_lineage, names="lineage")
        self.cell_log.lineage_enabled = self.lineage

    def _toggle_log(self, change: Any) -> None:
        self.cell_log.enabled = bool(change["new"])

    def _toggle_lineage(self, change: Any) -> None:
        self.cell_log.lineage_enabled = bool(change["new"])

    @line_magic
    def track_cells(self, line: str) -> str | None:
        """``%track_cells on|off|status``: switch the cell-execution log."""
        word = line.strip().lower()
        if word in ("on", "true", "1"):
            self.log_cells = True
        elif word in ("off", "false", "0"):
            self.log_cells = False
        elif word not in ("", "status"):
            raise InvalidInput(f"%track_cells {line!r}: use on, off or status")
        state = "on" if self.log_cells else "off"
        print(f"jupyter-track cell log is {state}")
        return None

    @magic_arguments()
    @argument("-e", "--experiment", help="experiment name (created when new)")
    @argument("-n", "--name", dest="run_name", help="run name")
    @argument(
        "-p",
        "--param",
        dest="params",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME",
        help="log these variables' values after the cell as params",
    )
    @argument(
        "-m",
        "--metric",
        dest="metrics",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME",
        help="log these variables' final values as metrics",
    )
    @argument(
        "-t",
        "--tag",
        dest="tags",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="tags for the run",
    )
    @argument("--nested", action="store_true", help="nest under the active run")
    @argument(
        "--live",
        nargs="*",
        default=None,
        metavar="KEY",
        help="show a live chart of these metrics (all metrics when no key is given)",
    )
    @argument("-q", "--quiet", action="store_true", help="no summary after the cell")
    @cell_magic
    def track(self, line: str, cell: str) -> Any:
        """Run the cell as one tracked run (see the module docstring)."""
        __tracebackhide__ = True
        args = parse_argstring(self.track, line)
        tags = _parse_tags(args.tags)
        shell = self.shell
        current = context.current
        source = current.source or f"%%track {line}\n{cell}"
        if current.source is None:
            current.source = source
        if current.cell_id is None:
            # no frontend cell id (plain IPython): link re-runs of the same code
            current.cell_id = "src-" + hashlib.sha1(cell.encode()).hexdigest()[:16]
        experiment_id = None
        if args.experiment:  # like set_experiment: later cells and searches use it too
            experiment_id = fluent.set_experiment(args.experiment).experiment_id
        notes: list[str] = []
        # transformed and parsed once: the params, the data references, the lineage and the
        # execution all read this tree (a syntax error is raised inside the run, which fails)
        transformed = shell.transform_cell(cell)
        filename = shell.compile.cache(transformed, shell.execution_count, raw_code=cell)
        syntax_error: SyntaxError | None = None
        tree: ast.Module | None = None
        try:
            tree = shell.compile.ast_parse(transformed, filename=filename)
        except SyntaxError as exc:
            syntax_error = exc
        lineage = (
            self._lineage(tree if tree is not None else "", current, notes)
            if self.lineage
            else None
        )
        if lineage is not None:
            tags = {**lineage.tags(), **tags}
        run = fluent.start_run(
            experiment_id=experiment_id, run_name=args.run_name, nested=args.nested, tags=tags
        )
        run_id = run.info.run_id
        session.current().begin_cell_run(run_id)
        context.last_tracked_cell_id = current.cell_id
        self.cell_log.lineage_runs.add(run_id)
        if lineage is not None:
            self._record_lineage(run_id, lineage, notes)
        params = cellparams.literal_assignments(tree) if tree is not None else {}
        for name in args.metrics:  # a name given with -m is a metric, not a hyperparameter
            params.pop(name, None)
        if params:
            try:
                fluent.log_params(
                    {k: cellparams.param_text(v) for k, v in params.items()}, run_id=run_id
                )
            except (InvalidInput, TrackError) as exc:
                notes.append(str(exc))
        if tree is not None:
            self._log_referenced_files(tree, run_id, notes)
        live = self._start_live(args.live, run_id) if args.live is not None else None
        status = RunStatus.FINISHED
        error_text = None
        try:
            if syntax_error is not None:
                raise syntax_error
            assert tree is not None
            result = self._execute(tree, filename)
        except KeyboardInterrupt:
            status = RunStatus.KILLED
            raise
        except BaseException as exc:
            status = RunStatus.FAILED
            error_text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            raise
        finally:
            if live is not None:
                try:
                    live.stop()
                except Exception:
                    pass
            self._finish(run_id, args, status, error_text, notes)
        return result

    # --------------------------------------------------------------------------- helpers

    def _execute(self, tree: ast.Module, filename: str) -> Any:
        """Run the cell body in the user namespace; return the last expression's value."""
        __tracebackhide__ = True
        shell = self.shell
        tree = shell.transform_ast(tree)
        body, last = _split_last_expression(tree)
        exec(shell.compile(body, filename, "exec"), shell.user_global_ns, shell.user_ns)
        if last is not None:
            return eval(shell.compile(last, filename, "eval"), shell.user_global_ns, shell.user_ns)
        return None

    def _lineage(
        self, tree: ast.Module | str, current: context.CellContext, notes: list[str]
    ) -> Lineage | None:
        """The executed cells this cell depends on, with stale-state flags and seeds."""
        try:
            return lineage_kernel.lineage_for_cell(
                self.cell_log.session_log,
                self.shell,
                tree,
                session=SESSION_ID,
                cell_id=current.cell_id,
                source=current.source,
                execution_count=current.execution_count,
                logging_on=self.cell_log.enabled,
            )
        except Exception as exc:  # lineage must never stop the cell from running
            notes.append(f"lineage not computed: {type(exc).__name__}: {exc}")
            return None

    def _record_lineage(self, run_id: str, lineage: Lineage, notes: list[str]) -> None:
        notes.extend(lineage.notes())
        try:
            pending = fluent.pending_run(run_id)  # not written yet: written with the run
            if pending is None or not pending.add_lineage(lineage.to_dict()):
                lineage_kernel.record(session.current().store, run_id, lineage)
        except Exception as exc:  # a store that cannot hold it never stops the cell
            notes.append(f"lineage not recorded: {type(exc).__name__}: {exc}")
            return
        for path in lineage_kernel.data_files(lineage):
            try:
                fluent.log_input(path, context="lineage", run_id=run_id)
            except (OSError, ValueError, TrackError) as exc:
                notes.append(f"input {path}: {exc}")

    def _log_referenced_files(self, tree: ast.Module, run_id: str, notes: list[str]) -> None:
        """Data references: files the cell names in string literals are fingerprinted."""
        from . import provenance

        for path in provenance.referenced_files(tree):
            try:
                fluent.log_input(path, context="cell", run_id=run_id)
            except (OSError, ValueError, TrackError) as exc:
                notes.append(f"input {path}: {exc}")

    def _start_live(self, keys: list[str], run_id: str) -> Any:
        try:
            from .widgets.live import start_live
        except ImportError:
            print("jupyter-track: live charts need the widgets module", file=sys.stderr)
            return None
        return start_live(keys or None, run_id=run_id)

    def _finish(
        self, run_id: str, args: Any, status: str, error_text: str | None, notes: list[str]
    ) -> None:
        user_ns = self.shell.user_ns
        if args.params:
            values = {}
            for name in args.params:
                if name in user_ns:
                    values[name] = cellparams.param_text(user_ns[name])
                else:
                    notes.append(f"-p {name}: not defined after the cell")
            try:
                fluent.log_params(values, run_id=run_id)
            except (InvalidInput, TrackError) as exc:
                notes.append(str(exc))
        if args.metrics:
            metrics = {}
            for name in args.metrics:
                if name not in user_ns:
                    notes.append(f"-m {name}: not defined after the cell")
                    continue
                number = _metric_number(name, user_ns[name])
                if number is None:
                    notes.append(f"-m {name}: {type(user_ns[name]).__name__} is not a number")
                else:
                    metrics[name] = number
            if metrics:
                fluent.log_metrics(metrics, run_id=run_id)
        try:
            if session.current().is_active(run_id):
                session.current().end_run(run_id, status, error=error_text)
            else:  # the cell ended its run itself; keep the magic's verdict on failure
                fluent.flush()
                if status != RunStatus.FINISHED:
                    session.current().store.update_run(run_id, status=status, error=error_text)
        except TrackError as exc:
            print(f"jupyter-track: {exc}", file=sys.stderr)
            return
        finally:
            session.current().end_cell_run(run_id)
        if args.quiet or not self.show_summary:
            return
        self._show_summary(run_id, notes)

    def _show_summary(self, run_id: str, notes: list[str]) -> None:
        """Display the run's summary as display data (see :mod:`jupyter_track.summary`): the
        JupyterLab extension renders its MIME type, other front ends its HTML or text. No
        widget, so no comm; two store reads (the run, the previous run of its cell)."""
        from IPython.display import display

        from .summary import load

        try:
            bundle = load(session.current().store, run_id, notes).mimebundle()
        except Exception as exc:  # the run is stored: never fail the cell (or hide its error)
            print(f"jupyter-track: summary not shown: {type(exc).__name__}: {exc}", file=sys.stderr)
            return
        display(bundle, raw=True)


_LOADED_ATTR = "_jupyter_track_magics"


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and the cell-log hooks (idempotent)."""
    if getattr(ipython, _LOADED_ATTR, None) is not None:
        return
    magics = TrackMagics(ipython)
    ipython.register_magics(magics)
    ipython.events.register("pre_run_cell", magics.cell_log.pre_run_cell)
    ipython.events.register("post_run_cell", magics.cell_log.post_run_cell)
    setattr(ipython, _LOADED_ATTR, magics)


def unload_ipython_extension(ipython: Any) -> None:
    magics = getattr(ipython, _LOADED_ATTR, None)
    if magics is None:
        return
    ipython.events.unregister("pre_run_cell", magics.cell_log.pre_run_cell)
    ipython.events.unregister("post_run_cell", magics.cell_log.post_run_cell)
    setattr(ipython, _LOADED_ATTR, None)
