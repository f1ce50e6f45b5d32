"""Which versions serve which aliases now: resolved from the registry, refreshed in a worker
thread, each new version loaded before it takes traffic; and the serving run's metrics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...store import SQLiteStore, open_store
from ...store.errors import InvalidInput, NotFound, TrackError
from ..model import PyFuncModel
from ..resolve import ModelRef, load_model, parse_model_uri
from ..router import VersionCache, WeightedSplit
from .stats import ServingStats

log = logging.getLogger("jupyter_track.serving")

SERVING_EXPERIMENT = "jupyter-track serving"


@dataclass(frozen=True)
class Pick:
    """What serves one request: the alias (or None), the version (or None) and the model."""

    alias: str | None
    version: int | None
    model: PyFuncModel


class ServingState:
    """Which versions serve which aliases now; refreshed from the registry in a worker thread."""

    def __init__(
        self,
        model_uri: str,
        *,
        store: SQLiteStore | None = None,
        route: Mapping[str, float] | None = None,
        shadow: str | None = None,
        refresh_interval: float = 1.0,
        metrics_interval: float = 5.0,
        log_metrics: bool = True,
    ):
        self.model_uri = model_uri
        self.store = store if store is not None else open_store()
        self.ref: ModelRef = parse_model_uri(model_uri)
        self.refresh_interval = float(refresh_interval)
        self.metrics_interval = float(metrics_interval)
        self.log_metrics = log_metrics
        self.stats = ServingStats()
        self.run_id: str | None = None
        self.refreshes = 0
        self.name = self.ref.name
        self.split: WeightedSplit | None = None
        self.shadow = shadow
        self._static: PyFuncModel | None = None
        self._current: dict[str, int] = {}  # alias (or "latest"/"version") -> version
        # alias -> (version, loaded model), swapped in one assignment with _current
        self._models: dict[str, tuple[int, PyFuncModel]] = {}
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._metrics_thread: threading.Thread | None = None
        if self.ref.kind in ("runs", "path"):
            if route or shadow:
                raise InvalidInput(
                    "--route and --shadow need a registered model (models:/<name>@<alias>)"
                )
            self._static = load_model(self.store, model_uri)
            return
        assert self.name is not None
        self.cache = VersionCache(self.store, self.name)
        if route:
            self.split = WeightedSplit(route)
            if self.ref.kind == "alias" and self.ref.alias not in self.split.weights:
                raise InvalidInput(
                    f"--route {dict(route)}: does not include the served alias {self.ref.alias!r}"
                )
            if self.ref.kind != "alias":
                raise InvalidInput("--route splits between aliases: serve models:/<name>@<alias>")
        elif self.ref.kind == "alias":
            assert self.ref.alias is not None
            self.split = WeightedSplit({self.ref.alias: 1.0})
        if shadow is not None:
            from ...store.registry import check_alias_name

            check_alias_name(shadow)
        self.refresh(initial=True)

    # -- resolution

    def _targets(self) -> list[str]:
        targets = list(self.split.weights) if self.split else []
        if self.shadow and self.shadow not in targets:
            targets.append(self.shadow)
        return targets

    def refresh(self, *, initial: bool = False) -> dict[str, int]:
        """Re-read the aliases; load new versions first, then switch (atomically)."""
        if self._static is not None:
            return {}
        assert self.name is not None
        with self._refresh_lock:
            new: dict[str, int] = {}
            if self.ref.kind == "version":
                assert self.ref.version is not None
                new["version"] = self.store.get_model_version(self.name, self.ref.version).version
            elif self.ref.kind == "latest":
                new["latest"] = self.store.get_latest_model_version(self.name).version
            else:
                aliases = self.store.get_aliases(self.name)
                for alias in self._targets():
                    if alias in aliases:
                        new[alias] = aliases[alias]
                    elif initial:
                        raise NotFound(f"registered model {self.name!r} has no alias {alias!r}")
                    elif alias in self._current:
                        log.warning(
                            "alias %r of %r was removed; still serving version %s",
                            alias,
                            self.name,
                            self._current[alias],
                        )
                        new[alias] = self._current[alias]
            loaded: dict[str, tuple[int, PyFuncModel]] = {}
            for alias, version in list(new.items()):
                try:
                    loaded[alias] = (version, self.cache.get(version))  # load before traffic
                except Exception as exc:
                    if initial or alias not in self._current:
                        raise
                    log.error(
                        "cannot load version %s of %r for alias %r (%s); still serving %s",
                        version,
                        self.name,
                        alias,
                        exc,
                        self._current[alias],
                    )
                    new[alias] = self._current[alias]
                    loaded[alias] = self._models[alias]
            if new != self._current or not self._models:
                if self._current:
                    log.info("serving %s: %s -> %s", self.name, self._current, new)
                # one reference swap each: a request sees the old or the new mapping, never
                # half of one, and keeps its model object even if the cache drops it
                self._models = loaded
                self._current = new
            self.cache.keep_only(set(new.values()))
            self.refreshes += 1
            return dict(new)

    @property
    def current(self) -> dict[str, int]:
        """alias -> version being served now."""
        return dict(self._current)

    def pick(self, key: Any = None) -> Pick:
        """The alias, version and loaded model for one request."""
        if self._static is not None:
            return Pick(None, None, self._static)
        models = self._models
        if self.ref.kind in ("version", "latest"):
            version, model = next(iter(models.values()))
            return Pick(None, version, model)
        assert self.split is not None
        alias = self.split.choose(key)
        version, model = models[alias]
        return Pick(alias, version, model)

    def shadow_pick(self) -> Pick | None:
        if self.shadow is None or self._static is not None:
            return None
        entry = self._models.get(self.shadow)
        if entry is None:
            return None
        return Pick(self.shadow, entry[0], entry[1])

    # -- the serving run and its metrics

    def start(self) -> None:
        """Create the serving run and start the metrics thread."""
        if not self.log_metrics or self.run_id is not None:
            return
        from ...provenance import current_user

        experiment = self.store.get_or_create_experiment(SERVING_EXPERIMENT)
        target = self.model_uri
        info = self.store.create_run(
            experiment.experiment_id,
            run_name=f"serve {target}",
            user_id=current_user()[0],
            tags={
                "jupyter_track.serving.model_uri": target,
                "jupyter_track.serving.route": ",".join(
                    f"{a}={w:g}" for a, w in (self.split.weights.items() if self.split else [])
                ),
                "jupyter_track.serving.shadow": self.shadow or "",
                "jupyter_track.serving.model": self.name or "",
            },
        )
        self.run_id = info.run_id
        self._stop.clear()
        self._metrics_thread = threading.Thread(
            target=self._metrics_loop, name="jupyter-track-serving-metrics", daemon=True
        )
        self._metrics_thread.start()

    def _metrics_loop(self) -> None:
        step = 0
        while not self._stop.wait(self.metrics_interval):
            step = self.flush_metrics(step)

    def flush_metrics(self, step: int = 0) -> int:
        """Write the metrics gathered since the last flush; returns the next step."""
        if self.run_id is None:
            return step
        metrics = self.stats.drain()
        if not metrics:
            return step
        ts = int(time.time() * 1000)
        try:
            self.store.log_metrics(self.run_id, [(k, v, ts, step) for k, v in metrics.items()])
        except TrackError as exc:
            log.error("cannot log serving metrics: %s", exc)
        return step + 1

    def stop(self) -> None:
        """Stop the metrics thread, write the last metrics and end the serving run."""
        self._stop.set()
        thread = self._metrics_thread
        if thread is not None:
            thread.join(timeout=10)
        if self.run_id is not None:
            self.flush_metrics(1_000_000)
            self.store.update_run(self.run_id, status="FINISHED", end_time=int(time.time() * 1000))
