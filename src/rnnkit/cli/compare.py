"""``rnnkit compare``: the course assignment's study as one command.

Train several RNN, LSTM and GRU architectures on each data set, each under the same settings,
then report train and test accuracy per architecture (results.csv and report.html), the
confusion matrix of the best architecture per data set, and the training loss of all of them
against the epoch. Every run keeps its own directory, ``DIR/runs/<dataset>/NN-<cell>-<shape>/``
(NN: its place in the grid), with ``seed-S/`` below it per seed under ``--seeds``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .. import reports
from ..data import DataError
from ..models import ClassifierConfig
from ..training import TrainConfig, TrainingError
from ._options import (add_data_arguments, add_training_arguments, data_config, positive_integer,
                       positive_or_auto, train_config, with_task_defaults)
from ._study import DataConfig, PreparedData, prepare_data, train_run
from ._tables import compact_table

DEFAULT_DATASETS = ["fsdd-digits", "lasa-handwriting"]
# The seed study's shapes: one layer, and the assignment's 64-32-32 with 0.2 dropout, per cell.
# Keras's initialisation (orthogonal recurrent weights, forget-gate bias 1): under torch's uniform
# one the three-layer stacks underfit the 135 training shapes of lasa-handwriting (train accuracy
# 0.67-0.87 after 134 epochs; with it 0.80-0.97), and the comparison would be of optimisation luck.
DEFAULT_GRID = [
    {"cell": cell, "hidden": hidden, "dropout": 0.2, "init": "keras"}
    for cell in ("rnn", "lstm", "gru") for hidden in ([64], [64, 32, 32])
]

DESCRIPTION = """Train and compare recurrent architectures on one or more data sets (the main job).

With no arguments: RNN vs LSTM vs GRU, each as one 64-unit layer and as 64-32-32, with 0.2 dropout
and Keras's initialisation, on both bundled classification sets (fsdd-digits, lasa-handwriting):
12 runs, about 3 minutes on 2 cores. A small test set ranks cells by chance: --seeds 5 tells.

DIR receives results.csv (dataset, cell, architecture, parameters, train and test accuracy,
epochs, seconds), loss_<dataset>.png (training loss of every architecture against the epoch),
confusion_<dataset>.png (the best run's test confusion matrix), report.html, and runs/ with
each run's own directory as 'rnnkit train' writes it."""

EPILOG = """grid file (JSON): a list of model settings, or an object with "architectures" (that list) and
optionally "training" (training settings, as in config.json), for example
  {"architectures": [{"cell": "lstm", "hidden": [64, 32, 32], "dropout": 0.2},
                     {"cell": "lstm", "hidden": [64], "peephole": true},
                     {"cell": "gru", "hidden": [64], "reset_after": false, "pooling": "attention"}],
   "training": {"epochs": 40, "lr": 0.001}}

examples:
  rnnkit compare
  rnnkit compare --data fsdd-digits --grid grid.json --out runs/study"""

MODEL_KEYS = {f.name for f in dataclasses.fields(ClassifierConfig)} - {"input_size", "num_classes"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", nargs="+", default=DEFAULT_DATASETS, metavar="PATH|NAME",
                        help=f"data sets to compare on (default: {' '.join(DEFAULT_DATASETS)})")
    parser.add_argument("--grid", metavar="FILE", help="JSON file of architectures to compare (see below); "
                                                       "default: rnn, lstm and gru as 64 and 64-32-32")
    parser.add_argument("--out", default="runs/compare", metavar="DIR", help="output directory (default: %(default)s)")
    parser.add_argument("--seeds", type=positive_integer, default=1, metavar="N",
                        help="train every architecture N times, with training seeds SEED .. SEED+N-1 (initial "
                             "weights, batch order, dropout; the data split stays that of --seed); the cells "
                             "side by side table gives mean and standard deviation, results.csv every run, "
                             "and the best architecture is the best on average (default: %(default)s)")
    parser.add_argument("--jobs", type=positive_or_auto, default="auto", metavar="N|auto",
                        help="runs trained at once, each in its own process with a share of the cores; 'auto': "
                             "one per core on the CPU, one on a GPU; 1 trains in this process with "
                             "torch's threads (default: %(default)s)")
    parser.add_argument("--threads", type=positive_or_auto, default="auto", metavar="N|auto",
                        help="torch threads of each run; 'auto': an equal share of the cores per job (with --jobs 1, "
                             "torch's own). Same seeds, data, settings and --threads give bitwise the same runs "
                             "whatever --jobs; another thread count may change the last bits of the sums "
                             "(default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_data_arguments(parser)
    add_training_arguments(parser)


def read_grid(path: str | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The architectures and training overrides of a grid file (or the defaults)."""
    if path is None:
        return DEFAULT_GRID, {}
    try:
        grid = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path} line {err.lineno}: not valid JSON ({err.msg})") from None
    overrides: dict[str, Any] = {}
    if isinstance(grid, dict):
        unknown = sorted(set(grid) - {"architectures", "training"})
        if unknown:
            raise DataError(f"{path}: unknown key(s) {unknown}; expected 'architectures' and optionally 'training'")
        grid, overrides = grid.get("architectures"), grid.get("training", {})
    if not isinstance(grid, list) or not grid or not all(isinstance(a, dict) for a in grid):
        raise DataError(f"{path}: expected a non-empty list of architectures (objects like "
                        '{"cell": "lstm", "hidden": [64, 32]})')
    labels = []
    for number, architecture in enumerate(grid, 1):
        unknown = sorted(set(architecture) - MODEL_KEYS)
        if unknown:
            raise DataError(f"{path}: architecture {number}: unknown setting(s) {unknown}; known: {sorted(MODEL_KEYS)}")
        if "cell" not in architecture:
            raise DataError(f"{path}: architecture {number}: 'cell' is missing")
        try:  # every setting checked now, before hours of training find a typo in the last entry
            labels.append(_label(architecture))
        except ValueError as err:
            raise DataError(f"{path}: architecture {number}: {err}") from None
        if architecture in grid[: number - 1]:
            raise DataError(f"{path}: architecture {number} repeats architecture {grid.index(architecture) + 1}")
    if not isinstance(overrides, dict):
        raise DataError(f"{path}: 'training' must be an object of training settings")
    return grid, overrides


@dataclass(frozen=True)
class Planned:
    """One run of the study: which data set, which architecture, where it writes."""

    dataset: str
    source: str
    number: int  # 1-based position in the grid
    label: str  # "LSTM 64-32-32 attention", made unique within the data set
    settings: dict[str, Any]
    config: TrainConfig  # its seed is this repeat's
    directory: Path
    repeat: int  # 0 .. seeds-1
    name: str  # for messages: the label, and the seed where there are several


@dataclass(frozen=True)
class Finished:
    """What the report needs of a run (its model stays in its directory)."""

    planned: Planned
    metrics: dict[str, Any]
    history: list[dict[str, Any]]


def run(args: argparse.Namespace) -> int:
    args = with_task_defaults(args, "classify")
    grid, overrides = read_grid(args.grid)
    _with_overrides(train_config(args), overrides)  # a typo in the grid's training settings fails now
    out = Path(args.out)
    console = Console(stderr=True)
    start = time.perf_counter()
    seeds = args.seeds
    prepared, plans, settings_per_dataset = {}, [], {}
    for source in args.data:
        prepared[source] = prepare_data(data_config(args, source))  # loaded and scaled once for every architecture
        dataset = prepared[source].train.name
        config = _with_overrides(train_config(args, len(prepared[source].train), source), overrides)
        settings_per_dataset[dataset] = config.to_dict()
        labels: set[str] = set()
        for number, settings in enumerate(grid, 1):
            label = _label(settings)
            if label in labels:  # same shape, other settings (dropout, init ...): keep both curves apart
                label = f"{label} (#{number})"
            labels.add(label)
            directory = out / "runs" / _slug(dataset) / f"{number:02d}-{_slug(_label(settings))}"
            for repeat in range(seeds):
                seeded = dataclasses.replace(config, seed=config.seed + repeat)
                several = seeds > 1
                plans.append(Planned(dataset, source, number, label, settings, seeded,
                                     directory / f"seed-{seeded.seed}" if several else directory, repeat,
                                     f"{label} (seed {seeded.seed})" if several else label))

    jobs = resolve_jobs(args.jobs, len(plans), plans[0].config.device)
    runs = _run_parallel if jobs > 1 else _run_here
    finished: list[Finished] = []
    for result in runs(plans, args, prepared, console, jobs):
        m = result.metrics
        console.print(f"[bold][{len(finished) + 1}/{len(plans)}][/] {result.planned.dataset}: "
                      f"{result.planned.name}\n"
                      f"      train {m['train_accuracy']:.4f}  test {m['test_accuracy']:.4f}  "
                      f"{m['epochs']} epochs  {m['seconds']:.1f} s")
        finished.append(result)
        finished.sort(key=lambda f: (args.data.index(f.planned.source), f.planned.number, f.planned.repeat))
        rows = [_row(f, out, seeds > 1) for f in finished]
        reports.write_results_csv(rows, out / "results.csv")  # after every run: an interruption keeps them

    figures: list[reports.Figure] = []
    for dataset in dict.fromkeys(f.planned.dataset for f in finished):
        of_dataset = [f for f in finished if f.planned.dataset == dataset]
        first_seed = [f for f in of_dataset if f.planned.repeat == 0]  # one curve per architecture stays readable
        histories = {f.planned.label: f.history for f in first_seed}
        seed_note = f" (seed {first_seed[0].planned.config.seed})" if seeds > 1 else ""
        loss_plot = reports.plot_loss_comparison(histories, out / f"loss_{_slug(dataset)}.png",
                                                 title=f"Training loss per epoch on {dataset}{seed_note}")
        best_label, best_runs = _best_architecture(of_dataset)
        # Over several seeds: every test prediction of the best architecture's runs, pooled.
        confusion = np.sum([f.metrics["confusion_matrix"] for f in best_runs], axis=0)
        accuracy = float(np.mean([f.metrics["test_accuracy"] for f in best_runs]))
        pooled = f", summed over {len(best_runs)} seeds" if len(best_runs) > 1 else ""
        confusion_plot = reports.plot_confusion(confusion, best_runs[0].metrics["class_names"],
                                                out / f"confusion_{_slug(dataset)}.png",
                                                title=f"Best on {dataset}: {best_label}")
        figures += [reports.Figure(loss_plot, f"{dataset}: training loss of every architecture against the epoch"
                                              f"{seed_note}."),
                    reports.Figure(confusion_plot, f"{dataset}: test confusion matrix of the best architecture "
                                                   f"({best_label}, test accuracy {accuracy:.4f}{pooled}).")]
    seconds = time.perf_counter() - start
    in_parallel = f" ({jobs} at a time)" if jobs > 1 else ""
    repeats = f", {seeds} seeds each" if seeds > 1 else ""
    reports.write_comparison_report(
        out / "report.html", rows, figures=figures, title="RNN vs LSTM vs GRU",
        subtitle=f"{len(rows)} runs on {', '.join(args.data)}{repeats} in {seconds:.0f} s{in_parallel}",
        config=_report_settings(settings_per_dataset) | {
            "scaling": args.scaling, "test_fraction": args.test_fraction,
            "validation_fraction": args.validation_fraction, "seed": args.seed, "seeds": seeds, "jobs": jobs})
    _print_table(console, rows)
    console.print(f"{len(rows)} runs in {seconds:.0f} s{in_parallel}; report: {out / 'report.html'}")
    return 0


def _best_architecture(runs: list[Finished]) -> tuple[str, list[Finished]]:
    """The grid entry with the highest mean test accuracy over its seeds (the first of equals), and its runs."""
    by_label: dict[str, list[Finished]] = {}
    for run in runs:
        by_label.setdefault(run.planned.label, []).append(run)
    label = max(by_label, key=lambda name: np.mean([r.metrics["test_accuracy"] for r in by_label[name]]))
    return label, by_label[label]


def resolve_jobs(jobs: str | int, runs: int, device: str) -> int:
    """How many runs train at once: 'auto' is one per CPU core on the CPU (at most the number of
    runs), one on a GPU; each of several jobs gets an equal share of the cores as torch threads."""
    if jobs != "auto":
        return min(int(jobs), runs)
    if device != "cpu":
        return 1
    return max(1, min(_cores(), runs))


def _cores() -> int:
    """CPU cores this process may use (its affinity where the OS has one, e.g. in a container)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _run_here(plans: list[Planned], args: argparse.Namespace, prepared: dict[str, PreparedData],
              console: Console, jobs: int) -> Iterator[Finished]:
    """One run after another in this process, each with its epoch progress bar (``jobs`` is 1:
    the signature is ``_run_parallel``'s), on ``--threads`` torch threads when given."""
    threads = torch.get_num_threads()
    if args.threads != "auto":
        torch.set_num_threads(int(args.threads))
    try:
        for planned in plans:
            console.print(f"[dim]training {planned.dataset}: {planned.name}[/]")
            yield _train(planned, data_config(args, planned.source), prepared[planned.source], not args.quiet)
    finally:
        torch.set_num_threads(threads)


def _run_parallel(plans: list[Planned], args: argparse.Namespace, prepared: dict[str, PreparedData],
                  console: Console, jobs: int) -> Iterator[Finished]:
    """``jobs`` runs at a time in worker processes, results in the order they finish.

    The small models of a study use two cores poorly (a 64-unit step is too little work to split):
    two single-threaded runs side by side finish about 1.7x sooner than the same two one after
    the other on two threads each. Each worker is a fresh interpreter ("spawn"), since forking a
    process whose OpenMP threads are running can hang the child.
    """
    threads = max(1, _cores() // jobs) if args.threads == "auto" else int(args.threads)
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=torch.set_num_threads, initargs=(threads,))
    bar = Progress(TextColumn("[bold]runs"), MofNCompleteColumn(), BarColumn(), TimeElapsedColumn(),
                   console=console, disable=args.quiet or not console.is_terminal)
    try:
        with bar:
            task = bar.add_task("runs", total=len(plans))
            pending = {pool.submit(_train, planned, data_config(args, planned.source), prepared[planned.source],
                                   False): planned for planned in plans}
            for future in as_completed(pending):
                bar.advance(task)
                try:
                    result = future.result()
                except (ValueError, OSError, TrainingError) as error:  # one line for the user, as in _main
                    raise _naming_the_run(error, pending[future]) from error
                yield result
    finally:  # on an error or Ctrl-C: drop the runs not yet started; results.csv holds those that finished
        pool.shutdown(wait=False, cancel_futures=True)


def _naming_the_run(error: Exception, planned: Planned) -> Exception:
    """The same error, its message led by the run it came from (a worker's error says nothing of that)."""
    message = f"{planned.dataset}: {planned.name}: {error}"
    if isinstance(error, TrainingError):
        return TrainingError(message, error.epoch, error.batch)
    try:
        return type(error)(message)
    except TypeError:  # an error class that wants other arguments: still a user's error, still one line
        return ValueError(message)


def _train(planned: Planned, data_settings: DataConfig, prepared: PreparedData, progress: bool) -> Finished:
    result = train_run(data_settings, planned.settings, planned.config, planned.directory, prepared=prepared,
                       progress=progress)
    return Finished(planned, result.metrics, result.history)


def _row(finished: Finished, out: Path, with_seed: bool) -> dict[str, Any]:
    """A results row; its architecture is the grid entry's label without the cell, so two entries of one
    shape with other settings ("64 attention (#4)") stay apart in every table."""
    seed = {"seed": finished.planned.config.seed} if with_seed else {}
    architecture = {"architecture": finished.planned.label.split(" ", 1)[1]}
    return {key: finished.metrics[key] for key in reports.RESULT_COLUMNS} | architecture | seed | {
        "run": str(finished.planned.directory.relative_to(out))}


def _report_settings(settings_per_dataset: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Training settings shared by every data set under "training", those that differ ('auto'
    epochs, batch size, time mask) under each data set's name."""
    every = list(settings_per_dataset.values())
    shared = {key: value for key, value in every[0].items() if all(s[key] == value for s in every)}
    return {"training": shared} | {
        dataset: {key: value for key, value in settings.items() if key not in shared}
        for dataset, settings in settings_per_dataset.items() if len(shared) < len(settings)
    }


def _label(settings: dict[str, Any]) -> str:
    """"LSTM 64-32-32 attention": the cell and the architecture, as ClassifierConfig names it."""
    config = ClassifierConfig(input_size=1, num_classes=2, **settings)
    return f"{config.cell.upper()} {config.architecture}"


def _with_overrides(config: TrainConfig, overrides: dict[str, Any]) -> TrainConfig:
    return TrainConfig.from_dict({**config.to_dict(), **overrides})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _print_table(console: Console, rows: list[dict[str, Any]]) -> None:
    table = compact_table("dataset", "cell", "architecture", "params", "train", "test", "epochs", "seconds",
                          numeric=("params", "train", "test", "epochs", "seconds"))
    for row in reports.sort_results(rows):
        table.add_row(row["dataset"], row["cell"], row["architecture"], f"{row['parameters']:,}",
                      f"{row['train_accuracy']:.4f}", f"{row['test_accuracy']:.4f}", str(row["epochs"]),
                      f"{row['seconds']:.1f}")
    console.print(table)
    if len({row["cell"] for row in rows}) < 2:
        return
    side_by_side = reports.cells_side_by_side(rows)
    cells = [key.removesuffix("_accuracy") for key in side_by_side[0] if key.endswith("_accuracy")]
    repeated = f"{cells[0]}_sd" in side_by_side[0]
    title = "test accuracy of each cell on the same architecture" + (" (mean±sd over seeds)" if repeated else "")
    table = compact_table("dataset", "architecture", *cells, numeric=tuple(cells), title=title)

    def cell_text(row: dict[str, Any], cell: str) -> str:
        mean, sd = row[f"{cell}_accuracy"], row.get(f"{cell}_sd")
        if mean is None:
            return "-"
        return f"{mean:.4f}" + ("" if sd is None else f"±{sd:.4f}")

    for row in side_by_side:
        table.add_row(row["dataset"], row["architecture"], *(cell_text(row, cell) for cell in cells))
    console.print(table)
