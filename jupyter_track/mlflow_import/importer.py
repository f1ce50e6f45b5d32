"""Copy an MLflow store into jupyter-track: experiments, runs, artifacts, the registry.

* Experiments are matched by name (an existing one is reused, ``Default`` included); new ones
  keep their state, times and tags.
* Runs keep their run ids: a run already in the store is skipped, so importing twice imports
  nothing twice, and an import stopped half-way resumes where it stopped. A new run keeps its
  name, status, times, lifecycle, user, params, tags (``jt.import.source`` records where it came
  from), every metric point and its artifact files, all written in one transaction after its
  files are copied. MLflow 3 logged models (``mlflow.<flavor>.log_model``), whose files MLflow
  keeps outside the run, are copied into their run's artifacts under the model's name (or
  ``models/<model_id>`` when the run already has a folder of that name).
* Registered models are matched by name; versions keep their numbers (one already there is
  skipped); a version whose files are now in a run's artifacts gets the source
  ``runs:/<run_id>/<path>``; aliases are set where they are missing. MLflow prompts (registered
  models tagged ``mlflow.prompt.is_prompt``) are left out. Registry changes are audited as made
  by the user running the import, unverified.

A dry run reads everything the same way and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..store.artifacts import safe_relative_path
from ..store.errors import InvalidInput, NotFound
from ..store.sqlstore import SQLStore
from .model import Source, SourceError, SourceExperiment, SourceModel, SourceRun, SourceVersion

IMPORT_TAG = "jt.import.source"
MAX_PROBLEMS = 20
_PROXY_SOURCE = re.compile(
    r"^mlflow-artifacts:(?://[^/]*)?/+[^/]+/(?P<run>[0-9A-Za-z]+)/artifacts/(?P<path>.+)$"
)
_RUNS_SOURCE = re.compile(r"^runs:/(?P<run>[0-9A-Za-z]+)/(?P<path>.+)$")


@dataclass
class ImportSummary:
    """What an import wrote (or, in a dry run, would write)."""

    source: str
    dry_run: bool = False
    experiments_imported: int = 0
    experiments_existing: int = 0
    runs_imported: int = 0
    runs_deleted: int = 0
    runs_existing: int = 0
    params: int = 0
    tags: int = 0
    metric_points: int = 0
    artifact_files: int = 0
    artifact_bytes: int = 0
    logged_models: int = 0
    models_imported: int = 0
    models_existing: int = 0
    prompts_skipped: int = 0
    versions_imported: int = 0
    versions_existing: int = 0
    aliases_set: int = 0
    aliases_existing: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        """Something left out (an artifact location this machine cannot read, ...)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append("... (more problems not listed)")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The summary as printed by ``jupyter-track import-mlflow``."""
        verb = "would import" if self.dry_run else "imported"
        rows = [
            (
                "experiments",
                f"{self.experiments_imported} {verb}, {self.experiments_existing} already there",
            ),
            (
                "runs",
                f"{self.runs_imported} {verb} ({self.runs_deleted} deleted), "
                f"{self.runs_existing} already there",
            ),
            ("params", str(self.params)),
            ("tags", str(self.tags)),
            ("metric points", f"{self.metric_points:,}"),
            (
                "artifacts",
                f"{self.artifact_files} files ({_size(self.artifact_bytes)}), "
                f"{self.logged_models} logged models",
            ),
            (
                "models",
                f"{self.models_imported} {verb}, {self.models_existing} already there "
                f"({self.prompts_skipped} prompts left out)",
            ),
            (
                "versions",
                f"{self.versions_imported} {verb}, {self.versions_existing} already there",
            ),
            ("aliases", f"{self.aliases_set} set, {self.aliases_existing} already there"),
        ]
        out = [f"  {name:<14}{text}" for name, text in rows]
        if self.problems:
            out.append(f"  {len(self.problems)} problem(s):")
            out += [f"    - {p}" for p in self.problems]
        return out


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


class Importer:
    """One import of ``source`` into ``store`` (see the module docstring)."""

    def __init__(
        self,
        source: Source,
        store: SQLStore,
        *,
        dry_run: bool = False,
        progress: Callable[[str], None] | None = None,
    ):
        self.source = source
        self.store = store
        self.dry_run = dry_run
        self.progress = progress or (lambda message: None)
        self.summary = ImportSummary(source.uri, dry_run)
        self.experiment_ids: dict[str, str] = {}  # source key -> our id
        self.run_roots: dict[str, str] = {}  # run id -> its artifact URI in the source
        self.logged_places: dict[str, tuple[str, str]] = {}  # model id -> (run id, path)
        self.logged_names: dict[str, tuple[str, str]] = {}  # model id -> (run id, name)

    def run(self) -> ImportSummary:
        """Import everything; the summary."""
        for experiment in self.source.experiments():
            our_id = self._experiment(experiment)
            for run in self.source.runs(experiment):
                self._run(run, our_id)
        for model in self.source.models():
            self._model(model)
        return self.summary

    # ------------------------------------------------------------------------ experiments

    def _experiment(self, experiment: SourceExperiment) -> str | None:
        found = self.store.get_experiment_by_name(experiment.name)
        if found is not None:
            self.summary.experiments_existing += 1
            our_id: str | None = found.experiment_id
        else:
            self.summary.experiments_imported += 1
            our_id = None
            if not self.dry_run:
                our_id = self.store.import_experiment(
                    experiment.name,
                    lifecycle_stage=experiment.lifecycle_stage,
                    creation_time=experiment.creation_time,
                    last_update_time=experiment.last_update_time,
                    tags=experiment.tags,
                )
        self.progress(f"experiment {experiment.name!r}")
        if our_id is not None:
            self.experiment_ids[experiment.key] = our_id
        return our_id

    # ------------------------------------------------------------------------------- runs

    def _run(self, run: SourceRun, experiment_id: str | None) -> None:
        self.run_roots[run.run_id] = run.artifact_uri
        logged = self.source.logged_models(run)
        for model in logged:
            self.logged_names[model.model_id] = (run.run_id, model.name)
        if self.store.run_exists(run.run_id):
            self.summary.runs_existing += 1
            return
        target = self.store.artifact_dir(run.run_id)
        files = self._copy(run.artifacts, target, f"run {run.run_id}", run.artifact_uri)
        top = {PurePosixPath(path).parts[0] for path, _ in files}
        for model in logged:
            place = model.name if model.name not in top else f"models/{model.model_id}"
            try:
                folder = safe_relative_path(place)
            except InvalidInput:
                folder = PurePosixPath("models", model.model_id)
            copied = self._copy(
                model.location, target / folder, f"logged model {model.model_id}", "", str(folder)
            )
            if copied:
                files += copied
                top.add(folder.parts[0])
                self.logged_places[model.model_id] = (run.run_id, str(folder))
                self.summary.logged_models += 1
        tags = dict(run.tags)
        tags[IMPORT_TAG] = self.source.uri
        parent = tags.get("mlflow.parentRunId") or None
        self.summary.runs_imported += 1
        self.summary.runs_deleted += run.lifecycle_stage == "deleted"
        self.summary.params += len(run.params)
        self.summary.tags += len(run.tags)
        self.progress(f"run {run.run_id} ({run.name})")
        if self.dry_run or experiment_id is None:
            self.summary.metric_points += sum(1 for _ in self._points(run))
            return
        self.summary.metric_points += self.store.import_run(
            run.run_id,
            experiment_id,
            run_name=run.name,
            status=run.status,
            start_time=run.start_time,
            end_time=run.end_time,
            lifecycle_stage=run.lifecycle_stage,
            user_id=run.user_id,
            parent_run_id=parent,
            params=run.params,
            tags=tags,
            metrics=self._points(run),
            artifacts=files,
        )

    def _points(self, run: SourceRun) -> Iterator[tuple[str, float, int, int]]:
        for key in run.metric_keys:
            for value, timestamp, step in self.source.metric_history(run, key):
                yield key, value, timestamp, step

    def _copy(
        self, location: Any, target: Path, what: str, uri: str, prefix: str = ""
    ) -> list[tuple[str, int]]:
        """Copy every file of ``location`` below ``target``; (path from the run's root, size)."""
        if location is None:
            if uri:
                self.summary.problem(f"{what}: artifacts at {uri} cannot be read from here")
            return []
        copied = []
        for item in self.source.artifact_files(location):
            try:
                rel = safe_relative_path(item.path)
            except InvalidInput as exc:
                self.summary.problem(f"{what}: artifact {item.path!r} left out ({exc})")
                continue
            if not rel.parts:
                continue
            destination = target / rel
            if not self.dry_run:
                self.source.copy_artifact(location, item.path, destination)
                size = destination.stat().st_size
            else:
                size = item.size or 0
            path = str(PurePosixPath(prefix) / rel) if prefix else str(rel)
            copied.append((path, size))
            self.summary.artifact_files += 1
            self.summary.artifact_bytes += size
        return copied

    # ---------------------------------------------------------------------------- registry

    def _model(self, model: SourceModel) -> None:
        if model.is_prompt:
            self.summary.prompts_skipped += 1
            return
        try:
            current = self.store.get_registered_model(model.name)
        except NotFound:
            current = None
        if current is None:
            self.summary.models_imported += 1
            if not self.dry_run:
                self.store.import_registered_model(
                    model.name,
                    description=model.description,
                    tags=model.tags,
                    creation_time=model.creation_time,
                    last_updated_time=model.last_updated_time,
                )
        else:
            self.summary.models_existing += 1
            if not self.dry_run:
                for key, value in model.tags.items():
                    if key not in current.tags:
                        self.store.set_registered_model_tag(model.name, key, value)
        self.progress(f"registered model {model.name!r}")
        numbers = self.store.model_version_numbers(model.name)
        for version in self.source.versions(model):
            if version.version in numbers:
                self.summary.versions_existing += 1
                continue
            self.summary.versions_imported += 1
            numbers.add(version.version)
            if self.dry_run:
                continue
            run_id, path = self._locate(version)
            source = f"runs:/{run_id}/{path}" if run_id and path else version.source
            self.store.import_model_version(
                model.name,
                version.version,
                source=source,
                run_id=run_id or version.run_id,
                artifact_path=path,
                description=version.description,
                user_id=version.user_id,
                status=version.status,
                creation_time=version.creation_time,
                last_updated_time=version.last_updated_time,
                tags=version.tags,
            )
        aliases = self._aliases(model.name)
        for alias, number in model.aliases.items():
            if aliases.get(alias) == number:
                self.summary.aliases_existing += 1
            elif number in numbers:
                self.summary.aliases_set += 1
                if not self.dry_run:
                    self.store.set_registered_model_alias(model.name, alias, number)
            else:
                self.summary.problem(
                    f"model {model.name!r}: alias {alias!r} names version {number}, which the "
                    "source does not have"
                )

    def _aliases(self, name: str) -> dict[str, int]:
        try:
            return self.store.get_aliases(name)
        except NotFound:
            return {}

    def _locate(self, version: SourceVersion) -> tuple[str | None, str | None]:
        """Where the version's files are in jupyter-track: (run id, path in its artifacts)."""
        if version.model_id:
            placed = self.logged_places.get(version.model_id) or self._placed(version.model_id)
            if placed is not None:
                return placed
        for pattern in (_RUNS_SOURCE, _PROXY_SOURCE):
            m = pattern.match(version.source)
            if m is not None:
                return m.group("run"), m.group("path").strip("/")
        run_id = version.run_id
        root = self.run_roots.get(run_id or "")
        if run_id and root:
            prefixes = {root.rstrip("/"), _path_of(root).rstrip("/")}
            for candidate in (version.source, _path_of(version.source)):
                for prefix in prefixes:
                    if prefix and candidate.startswith(prefix + "/"):
                        return run_id, candidate[len(prefix) + 1 :].strip("/")
        return None, None

    def _placed(self, model_id: str) -> tuple[str, str] | None:
        """Where an earlier import put a logged model's files (an import that resumes)."""
        known = self.logged_names.get(model_id)
        if known is None:
            return None
        run_id, name = known
        for place in (name, f"models/{model_id}"):
            try:
                folder = self.store.artifact_path(run_id, place)
            except (InvalidInput, NotFound):
                continue
            if folder.is_dir():
                return run_id, place
        return None


def _path_of(uri: str) -> str:
    """``file:///a/b`` -> ``/a/b``; anything else as it is."""
    return uri[len("file://") :] if uri.startswith("file://") else uri


def import_mlflow(
    source: Source,
    store: SQLStore,
    *,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ImportSummary:
    """Import ``source`` into ``store`` (see the module docstring); the summary."""
    return Importer(source, store, dry_run=dry_run, progress=progress).run()


__all__ = ["ImportSummary", "Importer", "SourceError", "import_mlflow"]
