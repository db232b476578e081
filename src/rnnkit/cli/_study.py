"""One training run of a sequence classifier, end to end: data in, model, curves and report out.

This is what ``rnnkit train`` runs, and ``rnnkit compare`` runs it once per architecture. A run
directory holds (ARCHITECTURE.md)::

    config.json        every setting (data, scaling, model, training) and the fitted scaler
    metrics.json       train/test accuracy and loss, epochs, seconds, per-epoch history
    model.safetensors  the weights (no pickle)
    curves.png         loss and accuracy per epoch
    confusion.png      test confusion matrix
    report.html        all of it, self-contained
    test_samples.json  the training source's resolved path and an id of every test sample, so that
                       ``evaluate`` knows the same data by another name and notices a changed one
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__, data, reports, training
from ..models import ClassifierConfig, SequenceClassifier

SCALINGS = ("standard", "minmax", "none")
EVAL_BATCH_SIZE = 256


@dataclass(frozen=True)
class DataConfig:
    """Where the sequences come from and how they are prepared."""

    source: str  # a bundled data set name or a path (see ``rnnkit.data.load``)
    scaling: str = "standard"  # per-feature "standard" (zero mean, unit variance), "minmax" ([0, 1]) or "none"
    test_fraction: float = 0.3  # held out for testing when the source has no test split
    validation_fraction: float = 0.1  # of the training split, watched by early stopping; 0 for none
    seed: int = 0  # for the splits

    def __post_init__(self) -> None:
        if self.scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}, got {self.scaling!r}")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction}")


@dataclass
class PreparedData:
    train: data.SequenceDataset  # what the weights are fitted on
    validation: data.SequenceDataset | None  # early stopping watches this
    test: data.SequenceDataset
    scaler: data.Scaler | None
    test_ids: list[str] | None = None  # sample_ids of the test split before scaling


TEST_SAMPLES = "test_samples.json"


def sample_ids(dataset: data.SequenceDataset) -> list[str]:
    """An id of each sample from its content (class name and values): the same sample gets the same id
    however the folder is named or ordered, a changed one another."""
    ids = []
    for sequence, label in zip(dataset.sequences, dataset.labels):
        digest = hashlib.sha1(dataset.class_names[int(label)].encode("utf-8"))
        digest.update(np.ascontiguousarray(sequence, dtype=np.float32).tobytes())
        ids.append(digest.hexdigest()[:16])
    return ids


def source_identity(source: str) -> str:
    """A path source resolved (symlinks, relative parts and trailing slashes gone); a bundled name as given."""
    path = Path(source)
    return str(path.resolve()) if path.exists() else source


def same_source(given: str, trained: str, recorded: str | None = None) -> bool:
    """Whether ``given`` names the training source ``trained`` (as typed then; ``recorded``: its resolved path
    then), by identity of the file or folder rather than by the spelling of the path."""
    given_path = Path(given)
    if not given_path.exists():  # a bundled name
        return not Path(trained).exists() and given == trained
    return any(candidate and Path(candidate).exists() and os.path.samefile(given_path, candidate)
               for candidate in (recorded, trained))


@dataclass
class RunResult:
    directory: Path
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    model: SequenceClassifier
    config: ClassifierConfig


def prepare_data(config: DataConfig, scaler: data.Scaler | None = None) -> PreparedData:
    """Load and split, then scale with statistics of the fitting split only (not validation, not test)."""
    splits = data.load(config.source, test_fraction=config.test_fraction, seed=config.seed)
    if splits.test is None:  # cannot happen with a test_fraction; kept as a guard for new readers
        raise data.DataError(f"{config.source}: no test split")
    train, test, validation = splits.train, splits.test, None
    if config.validation_fraction > 0:
        train, validation = data.train_validation_split(train, config.validation_fraction, seed=config.seed)
    if config.scaling != "none" and scaler is None:
        scaler = data.Scaler(config.scaling).fit(train)
    if scaler is not None:
        train, test = scaler.transform(train), scaler.transform(test)
        validation = None if validation is None else scaler.transform(validation)
    return PreparedData(train, validation, test, scaler, sample_ids(splits.test))


def train_run(data_config: DataConfig, model_settings: dict[str, Any], train_config: training.TrainConfig,
              directory: str | Path, *, prepared: PreparedData | None = None, progress: bool = True,
              title: str | None = None, checkpoint: training.Checkpointing | None = None) -> RunResult:
    """Train one classifier and write the run directory; return its metrics and model (``checkpoint``:
    save the training state as it goes, or resume from it)."""
    directory = Path(directory)  # made by save_checkpoint once there is something to save
    prepared = prepared or prepare_data(data_config)
    train, validation, test = prepared.train, prepared.validation, prepared.test
    model_config = ClassifierConfig(input_size=train.num_features, num_classes=train.num_classes, **model_settings)

    training.seed_everything(train_config.seed)  # the same seed gives the same initial weights
    model = SequenceClassifier(model_config)
    batch_size, seed = train_config.batch_size, train_config.seed
    start = time.perf_counter()
    result = training.fit(
        model,
        # (seed, epoch) -> its own stream: with seed + epoch, seed s would repeat seed s+1's orders one epoch later
        lambda epoch: data.batches(train, batch_size, shuffle=True, seed=np.random.default_rng([seed, epoch]),
                                   bucket=True),
        train_config,
        val_batches=None if validation is None else list(data.batches(validation, EVAL_BATCH_SIZE)),
        progress=progress,
        checkpoint=checkpoint,
    )
    train_eval = training.evaluate(model, data.batches(train, EVAL_BATCH_SIZE))
    test_eval = training.evaluate(model, data.batches(test, EVAL_BATCH_SIZE))
    seconds = time.perf_counter() - start

    confusion = reports.confusion_matrix(test_eval.y_true, test_eval.y_pred, test.num_classes)
    metrics = {
        "task": "classify",
        "dataset": train.name,
        "cell": model_config.cell,
        "architecture": model_config.architecture,
        "parameters": model.num_parameters(),
        "train_accuracy": train_eval.accuracy,
        "test_accuracy": test_eval.accuracy,
        "train_loss": train_eval.loss,
        "test_loss": test_eval.loss,
        "epochs": len(result.history),
        "best_epoch": result.best_epoch,
        # the epoch whose weights the model holds: the best one when restored, else the last
        "kept_epoch": result.best_epoch if train_config.restores_best else len(result.history),
        "monitor": result.monitor,
        "stopped_early": result.stopped_early,
        "seconds": seconds,
        "samples": {"train": len(train), "validation": 0 if validation is None else len(validation),
                    "test": len(test)},
        "class_names": list(train.class_names),
        "confusion_matrix": confusion.tolist(),
        "history": result.history,
    }
    run_config = {
        "task": "classify",
        "rnnkit_version": __version__,
        "data": dataclasses.asdict(data_config),
        "model": model_config.to_dict(),
        "training": train_config.to_dict(),
        "scaler": None if prepared.scaler is None else prepared.scaler.to_dict(),
        "class_names": list(train.class_names),
    }
    training.save_checkpoint(directory, model, run_config)
    training.write_json_atomic(directory / "metrics.json", metrics)
    test_ids = prepared.test_ids if prepared.test_ids is not None else sample_ids(test)
    training.write_json_atomic(directory / TEST_SAMPLES, {"source": source_identity(data_config.source),
                                                          "ids": test_ids})
    write_run_files(directory, metrics, run_config, title or f"{model_config.cell.upper()} {model_config.architecture} "
                    f"on {train.name}")
    return RunResult(directory, metrics, result.history, model, model_config)


def write_run_files(directory: Path, metrics: dict[str, Any], run_config: dict[str, Any], title: str) -> None:
    """curves.png, confusion.png and report.html of a run."""
    confusion = np.asarray(metrics["confusion_matrix"])
    curves = reports.plot_curves(metrics["history"], directory / "curves.png", title=title, monitor=metrics["monitor"])
    matrix = reports.plot_confusion(confusion, metrics["class_names"], directory / "confusion.png",
                                    title=f"Test confusion matrix: {title}")
    reports.write_run_report(
        directory / "report.html", title,
        metrics=metrics, config=run_config, history=metrics["history"], confusion=confusion,
        class_names=metrics["class_names"], monitor=metrics["monitor"],
        figures=[reports.Figure(curves, "Loss and accuracy per epoch (training and validation)."),
                 reports.Figure(matrix, "Test set: rows are the true class, columns the prediction.")],
        subtitle=f"rnnkit {__version__} · {metrics['samples']['train']} training, "
                 f"{metrics['samples']['test']} test sequences",
    )


@dataclass
class SavedModel:
    model: SequenceClassifier
    data: DataConfig  # how the training data was prepared (source, scaling, split seed)
    scaler: data.Scaler | None
    class_names: list[str]
    source_path: str | None = None  # the training source resolved at training time (test_samples.json)
    test_ids: list[str] | None = None  # of the test split then; None for runs from before they were stored


def run_task(directory: str | Path) -> str:
    """The task of a run directory ("classify", "lm", ...); runs from before tasks existed are classifiers."""
    task = training.read_checkpoint(directory)["config"].get("task", "classify")
    if not isinstance(task, str):
        raise training.CheckpointError(f"{Path(directory) / 'config.json'}: \"task\" must be a string, got {task!r}")
    return task


def run_settings(directory: str | Path, task: str) -> tuple[dict[str, Any], Path]:
    """The settings in a run directory's config.json, and its path; a run of another task is refused.

    Every task's loader starts here, so a classifier given to ``generate`` or a language model
    given to ``predict`` get the same message naming both tasks.
    """
    config = training.read_checkpoint(directory)["config"]
    found = config.get("task", "classify")  # runs from before tasks existed are classifiers
    if found != task:
        hint = "; sample from it with 'rnnkit generate'" if found == "lm" else \
            f" (train one with 'rnnkit train --task {task}')"
        raise training.CheckpointError(f"{directory} holds {describe_task(found)}, not {describe_task(task)}{hint}")
    return config, Path(directory) / "config.json"


def bad_settings(where: Path, task: str, err: Exception) -> training.CheckpointError:
    """The error for a config.json whose settings do not make a model of ``task``."""
    return training.CheckpointError(f"{where}: not the settings of {describe_task(task)} "
                                    f"({type(err).__name__}: {err})")


def restore(directory: str | Path, model: torch.nn.Module) -> torch.nn.Module:
    """``model`` with the run's weights, in eval mode."""
    training.load_weights(Path(directory), model)
    return model.eval()


def describe_task(task: str) -> str:
    """'a language model (--task lm)' and the like, for messages."""
    names = {"classify": "a sequence classifier", "lm": "a language model", "ctc": "a CTC model",
             "tag": "a frame tagger", "seq2seq": "a grapheme-to-phoneme (seq2seq) model"}
    return f"{names.get(task, 'a model')} (--task {task})"


def load_run(directory: str | Path) -> SavedModel:
    """Rebuild the model of a run directory from its config.json and model.safetensors."""
    config, where = run_settings(directory, "classify")
    try:
        model_config = ClassifierConfig.from_dict(config["model"])
        data_config = DataConfig(**config["data"])
        class_names = [str(name) for name in config["class_names"]]
        scaler = None if config.get("scaler") is None else data.Scaler.from_dict(config["scaler"])
    except (KeyError, TypeError, ValueError) as err:
        raise bad_settings(where, "classify", err) from None
    if len(class_names) != model_config.num_classes:
        raise training.CheckpointError(f"{where}: {len(class_names)} class names for a model of "
                                       f"{model_config.num_classes} classes")
    source_path, test_ids = _test_samples(Path(directory) / TEST_SAMPLES)
    return SavedModel(restore(directory, SequenceClassifier(model_config)), data_config, scaler, class_names,
                      source_path, test_ids)


def _test_samples(path: Path) -> tuple[str | None, list[str] | None]:
    """The recorded source path and test sample ids of a run; (None, None) for a run without the file."""
    if not path.exists():
        return None, None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        source, ids = stored["source"], stored["ids"]
        if not isinstance(source, str) or not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise TypeError("\"source\" must be a string and \"ids\" a list of strings")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise training.CheckpointError(f"{path}: not a list of test samples ({type(err).__name__}: {err})") from None
    return source, ids


@torch.no_grad()
def predict_proba(model: SequenceClassifier, sequences: list[np.ndarray]) -> np.ndarray:
    """Class probabilities (N, C) for already-scaled sequences, in the order given."""
    model.eval()
    out = []
    for start in range(0, len(sequences), EVAL_BATCH_SIZE):
        batch = data.collate(sequences[start:start + EVAL_BATCH_SIZE])
        out.append(torch.softmax(model(batch.x, batch.lengths), dim=1).numpy())
    return np.concatenate(out)
