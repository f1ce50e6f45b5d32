"""Hugging Face ``transformers`` autologging: a ``Trainer`` callback, MLflow style.

:class:`JupyterTrackCallback` does what transformers' own ``MLflowCallback`` does with MLflow:
on ``on_train_begin`` it logs the ``TrainingArguments`` and the model's config as params
(values longer than 250 characters left out, as there); every ``on_log`` (``loss``,
``learning_rate``, ``grad_norm``, ``epoch``, ``eval_loss``, ...) logs the numbers at
``state.global_step``; with ``log_models=True`` the trained model (``save_pretrained``) goes to
the artifacts under ``model/``. Values go to the active run or the ``%%track`` cell's run,
else to a run the callback starts and ends with training.

``jt.transformers.autolog()`` adds the callback to every ``Trainer`` created afterwards (its
``__init__`` is patched; ``disable=True`` puts it back). Or pass it yourself:
``Trainer(..., callbacks=[jt.transformers.JupyterTrackCallback()])``.
"""

from __future__ import annotations

import tempfile
from typing import Any

from . import patching

NAME = "transformers"
MAX_PARAM_LENGTH = 250
"""transformers' MLflowCallback drops param values longer than this (MLflow's old limit)."""


def autolog(
    log_models: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Add :class:`JupyterTrackCallback` to every ``transformers.Trainer``; ``disable=True``
    undoes it."""
    from . import flavor_autolog

    flavor_autolog(
        NAME, disable, {"log_models": log_models, "silent": silent, "extra_tags": extra_tags}
    )


def patch(module: Any) -> None:
    import transformers

    patching.patch(NAME, transformers.Trainer, "__init__", _init_wrapper)


def _init_wrapper(original: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if patching.is_enabled(NAME):
            handlers = self.callback_handler.callbacks
            if not any(isinstance(cb, _callback_type()) for cb in handlers):
                log_models = (patching.config(NAME) or {}).get("log_models", False)
                self.add_callback(_callback_type()(log_models=log_models))

    return __init__


_CLASS: Any = None


def _callback_type() -> Any:
    """:class:`JupyterTrackCallback`, defined on first use (it subclasses transformers'
    ``TrainerCallback``, which is imported only then)."""
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    from transformers import TrainerCallback

    class JupyterTrackCallback(TrainerCallback):  # type: ignore[misc]
        """Logs a ``transformers.Trainer``'s arguments and logs to jupyter-track."""

        def __init__(self, log_models: bool = False) -> None:
            self.log_models = log_models
            self.run_id: str | None = None
            self._started = False

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if not state.is_world_process_zero:
                return
            from ..tracking import fluent, session

            current = session.current()
            active = current.active() or current.cell_run()
            if active is not None:
                self.run_id, self._started = active.info.run_id, False
            else:
                run_name = args.run_name if args.run_name != args.output_dir else None
                run = fluent.start_run(run_name=run_name, tags={"mlflow.autologging": NAME})
                self.run_id, self._started = run.info.run_id, True
            params = dict(args.to_dict())
            model = kwargs.get("model")
            config = getattr(model, "config", None)
            if config is not None and hasattr(config, "to_dict"):
                params = {**config.to_dict(), **params}
            params = {k: v for k, v in params.items() if len(str(v)) <= MAX_PARAM_LENGTH}
            patching.safely(NAME, "log params", patching.log_params, self.run_id, params)

        def on_log(
            self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any
        ) -> None:
            if self.run_id is None or not state.is_world_process_zero or not logs:
                return
            patching.safely(
                NAME,
                "log metrics",
                patching.log_metrics,
                self.run_id,
                dict(logs),
                state.global_step,
            )

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.run_id is None or not state.is_world_process_zero:
                return
            model = kwargs.get("model")
            if self.log_models and model is not None and hasattr(model, "save_pretrained"):
                patching.safely(NAME, "log the model", _log_pretrained, self.run_id, model)
            if self._started:
                from ..tracking import session

                state_ = session.current()
                if state_.is_active(self.run_id):
                    state_.end_run(self.run_id, "FINISHED")
            self.run_id = None

    JupyterTrackCallback.__module__ = "jupyter_track.transformers"
    _CLASS = JupyterTrackCallback
    return _CLASS


def _log_pretrained(run_id: str, model: Any) -> None:
    from ..tracking import fluent

    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        fluent.log_artifacts(folder, "model", run_id=run_id)
