"""MLflow's ``mlflow.data``: datasets to record as a run's inputs.

::

    import jupyter_track as mlflow

    dataset = mlflow.data.from_pandas(df, source="data/train.csv", name="train", targets="y")
    with mlflow.start_run():
        mlflow.log_input(dataset, context="training")
    mlflow.get_run(run_id).inputs.dataset_inputs[0].dataset.name  # "train"
    mlflow.search_runs(filter_string="dataset.name = 'train'")

A dataset has MLflow's ``name``, ``digest``, ``source``, ``schema`` and ``profile``. Its digest is
jupyter-track's content fingerprint (:func:`jupyter_track.provenance.fingerprint`, SHA-256 of the
data), so ``jt.log_input(df)`` and ``jt.log_input(from_pandas(df))`` record the same digest.
"""

from __future__ import annotations

from .dataset import (
    CodeDatasetSource,
    Dataset,
    DatasetSource,
    HTTPDatasetSource,
    LocalDatasetSource,
    NumpyDataset,
    PandasDataset,
    from_numpy,
    from_pandas,
)

__all__ = [
    "CodeDatasetSource",
    "Dataset",
    "DatasetSource",
    "HTTPDatasetSource",
    "LocalDatasetSource",
    "NumpyDataset",
    "PandasDataset",
    "from_numpy",
    "from_pandas",
]
