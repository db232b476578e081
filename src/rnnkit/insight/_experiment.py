"""The long-dependency experiment: every model variant trained on a synthetic task at several lengths.

Every run has the same budget (``steps`` Adam updates on fresh batches) and is scored on one fixed
held-out batch per length, so a table row says how far that model got in that budget: the metric
at the end, the best on the way, and the first step at which the run counted as solved
(``solved_below`` times the memoryless baseline). A run whose loss turns NaN or infinite stops
there and is marked diverged.
"""
from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from ..training import TrainConfig, clip_gradients, make_optimizer, seed_everything
from ._tasks import Task
from ._variants import VARIANTS, build_model, variant

EVAL_SEED = 12345  # the held-out batch of each length comes from its own stream, the same for every model


@dataclass(frozen=True)
class ExperimentConfig:
    task: str = "adding"  # "adding" or "copy"
    lengths: tuple[int, ...] = (10, 25, 50, 100, 200)  # adding: sequence length; copy: the delay
    models: tuple[str, ...] = ("rnn", "rnn-clip", "rnn-orth", "irnn", "lstm", "lstm-fb1", "gru")
    steps: int = 1500  # Adam updates per run, each on a fresh batch
    batch_size: int = 32
    hidden: int = 64  # units of the one recurrent layer
    # 1e-3 left LSTM, GRU and IRNN at the baseline on adding at length 100 after 1000 steps; with 1e-2
    # the LSTM solved it by step 1200 and the GRU by step 300 (batch 32, 64 units, this machine).
    lr: float = 1e-2  # Adam's learning rate
    clip_norm: float = 1.0  # gradient-norm bound for the variants that clip
    eval_every: int = 100  # steps between scores on the held-out batch
    eval_size: int = 500  # held-out sequences per length
    symbols: int = 10  # copy: symbols to remember
    solved_below: float = 0.1  # solved: metric below this fraction of the baseline
    seed: int = 0
    jobs: int = 1  # runs at once, each in its own process on one thread

    def __post_init__(self) -> None:
        Task(self.task, self.symbols)  # checks the task name and symbols
        for name in self.models:
            variant(name)
        if not self.lengths or not self.models:
            raise ValueError("give at least one length and one model")
        for name, value in (("steps", self.steps), ("batch_size", self.batch_size), ("hidden", self.hidden),
                            ("eval_every", self.eval_every), ("eval_size", self.eval_size), ("jobs", self.jobs),
                            *(("length", n) for n in self.lengths)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        minimum = 2 if self.task == "adding" else 1
        if min(self.lengths) < minimum:
            raise ValueError(f"lengths must be at least {minimum} for the {self.task} task, got {min(self.lengths)}")
        if not self.lr > 0 or not self.clip_norm > 0 or not 0 < self.solved_below < 1:
            raise ValueError("lr and clip_norm must be positive and solved_below in (0, 1)")

    @property
    def task_spec(self) -> Task:
        return Task(self.task, self.symbols)


@dataclass
class RunResult:
    task: str
    model: str
    length: int
    steps: int  # updates done (fewer than asked when the run diverged)
    metric: str  # "mse" or "recall_ce"
    final: float  # the metric on the held-out batch at the end
    best: float  # the lowest metric seen at an evaluation
    baseline: float  # the memoryless score
    solved_at: int | None  # first evaluated step with metric < solved_below * baseline
    diverged: bool
    seconds: float
    extra: dict[str, float] = field(default_factory=dict)  # copy: recall_accuracy at the end
    curve: list[tuple[int, float]] = field(default_factory=list)  # (step, metric) at each evaluation

    def row(self) -> dict[str, Any]:
        """The table row (without the curve)."""
        row = {k: v for k, v in asdict(self).items() if k not in ("curve", "extra")}
        return row | self.extra


def train_one(config: ExperimentConfig, model_name: str, length: int) -> RunResult:
    """Train one variant at one length for ``config.steps`` updates; score it as it goes."""
    task, v = config.task_spec, variant(model_name)
    seed_everything(config.seed)
    model = build_model(v, task.input_size, config.hidden, task.output_size, task.per_step)
    optimizer = make_optimizer(TrainConfig(optimizer="adam", lr=config.lr), model.parameters())
    data = torch.Generator().manual_seed(config.seed * 1_000_003 + length)  # same batches for every model
    held_out = task.batch(config.eval_size, length, torch.Generator().manual_seed(EVAL_SEED + length))
    curve: list[tuple[int, float]] = []
    scores: dict[str, float] = {}
    diverged, done = False, 0
    start = time.perf_counter()

    def evaluate(step: int) -> None:
        nonlocal scores
        model.eval()
        with torch.no_grad():
            scores = task.score(model(held_out.x), held_out.y)
        model.train()
        curve.append((step, scores[task.metric]))

    evaluate(0)
    for step in range(1, config.steps + 1):
        x, y = task.batch(config.batch_size, length, data)
        loss = task.loss(model(x), y)
        if not torch.isfinite(loss):
            diverged = True
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if v.clip:
            clip_gradients(model.parameters(), config.clip_norm)
        optimizer.step()
        done = step
        if step % config.eval_every == 0 or step == config.steps:
            evaluate(step)
    values = [value for _, value in curve]
    finite = [value for value in values if value == value]  # NaN != NaN
    threshold = config.solved_below * task.baseline
    solved = next((s for s, value in curve if value < threshold), None)
    final = float("nan") if diverged or not finite else values[-1]
    return RunResult(config.task, model_name, length, done, task.metric, final,
                     min(finite) if finite else float("nan"), task.baseline, solved, diverged,
                     time.perf_counter() - start, {k: v for k, v in scores.items() if k != task.metric}, curve)


def run_experiment(config: ExperimentConfig,
                   on_result: Callable[[RunResult], None] | None = None) -> list[RunResult]:
    """Every model at every length; ``on_result`` sees each run as it finishes. Results sorted by
    model (in the order given), then length."""
    plan = [(name, length) for name in config.models for length in config.lengths]
    results = []
    for result in _runs(config, plan):
        results.append(result)
        if on_result is not None:
            on_result(result)
    order = {name: k for k, name in enumerate(config.models)}
    return sorted(results, key=lambda r: (order[r.model], r.length))


def _runs(config: ExperimentConfig, plan: list[tuple[str, int]]) -> Iterator[RunResult]:
    if config.jobs == 1:
        for name, length in plan:
            yield train_one(config, name, length)
        return
    # fresh interpreters ("spawn"): forking a process with running OpenMP threads can hang the child
    with ProcessPoolExecutor(config.jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=torch.set_num_threads, initargs=(1,)) as pool:
        futures = [pool.submit(train_one, config, name, length) for name, length in plan]
        for future in futures:
            yield future.result()


def experiment_summary(results: list[RunResult]) -> dict[str, Any]:
    """The longest length each model solved, and whether the textbook pattern shows: some length at which
    the plain RNN is not solved while a gated cell (LSTM or GRU, any variant) is."""
    longest: dict[str, int | None] = {}
    for r in results:
        if r.solved_at is not None:
            longest[r.model] = max(longest.get(r.model) or 0, r.length)
        else:
            longest.setdefault(r.model, None)
    by_key = {(r.model, r.length): r for r in results}
    lengths = sorted({r.length for r in results})
    gated = [name for name in VARIANTS if VARIANTS[name].cell in ("lstm", "gru") and name in longest]
    pattern_at = [n for n in lengths if ("rnn", n) in by_key and by_key[("rnn", n)].solved_at is None
                  and any((g, n) in by_key and by_key[(g, n)].solved_at is not None for g in gated)]
    return {"longest_solved": longest, "rnn_fails_gated_solve_at": pattern_at}
