"""jupyter-track: experiment tracking and a model registry that live inside Jupyter.

``import jupyter_track as jt`` gives MLflow's fluent API under the same names
(``jt.start_run``, ``jt.log_metric``, ``jt.search_runs``, ...). Importing it inside IPython also
registers the ``%%track`` magic. The import loads the logging core (the fluent API and the
store, a few tens of milliseconds), so the first run costs only its own work; heavy modules
(pandas, the server, widgets, models, tracing) load on first use.
"""

from __future__ import annotations

from typing import Any

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0.dev0"

_FLUENT_NAMES = (
    "ActiveRun RunOperations active_run cell_history create_experiment delete_experiment "
    "delete_experiment_tag delete_run delete_tag disable_system_metrics_logging "
    "enable_system_metrics_logging end_run flush get_artifact_uri get_experiment "
    "get_experiment_by_name get_metric_history get_parent_run get_registry_uri get_run "
    "get_tracking_uri last_active_run load_table log_artifact log_artifacts log_dict "
    "log_figure log_image log_input log_inputs log_metric log_metrics log_param log_params "
    "log_table log_text restore_run search_experiments search_runs set_experiment "
    "set_experiment_tag set_experiment_tags set_registry_uri set_tag set_tags set_tracking_uri "
    "start_run"
).split()

# Models and the registry (jupyter_track.models): loaded on first use.
_MODEL_NAMES = (
    "ModelInfo ModelSignature PyFuncModel Router SignatureError alias_history "
    "create_registered_model delete_model_version delete_model_version_tag "
    "delete_registered_model delete_registered_model_alias delete_registered_model_tag "
    "get_model_version get_model_version_by_alias get_registered_model infer_signature "
    "load_model log_model register_model registry_audit rollback_alias save_model "
    "search_model_versions search_registered_models set_model_version_tag "
    "set_registered_model_alias set_registered_model_tag update_model_version "
    "update_registered_model"
).split()

# Lineage and reproduction (jupyter_track.lineage): loaded on first use.
_LINEAGE_NAMES = (
    "dataset_usage environment_diff get_run_lineage model_version_lineage reproduce"
).split()

# Tracing (jupyter_track.tracing): loaded on first use.
_TRACING_NAMES = (
    "delete_assessment delete_trace_tag delete_traces get_assessment get_current_active_span "
    "get_last_active_trace_id get_trace log_assessment log_expectation log_feedback "
    "search_traces set_trace_tag show_traces start_span start_span_no_context trace "
    "update_current_trace SpanType evaluate scorer compare_evaluations"
).split()

# Notebook widgets (jupyter_track.widgets) and the chart specs.
_WIDGET_NAMES = {"live": "live", "runs": "table", "compare": "comparison", "registry": "registry"}

# Subpackages reachable as attributes (``jt.models.infer_signature``), imported on first use;
# ``entities``, ``exceptions``, ``data`` and ``tracking`` are MLflow's modules of those names.
_SUBMODULES = (
    "charts",
    "data",
    "entities",
    "exceptions",
    "genai",
    "models",
    "openai",
    "tracing",
    # MLflow's flavor modules (``jt.sklearn.log_model``, ``jt.pyfunc.PythonModel``, ...)
    "sklearn",
    "xgboost",
    "lightgbm",
    "pytorch",
    "pyfunc",
    "transformers",
    "tracking",
)

__all__ = [
    *_FLUENT_NAMES,
    *_MODEL_NAMES,
    *_LINEAGE_NAMES,
    *_TRACING_NAMES,
    *_WIDGET_NAMES,
    "autolog",
    "charts",
    "data",
    "entities",
    "exceptions",
    "models",
    "tracking",
    "MlflowClient",
    "MlflowException",
    "TrackClient",
    "__version__",
    "load_ipython_extension",
]


# The logging core is what every user of the package calls first: loaded with the package, so
# the first ``start_run`` / ``log_metric`` does only its own work (creating the store, writing).
# Plain module attributes: ``jt.log_metric`` is an attribute read, not a module __getattr__.
from .tracking import fluent as _fluent  # noqa: E402

globals().update({_name: getattr(_fluent, _name) for _name in _FLUENT_NAMES})


def __getattr__(name: str) -> Any:
    # Lazy attributes keep `import jupyter_track` from loading pandas, the server, the
    # widgets, models and tracing until they are used.
    if name in _MODEL_NAMES:
        from . import models

        return getattr(models, name)
    if name in _LINEAGE_NAMES:
        from .lineage import api

        return getattr(api, name)
    if name in _TRACING_NAMES:
        from . import tracing

        return getattr(tracing, name)
    if name in _WIDGET_NAMES:
        import importlib

        module = importlib.import_module(f".widgets.{_WIDGET_NAMES[name]}", __name__)
        return getattr(module, name)
    if name in ("scorers", "judges"):  # MLflow's genai.scorers / genai.judges
        import importlib

        return importlib.import_module(f".tracing.{name}", __name__)
    if name in _SUBMODULES:  # not `from . import x`: that asks this __getattr__ again
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name == "autolog":  # MLflow's mlflow.autolog(): every installed integration
        from .autologging import autolog

        return autolog
    if name in ("TrackClient", "MlflowClient"):  # MlflowClient: TrackClient under MLflow's name
        from .tracking.client import TrackClient

        return TrackClient
    if name == "MlflowException":
        from .exceptions import MlflowException

        return MlflowException
    if name in ("RunStatus", "ViewType", "Run", "RunInfo", "RunData", "Metric", "Experiment"):
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module 'jupyter_track' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_track``: register ``%%track``, ``%track_cells`` and the cell log."""
    from .magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-track"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import JupyterTrack

    return [{"module": "jupyter_track", "app": JupyterTrack}]


def _register_magics_if_in_ipython() -> None:
    # Importing jupyter_track inside IPython registers %%track (the contract), without
    # importing IPython when it is not already loaded.
    import sys

    if "IPython" not in sys.modules:
        return
    try:
        from IPython import get_ipython
    except Exception:
        return
    shell = get_ipython()
    if shell is not None:
        load_ipython_extension(shell)


_register_magics_if_in_ipython()
