"""One CTC training run, end to end (``rnnkit train --task ctc``); the data half serves ``--task tag`` too.

Data: ``fsdd-strings`` (connected digit strings joined from the FSDD clips, see
``rnnkit.data.load_fsdd_strings``) or a PATH of the user's own label-sequence data, read by
``rnnkit.data.read_label_sequences`` (documented in ``docs/ctc_data.md``):

- an ``.npz`` with ``X`` (frames joined, float), ``lengths`` (frames per sample), ``labels`` (all
  label ids joined, int), ``label_lengths`` (labels per sample), optional ``class_names`` and
  optional ``frame_labels`` (one per frame, joined; needed by the tagger); never unpickled;
- a folder with ``train/`` (and optionally ``test/``) of sample files (rows of numbers), each with a
  sibling ``NAME.labels`` (space-separated label names) and, for the tagger, ``NAME.frames`` (one
  label name per frame).

A source without a test part gives up ``test_fraction`` of its samples (seeded) as the test set.
Features are standardised by a Scaler fitted on the training frames only (for fsdd-strings on the
training clips, which is the same thing per frame), saved in ``config.json``. A validation part
is watched every epoch (loss, string accuracy, label error rate): for fsdd-strings new strings
joined from training clips (their recordings are heard in training, so it shows progress rather
than generalisation), for the user's data samples held out of training.

The run directory holds ``config.json``, ``metrics.json`` (``test_label_error_rate``,
``test_string_accuracy`` greedy, the same with ``_beam`` for prefix beam search, baselines and
per-epoch history), ``model.safetensors``, ``curves.png``, ``posteriors.png`` and ``report.html``.
"""
from __future__ import annotations

import dataclasses
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__, data, reports, training
from ..data._digit_strings import FSDD_STRINGS_TEST, FSDD_STRINGS_TRAIN
from ..models import CTCConfig, CTCModel, CTCObjective, ctc_metrics, error_rate, min_frames, transcribe
from ._study import bad_settings, restore, run_settings

TASK = "ctc"
BEAM = 8  # prefix beam width of the test_*_beam figures
POSTERIOR_EXAMPLES = 3  # test utterances drawn in posteriors.png
TABLE_EXAMPLES = 20  # rows of the predicted-vs-true table (wrong ones first)

# Defaults of `rnnkit train --task ctc` on fsdd-strings (13 MFCCs per frame, ~72 frames a string).
# The model is FrameConfig's: a 2 x 128 bidirectional LSTM, dropout 0.2 (a digit's identity
# shows at its end as much as at its start, hence both directions). Training, by principle:
# - a cosine schedule from 3e-3 to 0 over all epochs: the last epochs at a small lr settle the
#   CTC spikes, which a constant lr leaves jittering;
# - SpecAugment-style time masking (one span of up to 8 frames, under half the shortest digit,
#   per string): the model must read a digit from what is left of it, not one frame pattern;
# - bucketed batches of 32 (strings of similar length together: little padding, so less time
#   spent on zeros, and more epochs in the same wall-clock time);
# - 20 epochs: one epoch of 6,000 strings took 28 s on one thread of a shared 2-core machine, so
#   ~9.5 minutes; a one-thread trial read the test strings at 5.0 % LER after epoch 1 and 2.5 %
#   after epoch 2 of a 10-epoch schedule (the annealed last epochs are where the last errors go).
DEFAULT_MODEL: dict[str, Any] = {"cell": "lstm", "hidden": (128, 128), "dropout": 0.2, "bidirectional": True}
DEFAULT_TRAIN = training.TrainConfig(epochs=20, batch_size=32, lr=3e-3, lr_schedule="cosine", time_mask=8)


@dataclass(frozen=True)
class CTCDataConfig:
    """Where the label sequences come from and how they are split and scaled (``--task ctc`` and ``tag``)."""

    source: str = "fsdd-strings"  # "fsdd-strings" or a path: an .npz or a folder with train/ (see docs/ctc_data.md)
    seed: int = 0  # draws the fsdd-strings, the validation part and any test split
    train_count: int = FSDD_STRINGS_TRAIN  # fsdd-strings: training strings (from training clips only)
    test_count: int = FSDD_STRINGS_TEST  # fsdd-strings: test strings (from test clips only)
    validation_count: int = 300  # watched every epoch; own data: at most a tenth of the training samples
    test_fraction: float = 0.15  # own data without a test part: samples held out for the test figures
    scale: str = "standard"  # Scaler kind fitted on the training frames ("standard" or "minmax")

    def __post_init__(self) -> None:
        if min(self.train_count, self.test_count, self.validation_count) < 1:
            raise ValueError("train_count, test_count and validation_count must be at least 1")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")

    @property
    def is_fsdd_strings(self) -> bool:
        return not Path(self.source).exists() and data.is_bundled(self.source) and \
            data.canonical_name(self.source) == "fsdd-strings"


@dataclass
class StringData:
    """Scaled training, validation and test label sequences, and the scaler that made them."""

    name: str
    train: data.LabelledStrings
    validation: data.LabelledStrings
    test: data.LabelledStrings
    scaler: data.Scaler

    @property
    def class_names(self) -> list[str]:
        return list(self.train.class_names)


def load_string_data(config: CTCDataConfig, task: str = TASK) -> StringData:
    """Read, split and scale ``config.source`` (for ``task`` "ctc" or "tag", whose needs it checks)."""
    rng = np.random.default_rng(config.seed)
    if config.is_fsdd_strings:
        clips = data.load_dataset("fsdd-digits")
        train, test = data.load_fsdd_strings(config.seed, config.train_count, config.test_count, clips=clips)
        validation = data.make_digit_strings(clips.train, config.validation_count, seed=config.seed + 2,
                                             name="fsdd-strings")
        scaler = data.Scaler(config.scale).fit(clips.train)
        name = "fsdd-strings"
    elif Path(config.source).exists():
        train, test = data.read_label_sequences(config.source)
        if test is None:
            order = rng.permutation(len(train))
            held = max(1, round(config.test_fraction * len(train)))
            train, test = train.subset(np.sort(order[held:])), train.subset(np.sort(order[:held]))
        order = rng.permutation(len(train))
        held = max(1, min(config.validation_count, len(train) // 10))
        train, validation = train.subset(np.sort(order[held:])), train.subset(np.sort(order[:held]))
        if len(train) < 2:
            raise data.DataError(f"{config.source}: too few samples to train on after holding out test and "
                                 "validation samples")
        scaler = data.Scaler(config.scale).fit(train)  # reads only .sequences: the training frames
        name = train.name
    elif data.is_bundled(config.source):
        raise data.DataError(f"{config.source!r} is a {data.dataset_kind(config.source)} data set; CTC and "
                             "tagging train on label sequences: fsdd-strings or your own (docs/ctc_data.md)")
    else:
        raise data.DataError(f"{config.source}: no such file or folder, and not fsdd-strings")
    parts = [scale_strings(part, scaler) for part in (train, validation, test)]
    for part in parts:
        check_strings(part, task)
    return StringData(name, *parts, scaler)


def scale_strings(strings: data.LabelledStrings, scaler: data.Scaler) -> data.LabelledStrings:
    """``strings`` with every frame scaled by ``scaler``."""
    frames = scaler.transform_array(np.concatenate(strings.sequences))  # (N_frames, F)
    return strings.with_sequences(np.split(frames, np.cumsum(strings.lengths)[:-1]))


def check_strings(strings: data.LabelledStrings, task: str) -> None:
    """A DataError naming the first sample CTC cannot spell (too few frames) or the tagger cannot train on."""
    if task == "tag" and not data.has_frame_labels(strings):
        raise data.DataError(f"{strings.source or strings.name}: --task tag needs a label for every frame "
                             "(frame_labels in an .npz, NAME.frames files in a folder)")
    for i, (x, labels) in enumerate(zip(strings.sequences, strings.labels)):
        if task == "ctc" and min_frames(labels.tolist()) > len(x):
            raise data.DataError(f"{strings.source or strings.name}: sample {i} has {len(x)} frames, too few "
                                 f"for its {len(labels)} labels (CTC needs {min_frames(labels.tolist())})")


def string_batch(strings: data.LabelledStrings, index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x (B, T, F), lengths (B,), y (B, L))`` of the strings at ``index``, y padded with IGNORE_INDEX."""
    x, lengths, _ = data.collate([strings.sequences[i] for i in index])
    longest = max(len(strings.labels[i]) for i in index)
    y = torch.full((len(index), longest), data.IGNORE_INDEX, dtype=torch.int64)  # (B, L)
    for row, i in enumerate(index):
        y[row, :len(strings.labels[i])] = torch.as_tensor(strings.labels[i])
    return x, lengths, y


def batch_source(strings: data.LabelledStrings, batch_size: int, seed: int, make=string_batch):
    """``epoch -> batches``: a new bucketed order every epoch (similar lengths together, batches shuffled)."""
    def batches(epoch: int):
        rng = np.random.default_rng([seed, epoch])
        return [make(strings, index) for index in
                data.batch_indices(strings.lengths, batch_size, shuffle=True, seed=rng, bucket=True)]
    return batches


def fixed_batches(strings: data.LabelledStrings, batch_size: int, make=string_batch) -> list:
    return [make(strings, index) for index in data.batch_indices(strings.lengths, batch_size, bucket=True)]


def majority_baseline(train: data.LabelledStrings, test: data.LabelledStrings) -> float:
    """LER of the best guess that ignores the input: the most frequent training label, repeated the
    number of times (0 to the longest training string) that scores best. Near 1.0: a model must beat it."""
    label = Counter(int(k) for y in train.labels for k in y).most_common(1)[0][0]
    references = [y.tolist() for y in test.labels]
    longest = max(len(y) for y in train.labels)
    return min(float(error_rate(references, [[label] * n] * len(test))) for n in range(longest + 1))


def label_string(labels: list[int] | np.ndarray, class_names: list[str]) -> str:
    return " ".join(class_names[int(k)] for k in labels)


@dataclass
class CTCRunResult:
    directory: Path
    metrics: dict[str, Any]
    model: CTCModel
    data: StringData


def train_ctc_run(data_config: CTCDataConfig, model_settings: dict[str, Any], train_config: training.TrainConfig,
                  directory: str | Path, *, strings: StringData | None = None, progress: bool = True,
                  checkpoint: training.Checkpointing | None = None) -> CTCRunResult:
    """Train one CTC model and write its run directory (``strings``: data already loaded; ``checkpoint``:
    save the training state as it goes, or resume from it)."""
    directory = Path(directory)
    strings = strings or load_string_data(data_config, TASK)
    model_config = CTCConfig(input_size=strings.train.num_features, num_classes=len(strings.class_names),
                             **model_settings)
    training.seed_everything(train_config.seed)
    model = CTCModel(model_config)
    references = [y.tolist() for y in strings.validation.labels]

    def validation_ler(epoch: int, model: CTCModel) -> dict[str, float]:  # into the epoch's history row
        scores = ctc_metrics(references, transcribe(model, strings.validation.sequences))
        return {"val_label_error_rate": scores["label_error_rate"]}

    start = time.perf_counter()
    result = training.fit(model, batch_source(strings.train, train_config.batch_size, train_config.seed),
                          train_config, val_batches=fixed_batches(strings.validation, 64), loss_fn=CTCObjective(),
                          progress=progress, epoch_callback=validation_ler, checkpoint=checkpoint)
    train_seconds = time.perf_counter() - start
    test_refs = [y.tolist() for y in strings.test.labels]
    tick = time.perf_counter()
    greedy = transcribe(model, strings.test.sequences)
    greedy_seconds, tick = time.perf_counter() - tick, time.perf_counter()
    beam = transcribe(model, strings.test.sequences, beam=BEAM)
    beam_seconds = time.perf_counter() - tick
    scores, beam_scores = ctc_metrics(test_refs, greedy), ctc_metrics(test_refs, beam)
    kept_epoch = result.best_epoch if train_config.restores_best else len(result.history)
    metrics: dict[str, Any] = {
        "task": TASK,
        "dataset": strings.name,
        "cell": model_config.cell,
        "parameters": model.num_parameters(),
        "test_label_error_rate": scores["label_error_rate"],
        "test_string_accuracy": scores["string_accuracy"],
        "test_label_error_rate_beam": beam_scores["label_error_rate"],
        "test_string_accuracy_beam": beam_scores["string_accuracy"],
        "beam": BEAM,
        "baseline_label_error_rate": majority_baseline(strings.train, strings.test),
        "train_loss": result.history[kept_epoch - 1]["train_loss"],
        "epochs": len(result.history),
        "best_epoch": result.best_epoch,
        "kept_epoch": kept_epoch,
        "monitor": result.monitor,
        "seconds": train_seconds,
        "greedy_decode_seconds": greedy_seconds,
        "beam_decode_seconds": beam_seconds,
        "strings": {"train": len(strings.train), "validation": len(strings.validation), "test": len(strings.test)},
        "history": result.history,
    }
    run_config = {"task": TASK, "rnnkit_version": __version__, "data": dataclasses.asdict(data_config),
                  "model": model_config.to_dict(), "training": train_config.to_dict(),
                  "class_names": strings.class_names, "scaler": strings.scaler.to_dict()}
    training.save_checkpoint(directory, model, run_config)
    training.write_json_atomic(directory / "metrics.json", metrics)
    write_ctc_report(directory, model, strings, metrics, run_config, greedy, beam)
    return CTCRunResult(directory, metrics, model, strings)


def example_indices(strings: data.LabelledStrings, count: int) -> list[int]:
    """The first ``count`` strings of 3 or more labels (else the first ``count``): spikes worth seeing."""
    long = [i for i, y in enumerate(strings.labels) if len(y) >= 3]
    return (long if len(long) >= count else list(range(len(strings))))[:count]


def example_rows(strings: data.LabelledStrings, columns: dict[str, list[list[int]]], count: int) -> list[dict]:
    """Predicted vs true label strings of ``count`` test samples, the wrong ones (first column) first."""
    names, first = strings.class_names, next(iter(columns.values()))
    rows = [{"sample": i, "true": label_string(y, names),
             **{key: label_string(hyp[i], names) for key, hyp in columns.items()},
             "right": "yes" if list(first[i]) == y.tolist() else "no"} for i, y in enumerate(strings.labels)]
    wrong = [r for r in rows if r["right"] == "no"]
    right = [r for r in rows if r["right"] == "yes"]
    return wrong[:count // 2] + right[:count - min(len(wrong), count // 2)]


def write_ctc_report(directory: Path, model: CTCModel, strings: StringData, metrics: dict[str, Any],
                     run_config: dict[str, Any], greedy: list[list[int]], beam: list[list[int]]) -> None:
    title = f"{model.config.cell.upper()} CTC on {strings.name}"
    curves = reports.plot_curves(metrics["history"], directory / "curves.png", title=f"{title} (loss in nats per "
                                 "string, accuracy = strings read exactly)", monitor=metrics["monitor"])
    chosen = example_indices(strings.test, POSTERIOR_EXAMPLES)
    x, lengths, _ = data.collate([strings.test.sequences[i] for i in chosen])
    model.eval()
    with torch.no_grad():
        probs = model(x, lengths).exp()  # (B, T, C + 1)
    posteriors = reports.plot_posteriors(
        [probs[b, :n].numpy() for b, n in enumerate(lengths.tolist())], directory / "posteriors.png",
        strings.class_names, blank=0,
        titles=[f"test {i}: true '{label_string(strings.test.labels[i], strings.class_names)}', read "
                f"'{label_string(greedy[i], strings.class_names)}'" for i in chosen])
    ler_line = "  ".join(f"{row['epoch']}: {100 * row['val_label_error_rate']:.2f}%" for row in metrics["history"])
    extra = [
        reports.Section("Label error rate per epoch", [
            "Validation label error rate (greedy best-path decoding) after each epoch, in per cent:",
            reports.Preformatted(ler_line)]),
        reports.Section("Predicted and true strings", [reports.Table(
            example_rows(strings.test, {"greedy": greedy, f"beam {BEAM}": beam}, TABLE_EXAMPLES),
            caption="Test strings, read by best path (greedy) and prefix beam search; wrong ones first.")]),
    ]
    figures = [reports.Figure(curves, "CTC loss (nats per string) and string accuracy per epoch."),
               reports.Figure(posteriors, "Per-frame output probabilities over time for three test strings: "
                                          "each label fires in a narrow spike, the blank (grey) fills the rest.")]
    reports.write_run_report(
        directory / "report.html", title, metrics=metrics, config=run_config, history=metrics["history"],
        figures=figures, monitor=metrics["monitor"], extra_sections=extra,
        subtitle=f"rnnkit {__version__} · {metrics['strings']['train']:,} training, {metrics['strings']['test']:,} "
                 f"test strings · test LER {100 * metrics['test_label_error_rate']:.2f} % (greedy), "
                 f"{100 * metrics['test_label_error_rate_beam']:.2f} % (beam {BEAM}) · constant-guess baseline "
                 f"{100 * metrics['baseline_label_error_rate']:.1f} %")


@dataclass
class SavedStrings:
    """A trained CTC model or tagger with what predicting and evaluating need."""

    task: str
    model: torch.nn.Module
    data: CTCDataConfig
    scaler: data.Scaler
    class_names: list[str]
    settings: dict[str, Any]  # the rest of config.json (the tagger's min_run)


def read_string_run(directory: str | Path, task: str, model_class, config_class) -> SavedStrings:
    """Rebuild the model of a ``task`` run directory (a clear error for a run of another task)."""
    config, where = run_settings(directory, task)
    try:
        model_config = config_class.from_dict(config["model"])
        data_config = CTCDataConfig(**config["data"])
        scaler = data.Scaler.from_dict(config["scaler"])
        class_names = [str(n) for n in config["class_names"]]
    except (KeyError, TypeError, ValueError) as err:
        raise bad_settings(where, task, err) from None
    if len(class_names) != model_config.num_classes:
        raise training.CheckpointError(f"{where}: {len(class_names)} class names for a model of "
                                       f"{model_config.num_classes} classes")
    return SavedStrings(task, restore(directory, model_class(model_config)), data_config, scaler, class_names, config)


def load_ctc_run(directory: str | Path) -> SavedStrings:
    """The CTC model of a run directory, its scaler and class names."""
    return read_string_run(directory, TASK, CTCModel, CTCConfig)


def evaluation_strings(saved: SavedStrings, source: str | Path) -> data.LabelledStrings:
    """The scaled test strings of ``source`` in the saved model's classes: the fsdd-strings test set, the
    test/ part of a folder, or every sample of an .npz or of a folder without test/."""
    source = str(source)
    config = dataclasses.replace(saved.data, source=source)
    if config.is_fsdd_strings:
        strings = data.load_fsdd_strings(config.seed, 1, config.test_count)[1]
    else:
        train, test = data.read_label_sequences(source)
        strings = test if test is not None else train
    index = {name: i for i, name in enumerate(saved.class_names)}
    unknown = sorted(set(strings.class_names) - set(index))
    if unknown:
        raise data.DataError(f"{source}: label(s) {', '.join(unknown[:5])} are not classes of the model "
                             f"({', '.join(saved.class_names)})")
    remap = np.array([index[n] for n in strings.class_names], dtype=np.int64)
    strings = data.LabelledStrings(
        strings.sequences, [remap[y] for y in strings.labels],
        [np.where(f >= 0, remap[np.maximum(f, 0)], f) for f in strings.frame_labels], strings.clip_ids,
        list(saved.class_names), strings.name, strings.source)
    if strings.num_features != len(saved.scaler.offset):
        raise data.DataError(f"{source}: {strings.num_features} features per frame; the model reads "
                             f"{len(saved.scaler.offset)}")
    scaled = scale_strings(strings, saved.scaler)
    check_strings(scaled, saved.task)
    return scaled


def predict_strings(saved: SavedStrings, sequences: list[np.ndarray], beam: int = 1) -> list[str]:
    """The label strings (class names, space-separated) a CTC run or a tagger reads in raw ``sequences``."""
    scaled = [saved.scaler.transform_array(np.asarray(x, dtype=np.float32)) for x in sequences]
    if saved.task == "tag":
        from ._tag import tag_labels
        return [label_string(labels, saved.class_names) for labels in tag_labels(saved, scaled)]
    return [label_string(labels, saved.class_names) for labels in transcribe(saved.model, scaled, beam=beam)]


def evaluate_run(saved: SavedStrings, source: str | Path) -> dict[str, Any]:
    """Test metrics of a saved CTC run (or tagger) on ``source``, named as in its metrics.json."""
    if saved.task == "tag":
        from ._tag import evaluate_tagger
        return evaluate_tagger(saved, source)
    strings = evaluation_strings(saved, source)
    references = [y.tolist() for y in strings.labels]
    scores = ctc_metrics(references, transcribe(saved.model, strings.sequences))
    beam = ctc_metrics(references, transcribe(saved.model, strings.sequences, beam=BEAM))
    return {"task": TASK, "strings": len(strings), "test_label_error_rate": scores["label_error_rate"],
            "test_string_accuracy": scores["string_accuracy"], "test_label_error_rate_beam": beam["label_error_rate"],
            "test_string_accuracy_beam": beam["string_accuracy"]}
