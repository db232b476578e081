"""One frame-tagging run, end to end (``rnnkit train --task tag``): a class for every frame.

Same data as ``--task ctc`` (``_ctc.CTCDataConfig``: fsdd-strings or the user's label sequences with
a label per frame). Trained by cross-entropy over valid frames (``rnnkit.training.fit``'s default).
Scores: ``test_frame_accuracy`` and ``test_segment_error_rate``, the label error rate of the runs of
equal predicted classes after smoothing: a run shorter than ``MIN_RUN`` frames is flicker, dropped,
and equal runs either side of it join (``models.frames_to_segments(min_run)``). The segment error
rate of perfect frame labels (``segment_error_floor``, merged equal neighbours) and the majority
frame label's accuracy are measured in the same run as baselines.
"""
from __future__ import annotations

import dataclasses
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__, data, reports, training
from ..models import SequenceTagger, TaggerConfig, collate_tagged, frames_to_segments, segment_error_floor, tag, \
    tagger_metrics
from ._ctc import (POSTERIOR_EXAMPLES, TABLE_EXAMPLES, CTCDataConfig, SavedStrings, StringData, batch_source,
                   evaluation_strings, example_indices, example_rows, fixed_batches, load_string_data,
                   read_string_run)

TASK = "tag"
# The shortest fsdd clip has 6 frames; a run of 1-2 frames is the flicker of a half-sure tagger at a
# digit's edge, never a digit, and each such run would count as an inserted label. 3 drops those
# and keeps every real digit. Saved with the run, so predict and evaluate smooth the same way.
MIN_RUN = 3
DEFAULT_TRAIN = training.TrainConfig(epochs=20, batch_size=32, lr=3e-3, lr_schedule="cosine", time_mask=8)


def tagged_batch(strings: data.LabelledStrings, index: np.ndarray):
    return tuple(collate_tagged([strings.sequences[i] for i in index], [strings.frame_labels[i] for i in index]))


def majority_frame_accuracy(train: data.LabelledStrings, test: data.LabelledStrings) -> float:
    """Accuracy of labelling every test frame with the most frequent training frame label."""
    label = Counter(np.concatenate(train.frame_labels).tolist()).most_common(1)[0][0]
    frames = np.concatenate(test.frame_labels)
    return float(np.mean(frames == label))


def segments(frame_labels: list[np.ndarray], min_run: int) -> list[list[int]]:
    return [[s.label for s in frames_to_segments(f, min_run)] for f in frame_labels]


@dataclasses.dataclass
class TagRunResult:
    directory: Path
    metrics: dict[str, Any]
    model: SequenceTagger
    data: StringData


def train_tag_run(data_config: CTCDataConfig, model_settings: dict[str, Any], train_config: training.TrainConfig,
                  directory: str | Path, *, strings: StringData | None = None, min_run: int = MIN_RUN,
                  progress: bool = True, checkpoint: training.Checkpointing | None = None) -> TagRunResult:
    """Train one frame tagger and write its run directory (``strings``: data already loaded; ``checkpoint``:
    save the training state as it goes, or resume from it)."""
    directory = Path(directory)
    strings = strings or load_string_data(data_config, TASK)
    model_config = TaggerConfig(input_size=strings.train.num_features, num_classes=len(strings.class_names),
                                **model_settings)
    training.seed_everything(train_config.seed)
    model = SequenceTagger(model_config)
    validation = strings.validation

    def validation_ser(epoch: int, model: SequenceTagger) -> dict[str, float]:  # into the epoch's history row
        return {"val_segment_error_rate": tagger_metrics(validation.labels, validation.frame_labels,
                                                         tag(model, validation.sequences), min_run)["segment_error_rate"]}

    start = time.perf_counter()
    result = training.fit(model, batch_source(strings.train, train_config.batch_size, train_config.seed,
                                              tagged_batch),
                          train_config, val_batches=fixed_batches(validation, 64, tagged_batch), progress=progress,
                          epoch_callback=validation_ser, checkpoint=checkpoint)
    train_seconds = time.perf_counter() - start
    test = strings.test
    tick = time.perf_counter()
    predicted = tag(model, test.sequences)
    tag_seconds = time.perf_counter() - tick
    scores = tagger_metrics(test.labels, test.frame_labels, predicted, min_run)
    raw = tagger_metrics(test.labels, test.frame_labels, predicted, 1)
    kept_epoch = result.best_epoch if train_config.restores_best else len(result.history)
    metrics: dict[str, Any] = {
        "task": TASK, "dataset": strings.name, "cell": model_config.cell, "parameters": model.num_parameters(),
        "test_frame_accuracy": scores["frame_accuracy"],
        "test_segment_error_rate": scores["segment_error_rate"],
        "test_segment_error_rate_unsmoothed": raw["segment_error_rate"],
        "min_run": min_run,
        "baseline_majority_frame_accuracy": majority_frame_accuracy(strings.train, test),
        "segment_error_floor": segment_error_floor(test.labels, test.frame_labels),
        "train_loss": result.history[kept_epoch - 1]["train_loss"],
        "epochs": len(result.history), "best_epoch": result.best_epoch, "kept_epoch": kept_epoch,
        "monitor": result.monitor, "seconds": train_seconds, "tag_seconds": tag_seconds,
        "strings": {"train": len(strings.train), "validation": len(validation), "test": len(test)},
        "history": result.history,
    }
    run_config = {"task": TASK, "rnnkit_version": __version__, "data": dataclasses.asdict(data_config),
                  "model": model_config.to_dict(), "training": train_config.to_dict(), "min_run": min_run,
                  "class_names": strings.class_names, "scaler": strings.scaler.to_dict()}
    training.save_checkpoint(directory, model, run_config)
    training.write_json_atomic(directory / "metrics.json", metrics)
    write_tag_report(directory, model, strings, metrics, run_config, predicted)
    return TagRunResult(directory, metrics, model, strings)


def write_tag_report(directory: Path, model: SequenceTagger, strings: StringData, metrics: dict[str, Any],
                     run_config: dict[str, Any], predicted: list[np.ndarray]) -> None:
    title = f"{model.config.cell.upper()} frame tagger on {strings.name}"
    curves = reports.plot_curves(metrics["history"], directory / "curves.png",
                                 title=f"{title} (cross-entropy per frame, frame accuracy)", monitor=metrics["monitor"])
    chosen = example_indices(strings.test, POSTERIOR_EXAMPLES)
    x, lengths, _ = data.collate([strings.test.sequences[i] for i in chosen])
    model.eval()
    with torch.no_grad():
        probs = model(x, lengths).softmax(-1)  # (B, T, C)
    posteriors = reports.plot_posteriors([probs[b, :n].numpy() for b, n in enumerate(lengths.tolist())],
                                         directory / "posteriors.png", strings.class_names,
                                         titles=[f"test {i}" for i in chosen])
    read = segments(predicted, metrics["min_run"])
    line = "  ".join(f"{row['epoch']}: {100 * row['val_segment_error_rate']:.2f}%" for row in metrics["history"])
    extra = [reports.Section("Segment error rate per epoch", [
                 f"Validation segment error rate (runs of at least {metrics['min_run']} frames) after each epoch, "
                 "in per cent:", reports.Preformatted(line)]),
             reports.Section("Predicted and true strings", [reports.Table(
                 example_rows(strings.test, {"segments": read}, TABLE_EXAMPLES),
                 caption="Test strings read from the runs of predicted frame labels; wrong ones first.")])]
    figures = [reports.Figure(curves, "Loss and frame accuracy per epoch."),
               reports.Figure(posteriors, "Per-frame class probabilities over time for three test strings.")]
    reports.write_run_report(
        directory / "report.html", title, metrics=metrics, config=run_config, history=metrics["history"],
        figures=figures, monitor=metrics["monitor"], extra_sections=extra,
        subtitle=f"rnnkit {__version__} · test frame accuracy {100 * metrics['test_frame_accuracy']:.2f} % "
                 f"(majority label {100 * metrics['baseline_majority_frame_accuracy']:.1f} %) · segment error "
                 f"rate {100 * metrics['test_segment_error_rate']:.2f} % (floor "
                 f"{100 * metrics['segment_error_floor']:.2f} %)")


def load_tag_run(directory: str | Path) -> SavedStrings:
    """The tagger of a run directory, its scaler, class names and min_run (in ``settings``)."""
    return read_string_run(directory, TASK, SequenceTagger, TaggerConfig)


def tag_labels(saved: SavedStrings, scaled: list[np.ndarray]) -> list[list[int]]:
    """The labels of the smoothed runs a saved tagger reads in scaled sequences."""
    return segments(tag(saved.model, scaled), int(saved.settings.get("min_run", MIN_RUN)))


def evaluate_tagger(saved: SavedStrings, source: str | Path) -> dict[str, Any]:
    strings = evaluation_strings(saved, source)
    scores = tagger_metrics(strings.labels, strings.frame_labels, tag(saved.model, strings.sequences),
                            int(saved.settings.get("min_run", MIN_RUN)))
    return {"task": TASK, "strings": len(strings), "test_frame_accuracy": scores["frame_accuracy"],
            "test_segment_error_rate": scores["segment_error_rate"]}
