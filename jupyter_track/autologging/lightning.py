"""PyTorch Lightning autologging (MLflow's ``mlflow.pytorch.autolog``).

``Trainer.fit`` (of ``lightning.pytorch`` and of ``pytorch_lightning``, whichever is installed)
gets a callback for the duration of the call that logs, as MLflow does:

* params: ``epochs`` (``max_epochs``), ``optimizer_name`` and the optimizer's settings (``lr``,
  ``betas``, ``weight_decay``, ...), the module's ``hparams``; early stopping's ``monitor``,
  ``mode``, ``patience``, ``min_delta`` when an ``EarlyStopping`` callback is used;
* metrics: ``trainer.callback_metrics`` (what ``self.log`` recorded: ``train_loss``,
  ``val_loss``, ...) at the end of every ``log_every_n_epoch``-th epoch with the epoch as
  step, and every ``log_every_n_step`` steps when given; ``stopped_epoch`` with early stopping;
* artifacts: ``model_summary.txt``, and the trained module as the model ``model``
  (``log_models``), loadable with ``jt.pytorch.load_model``.
"""

from __future__ import annotations

from typing import Any

from . import patching

NAME = "pytorch"


def autolog(
    log_every_n_epoch: int = 1,
    log_every_n_step: int | None = None,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, Any] | None = None,
    checkpoint: bool = True,
    **kwargs: Any,
) -> None:
    """Log PyTorch Lightning's ``Trainer.fit``; ``disable=True`` undoes it."""
    from . import flavor_autolog

    flavor_autolog(
        NAME,
        disable,
        {
            "log_every_n_epoch": log_every_n_epoch,
            "log_every_n_step": log_every_n_step,
            "log_models": log_models,
            "silent": silent,
            "registered_model_name": registered_model_name,
            "extra_tags": extra_tags,
        },
    )


def _lightning(module: Any) -> Any:
    """``lightning.pytorch`` for the ``lightning`` package, else ``pytorch_lightning``."""
    if module.__name__ == "lightning":
        import lightning.pytorch

        return lightning.pytorch
    return module


def patch(module: Any) -> None:
    pl = _lightning(module)
    patching.patch(NAME, pl.Trainer, "fit", lambda original: _fit_wrapper(pl, original))


def _fit_wrapper(pl: Any, original: Any) -> Any:
    def fit(self: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        with patching.outermost(NAME) as first:
            if not first or not patching.is_enabled(NAME):
                return original(self, model, *args, **kwargs)
            with patching.managed_run(NAME) as target:
                callback = _callback_class(pl)(target.run_id)
                self.callbacks.append(callback)
                try:
                    result = original(self, model, *args, **kwargs)
                finally:
                    if callback in self.callbacks:
                        self.callbacks.remove(callback)
                patching.safely(NAME, "log the model", _after_fit, target.run_id, self, model)
                return result

    return fit


def _numbers(metrics: Any) -> dict[str, float]:
    out = {}
    for key, value in dict(metrics).items():
        try:
            if hasattr(value, "numel") and value.numel() != 1:
                continue
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _callback_class(pl: Any) -> Any:
    option = patching.config

    class AutologCallback(pl.Callback):  # type: ignore[misc,name-defined]
        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            patching.safely(NAME, "log params", self._params, trainer, pl_module)

        def _params(self, trainer: Any, pl_module: Any) -> None:
            from ..tracking import fluent

            params: dict[str, Any] = {"epochs": trainer.max_epochs}
            if trainer.optimizers:
                optimizer = trainer.optimizers[0]
                params["optimizer_name"] = type(optimizer).__name__
                group = dict(optimizer.param_groups[0]) if optimizer.param_groups else {}
                group.pop("params", None)
                params.update({k: v for k, v in {**optimizer.defaults, **group}.items()})
            hparams = getattr(pl_module, "hparams", None)
            if hparams:
                params.update(dict(hparams))
            for cb in trainer.callbacks:
                if isinstance(cb, pl.callbacks.EarlyStopping):
                    params.update(
                        {
                            "monitor": cb.monitor,
                            "mode": cb.mode,
                            "patience": cb.patience,
                            "min_delta": cb.min_delta,
                        }
                    )
            patching.log_params(self.run_id, params)
            fluent.log_text(str(pl_module), "model_summary.txt", run_id=self.run_id)

        def _log(self, trainer: Any, step: int) -> None:
            patching.log_metrics(self.run_id, _numbers(trainer.callback_metrics), step=step)

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            every = (option(NAME) or {}).get("log_every_n_epoch") or 0
            if every and (trainer.current_epoch + 1) % every == 0:
                patching.safely(NAME, "log metrics", self._log, trainer, trainer.current_epoch)

        def on_train_batch_end(self, trainer: Any, *args: Any) -> None:
            every = (option(NAME) or {}).get("log_every_n_step")
            if every and trainer.global_step % every == 0:
                patching.safely(NAME, "log metrics", self._log, trainer, trainer.global_step)

        def on_train_end(self, trainer: Any, pl_module: Any) -> None:
            for cb in trainer.callbacks:
                if isinstance(cb, pl.callbacks.EarlyStopping) and cb.stopped_epoch:
                    patching.safely(
                        NAME,
                        "log early stopping",
                        patching.log_metrics,
                        self.run_id,
                        {"stopped_epoch": cb.stopped_epoch, "wait_count": cb.wait_count},
                    )

    return AutologCallback


def _after_fit(run_id: str, trainer: Any, model: Any) -> None:
    conf = patching.config(NAME) or {}
    if not conf.get("log_models", True):
        return
    from ..models import fluent as model_fluent

    info = model_fluent.log_model(model, name="model", run_id=run_id, flavor="pytorch")
    if conf.get("registered_model_name"):
        model_fluent.register_model(info.model_uri, conf["registered_model_name"])
