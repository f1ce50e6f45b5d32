"""Champion/challenger in a notebook: ``jt.Router(name, {"champion": 0.9, "challenger": 0.1})``.

A weighted split over aliases of one registered model. With a request key the choice is
deterministic (the same key always goes to the same alias for the same weights); without one it
is random. Aliases are re-read on every call, so moving an alias (a rollback included) takes
effect on the next call; loaded versions are cached.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..store import SQLiteStore
from ..store.errors import InvalidInput, NotFound
from ..store.registry import check_alias_name, check_model_name
from .model import PyFuncModel


def key_fraction(key: Any) -> float:
    """A stable number in [0, 1) for a request key (same key, same number, every process)."""
    digest = hashlib.sha256(str(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class WeightedSplit:
    """Pick an alias by weight; deterministic per key."""

    def __init__(self, weights: Mapping[str, float], *, seed: int | None = None):
        if not weights:
            raise InvalidInput("route: give at least one alias with a weight")
        clean: dict[str, float] = {}
        for alias, weight in weights.items():
            check_alias_name(alias)
            try:
                w = float(weight)
            except (TypeError, ValueError) as exc:
                raise InvalidInput(
                    f"route: weight of {alias!r} is not a number: {weight!r}"
                ) from exc
            if not w >= 0 or w == float("inf"):
                raise InvalidInput(f"route: weight of {alias!r} must be >= 0, got {weight!r}")
            clean[alias] = w
        total = sum(clean.values())
        if total <= 0:
            raise InvalidInput("route: the weights add up to 0")
        self.weights = {a: w / total for a, w in clean.items()}
        self._cumulative: list[tuple[float, str]] = []
        acc = 0.0
        for alias, w in self.weights.items():
            acc += w
            self._cumulative.append((acc, alias))
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def aliases(self) -> list[str]:
        return list(self.weights)

    def choose(self, key: Any = None) -> str:
        """The alias for this request (``key`` None: random by weight)."""
        if key is None:
            with self._lock:
                x = self._rng.random()
        else:
            x = key_fraction(key)
        for bound, alias in self._cumulative:
            if x < bound and self.weights[alias] > 0:
                return alias
        return next(a for _, a in reversed(self._cumulative) if self.weights[a] > 0)


def parse_route(text: str) -> dict[str, float]:
    """``"champion=90,challenger=10"`` -> ``{"champion": 90.0, "challenger": 10.0}``."""
    weights: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        alias, sep, weight = part.partition("=")
        if not sep:
            raise InvalidInput(f"route {text!r}: expected alias=weight pairs, got {part!r}")
        alias = alias.strip()
        if alias in weights:
            raise InvalidInput(f"route {text!r}: alias {alias!r} appears twice")
        try:
            weights[alias] = float(weight)
        except ValueError as exc:
            raise InvalidInput(f"route {text!r}: weight {weight!r} is not a number") from exc
    WeightedSplit(weights)  # validates
    return weights


class VersionCache:
    """Loaded versions of one registered model, by version number (thread-safe)."""

    def __init__(self, store: SQLiteStore, name: str):
        self.store = store
        self.name = name
        self._models: dict[int, PyFuncModel] = {}
        self._lock = threading.Lock()

    def get(self, version: int) -> PyFuncModel:
        model = self._models.get(version)
        if model is not None:
            return model
        with self._lock:
            model = self._models.get(version)
            if model is None:
                from .resolve import load_version

                mv = self.store.get_model_version(self.name, version)
                model = load_version(self.store, mv)
                self._models[version] = model
        return model

    def keep_only(self, versions: set[int]) -> None:
        with self._lock:
            for v in [v for v in self._models if v not in versions]:
                del self._models[v]


@dataclass
class RoutedPrediction:
    """Predictions with the alias and version that produced each row."""

    predictions: Any
    aliases: list[str]
    versions: list[int]


class Router:
    """Split predictions between aliases of a registered model by weight.

    ``Router("fraud", {"champion": 0.9, "challenger": 0.1}).predict(df)`` sends the whole call to
    one alias (by ``key`` when given, else at random); ``key_column="customer_id"`` routes row by
    row on that column, deterministically. ``last_version`` says which version served the last
    whole-call prediction.
    """

    def __init__(
        self,
        name: str,
        weights: Mapping[str, float],
        *,
        seed: int | None = None,
        store: SQLiteStore | None = None,
    ):
        check_model_name(name)
        self.name = name
        self.split = WeightedSplit(weights, seed=seed)
        if store is None:
            from ..tracking import session

            store = session.current().store
        self.store = store
        self.cache = VersionCache(store, name)
        self.last_alias: str | None = None
        self.last_version: int | None = None
        self.resolve()  # fail early on an unknown model or alias

    def resolve(self) -> dict[str, int]:
        """alias -> version for the routed aliases, read now."""
        aliases = self.store.get_aliases(self.name)
        missing = [a for a in self.split.aliases if self.split.weights[a] > 0 and a not in aliases]
        if missing:
            raise NotFound(f"registered model {self.name!r} has no alias {missing[0]!r}")
        return {a: aliases[a] for a in self.split.aliases if a in aliases}

    def route(self, key: Any = None) -> str:
        """The alias a request with this key goes to."""
        return self.split.choose(key)

    def predict(self, data: Any, key: Any = None, *, key_column: str | None = None) -> Any:
        """Predictions from the alias chosen for ``key`` (or row by row on ``key_column``)."""
        return self.predict_detailed(data, key, key_column=key_column).predictions

    def predict_detailed(
        self, data: Any, key: Any = None, *, key_column: str | None = None
    ) -> RoutedPrediction:
        """Like :meth:`predict`, also saying which alias and version served each row."""
        versions = self.resolve()
        self.cache.keep_only(set(versions.values()))
        if key_column is None:
            alias = self.route(key)
            version = versions[alias]
            out = self.cache.get(version).predict(data)
            self.last_alias, self.last_version = alias, version
            n = len(out) if hasattr(out, "__len__") else 1
            return RoutedPrediction(out, [alias] * n, [version] * n)
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
        if key_column not in frame.columns:
            raise InvalidInput(f"key_column {key_column!r}: not a column of the input")
        row_aliases = [self.route(k) for k in frame[key_column]]
        pieces: dict[int, Any] = {}
        for alias in dict.fromkeys(row_aliases):
            idx = [i for i, a in enumerate(row_aliases) if a == alias]
            model = self.cache.get(versions[alias])
            part = frame.iloc[idx].reset_index(drop=True)
            signature = model.signature
            if signature is None or key_column not in signature.inputs.input_names():
                part = part.drop(columns=[key_column])  # a routing key, not a feature
            out = np.asarray(model.predict(part))
            for i, value in zip(idx, out):
                pieces[i] = value
        predictions = np.asarray([pieces[i] for i in range(len(frame))])
        return RoutedPrediction(predictions, row_aliases, [versions[a] for a in row_aliases])

    def __repr__(self) -> str:
        split = ", ".join(f"{a}={w:.0%}" for a, w in self.split.weights.items())
        return f"<Router {self.name}: {split}>"
