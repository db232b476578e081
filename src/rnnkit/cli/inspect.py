"""``rnnkit inspect gradients | gates``: look inside trained (or fresh) sequence classifiers.

``gradients`` overlays the gradient flow through time of one or more models on the same test
sequences (``rnnkit.insight.gradient_flow``); ``gates`` draws the gates, cell and hidden state of
chosen sequences as heat maps, with the attention weights of an attention pooling underneath.
The computation is ``rnnkit.insight``; this module loads runs and data, and names the files.
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from .. import data, reports, training
from ..insight import gradient_flow, record_gates
from ..models import CELLS, ClassifierConfig, SequenceClassifier
from ._options import positive_integer
from ._study import DataConfig, PreparedData, load_run, prepare_data

DESCRIPTION = """Look inside sequence classifiers.

gradients: for each model, over the first N test sequences, the norm of dL/dh_t and of dh_T/dh_t
           against the distance T - t, per layer and direction, and the spectral norm of the one-step
           recurrent Jacobian; one figure overlays every model (gradient_flow.png) and
           gradient_flow.json holds the numbers. Models: run directories (--model), or fresh
           untrained classifiers of the named cells (--fresh rnn lstm gru) on --data.
gates:     the input, forget and output gates, cell and hidden state of chosen test sequences as
           heat maps (gates_<index>.png), with the attention weights of an attention pooling."""

EPILOG = """examples:
  rnnkit inspect gradients --model runs/rnn runs/lstm runs/gru --out runs/inspect
  rnnkit inspect gradients --fresh rnn lstm gru --data fsdd-digits --out runs/fresh
  rnnkit inspect gates --model runs/lstm --samples 0 5 --out runs/inspect"""

FLOW_SEQUENCES = 16  # test sequences the gradient flow is averaged over by default


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=("gradients", "gates"), help="what to look at")
    parser.add_argument("--model", nargs="+", default=[], metavar="DIR", help="run directories of classifiers")
    parser.add_argument("--fresh", nargs="+", default=[], choices=CELLS, metavar="CELL",
                        help="gradients: untrained classifiers of these cells (rnn, lstm, gru) instead of runs")
    parser.add_argument("--hidden", type=positive_integer, default=64, metavar="H",
                        help="--fresh: units of the one recurrent layer (default: %(default)s)")
    parser.add_argument("--data", metavar="PATH|NAME",
                        help="sequences to look at: their test split (default: the first run's training data)")
    parser.add_argument("--count", type=positive_integer, default=FLOW_SEQUENCES, metavar="N",
                        help="gradients: test sequences to average over (default: %(default)s)")
    parser.add_argument("--samples", type=int, nargs="+", default=[0], metavar="INDEX",
                        help="gates: indices of test sequences to draw (default: 0)")
    parser.add_argument("--no-jacobians", action="store_true",
                        help="gradients: only dL/dh_t (the Jacobians cost one batched backward pass per unit)")
    parser.add_argument("--seed", type=int, default=0, help="--fresh: seed of the initial weights (default: 0)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the figures (made if missing)")


def run(args: argparse.Namespace) -> int:
    if bool(args.model) == bool(args.fresh):
        raise ValueError("give run directories with --model, or cells with --fresh (one of the two)")
    if args.what == "gates" and len(args.model) != 1:
        raise ValueError("gates: give exactly one run directory with --model")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    if args.what == "gradients":
        models, test = load_models(args)
        path = flow_plot(models, test.test, args.count, out / "gradient_flow.png", not args.no_jacobians,
                         json_path=out / "gradient_flow.json", title=f"Gradient flow through time on {test.test.name}")
        print(f"wrote {path} and {out / 'gradient_flow.json'}")
        return 0
    models, prepared = load_models(args)
    (label, model), = models.items()
    test = prepared.test
    for index in args.samples:
        if not 0 <= index < len(test):
            raise ValueError(f"--samples: {index} is not a test sequence index (0 .. {len(test) - 1})")
        path = gates_plot(model, test, index, out / f"gates_{index}.png", title=f"{label}: test sequence {index} "
                          f"({test.class_names[int(test.labels[index])]})")
        print(f"wrote {path}")
    return 0


def load_models(args: argparse.Namespace) -> tuple[dict[str, SequenceClassifier], PreparedData]:
    """The models by label, and the data (prepared as the first run's was, with each run's scaler)."""
    if args.fresh:
        if not args.data:
            raise ValueError("--fresh needs --data")
        prepared = prepare_data(DataConfig(args.data))
        models = {}
        for cell in args.fresh:
            training.seed_everything(args.seed)
            config = ClassifierConfig(input_size=prepared.train.num_features, num_classes=prepared.train.num_classes,
                                      cell=cell, hidden=(args.hidden,), dropout=0.0, pooling="last")
            models[f"{cell.upper()} {args.hidden} (untrained)"] = SequenceClassifier(config)
        return models, prepared
    saved = [load_run(directory) for directory in args.model]
    config = saved[0].data if not args.data else dataclasses.replace(saved[0].data, source=args.data)
    prepared = prepare_data(config, scaler=saved[0].scaler)
    models = {}
    for directory, run in zip(args.model, saved):
        if run.model.config.input_size != prepared.test.num_features:
            raise ValueError(f"{directory}: the model reads {run.model.config.input_size} features, "
                             f"{config.source} has {prepared.test.num_features}")
        label = f"{run.model.config.cell.upper()} {run.model.config.architecture}"
        models[label if label not in models else f"{label} ({directory})"] = run.model
    return models, prepared


def first_batch(dataset: data.SequenceDataset, count: int) -> data.Batch:
    count = min(count, len(dataset))
    return data.collate(dataset.sequences[:count], dataset.labels[:count])


def flow_plot(models: dict[str, torch.nn.Module], dataset: data.SequenceDataset, count: int, path: Path,
              jacobians: bool = True, *, json_path: Path | None = None, title: str = "") -> Path:
    """The gradient flow of every model over the first ``count`` sequences of ``dataset``, drawn in one figure."""
    batch = first_batch(dataset, count)
    flows = {label: gradient_flow(model, batch.x, batch.lengths, batch.labels, jacobians=jacobians).to_dict()
             for label, model in models.items()}
    if json_path is not None:
        training.write_json_atomic(json_path, {"data": dataset.name, "sequences": len(batch.lengths), "models": flows})
    return reports.plot_gradient_time({label: flow["curves"] for label, flow in flows.items()}, path, title=title)


def gradient_flow_figure(runs: dict[str, Path], dataset: data.SequenceDataset, path: Path, name: str) -> reports.Figure:
    """For ``rnnkit compare``: the gradient flow of its runs (label -> run directory) on test sequences."""
    models = {label: load_run(directory).model for label, directory in runs.items()}
    count = min(FLOW_SEQUENCES, len(dataset))
    flow_plot(models, dataset, count, path, title=f"Gradient flow through time on {name}")
    return reports.Figure(path, f"{name}: gradient flow through time of each architecture on {count} test "
                                "sequences: ‖∂L/∂h_t‖, ‖∂h_T/∂h_t‖₂ and the one-step Jacobian's spectral norm against "
                                "the distance from the end (rnnkit inspect gradients).")


def gates_plot(model: SequenceClassifier, dataset: data.SequenceDataset, index: int, path: Path, title: str) -> Path:
    """Heat maps of the first layer's gates and states (forward direction) over one sequence."""
    batch = data.collate([dataset.sequences[index]])
    recording = record_gates(model, batch.x, batch.lengths)
    first = recording.gates[0]
    attention = None if recording.attention is None else recording.attention[0]
    return reports.plot_gate_maps(first.sequence(0), path, title=f"{title} · {first.name}", attention=attention)
