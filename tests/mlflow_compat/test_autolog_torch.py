"""PyTorch Lightning and transformers' Trainer autologging with the real libraries: a tiny
module trained 2 epochs on a few rows; a tiny BERT built from a config (no download)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import jupyter_track as jt

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def autolog_off() -> Iterator[None]:
    yield
    jt.autolog(disable=True)


def _history(run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in jt.get_metric_history(run_id, key)]


def _lightning_setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    pl = pytest.importorskip("pytorch_lightning")

    class Regressor(pl.LightningModule):
        def __init__(self, lr: float = 0.05, hidden: int = 4) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
            )

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.net(x)

        def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
            x, y = batch
            loss = torch.nn.functional.mse_loss(self(x), y)
            self.log("train_loss", loss, on_epoch=True, on_step=False)
            return loss

        def validation_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(0)
    x = torch.randn(16, 3)
    y = x.sum(dim=1, keepdim=True)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    trainer = pl.Trainer(
        max_epochs=2,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path),
    )
    return pl, Regressor, trainer, loader, x


def test_lightning_fit_logs_params_epoch_metrics_and_model(tmp_path: Path) -> None:
    pl, Regressor, trainer, loader, x = _lightning_setup(tmp_path)
    original_fit = pl.Trainer.__dict__["fit"]
    jt.pytorch.autolog()
    model = Regressor(lr=0.05)
    trainer.fit(model, loader, loader)
    run = jt.last_active_run()
    assert run.info.status == "FINISHED" and run.data.tags["mlflow.autologging"] == "pytorch"
    p = run.data.params
    assert (p["epochs"], p["optimizer_name"], p["lr"], p["hidden"]) == ("2", "Adam", "0.05", "4")
    assert "betas" in p and "weight_decay" in p
    train = _history(run.info.run_id, "train_loss")
    val = _history(run.info.run_id, "val_loss")
    assert [s for s, _ in train] == [0, 1] and [s for s, _ in val] == [0, 1]
    assert train[1][1] == pytest.approx(float(trainer.callback_metrics["train_loss"]))
    arts = {a.path for a in jt.TrackClient().list_artifacts(run.info.run_id)}
    assert {"model", "model_summary.txt"} <= arts
    loaded = jt.pytorch.load_model(f"runs:/{run.info.run_id}/model")
    model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-5)
    # the callback was only there during fit
    assert not any(type(cb).__name__ == "AutologCallback" for cb in trainer.callbacks)
    jt.pytorch.autolog(disable=True)
    assert pl.Trainer.__dict__["fit"] is original_fit
    trainer.fit(Regressor(), loader)
    assert len(jt.search_runs(output_format="list")) == 1  # nothing logged once disabled


def test_lightning_inside_an_active_run_without_models(tmp_path: Path) -> None:
    _, Regressor, trainer, loader, _ = _lightning_setup(tmp_path)
    jt.pytorch.autolog(log_models=False)
    with jt.start_run() as active:
        trainer.fit(Regressor(), loader)
        assert jt.active_run().info.run_id == active.info.run_id
    (run,) = jt.search_runs(output_format="list")
    assert run.info.run_id == active.info.run_id
    assert len(_history(run.info.run_id, "train_loss")) == 2
    assert "model" not in {a.path for a in jt.TrackClient().list_artifacts(run.info.run_id)}


def _tiny_bert():  # type: ignore[no-untyped-def]
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=30,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
        num_labels=2,
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    rows = [
        {
            "input_ids": torch.randint(1, 30, (6,)),
            "attention_mask": torch.ones(6, dtype=torch.long),
            "labels": torch.tensor(i % 2),
        }
        for i in range(8)
    ]
    return transformers, model, rows


def _trainer(transformers, model, rows, tmp_path: Path, **kwargs):  # type: ignore[no-untyped-def]
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"),
        num_train_epochs=1,
        per_device_train_batch_size=4,
        logging_steps=1,
        learning_rate=1e-3,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
    )
    return transformers.Trainer(model=model, args=args, train_dataset=rows, **kwargs)


def test_transformers_autolog_adds_the_callback(tmp_path: Path) -> None:
    transformers, model, rows = _tiny_bert()
    original_init = transformers.Trainer.__dict__["__init__"]
    jt.transformers.autolog(log_models=True)
    trainer = _trainer(transformers, model, rows, tmp_path)
    trainer.train()
    run = jt.last_active_run()
    assert run.info.status == "FINISHED" and run.data.tags["mlflow.autologging"] == "transformers"
    p = run.data.params
    assert p["learning_rate"] == "0.001" and p["num_train_epochs"] == "1"
    assert p["hidden_size"] == "8" and p["model_type"] == "bert"  # the model's config
    loss = _history(run.info.run_id, "loss")
    assert [s for s, _ in loss] == [1, 2]  # logging_steps=1, 8 rows / batch 4
    logged = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    np.testing.assert_allclose([v for _, v in loss], logged, rtol=1e-6)
    assert "train_runtime" in run.data.metrics
    arts = {a.path for a in jt.TrackClient().list_artifacts(run.info.run_id, "model")}
    assert "model/config.json" in arts
    jt.transformers.autolog(disable=True)
    assert transformers.Trainer.__dict__["__init__"] is original_init


def test_transformers_callback_by_hand_logs_into_the_active_run(tmp_path: Path) -> None:
    transformers, model, rows = _tiny_bert()
    with jt.start_run() as active:
        trainer = _trainer(
            transformers, model, rows, tmp_path, callbacks=[jt.transformers.JupyterTrackCallback()]
        )
        trainer.train()
        assert jt.active_run().info.run_id == active.info.run_id  # not ended by the callback
    run = jt.get_run(active.info.run_id)
    assert len(_history(run.info.run_id, "loss")) == 2
    assert "mlflow.autologging" not in run.data.tags
