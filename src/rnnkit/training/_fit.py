"""The training loop: ``fit(model, train_batches, config)``, one readable function (minGPT ``trainer.py``).

Per epoch: train on every batch (zero grads, forward and backward by full or truncated BPTT,
check the loss is finite, clip, step), evaluate on the validation batches, append one history
row, step the lr schedule, ask early stopping. At the end the best weights come back if asked.

With ``checkpoint`` the whole state (``_resume.py``) is saved after each epoch and every
``checkpoint.every`` steps, and ``checkpoint.resume`` continues from it: the batches of an epoch
are a function of the epoch, so skipping the ones done and restoring the generators gives the
same run as one never stopped, bit for bit on the CPU.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from ._augment import time_mask
from ._batch import Batch, BatchSource, epoch_batches, unpack_batch
from ._config import TrainConfig, resolve_device
from ._early_stopping import EarlyStopping
from ._metrics import LossFn, Objective, as_objective, evaluate
from ._optim import clip_gradients, make_optimizer, make_scheduler
from ._resume import Checkpointing, Position, read_training_state, restore_rng, save_training_state
from ._seed import seed_everything
from ._tbptt import bptt_step, detach_state, tbptt_step


LONG_EPOCH_BATCHES = 50  # epochs of at least this many counted batches show a bar over them too


class TrainingError(RuntimeError):
    """Training cannot go on (a NaN or infinite loss or gradient, an empty epoch)."""

    def __init__(self, message: str, epoch: int, batch: int | None = None) -> None:
        super().__init__(message)
        self.epoch = epoch  # 1-based epoch where it happened
        self.batch = batch  # 1-based batch within the epoch, None when not about one batch

    def __reduce__(self):  # rebuilt with all three arguments when it crosses a process boundary (compare --jobs)
        return type(self), (str(self), self.epoch, self.batch)


class FitResult(NamedTuple):
    """What ``fit`` returns."""

    # One row per epoch: epoch, train_loss, train_accuracy, val_loss, val_accuracy, lr, seconds.
    history: list[dict[str, Any]]
    best_epoch: int  # 1-based epoch with the best monitored value (the weights kept when config.restores_best)
    stopped_early: bool  # True when early stopping ended training before config.epochs
    seconds: float  # wall time of the whole fit
    monitor: str  # the history key early stopping watched ("val_loss" ...)
    best_value: float  # its value at best_epoch


def fit(
    model: torch.nn.Module,
    train_batches: BatchSource,
    config: TrainConfig | None = None,
    val_batches: BatchSource | None = None,
    loss_fn: LossFn | Objective | None = None,
    progress: bool = True,
    epoch_callback: Callable[[int, torch.nn.Module], dict[str, Any] | None] | None = None,
    checkpoint: Checkpointing | None = None,
) -> FitResult:
    """Train ``model`` on ``train_batches`` as ``config`` says; return the history and the best epoch.

    ``model(x, lengths)`` returns logits ``(B, C)`` or ``(B, T, C)``; with ``config.tbptt`` it must
    also follow the stateful protocol of ``tbptt_step``. ``train_batches`` and ``val_batches`` are
    re-iterables of ``(x, lengths, y)`` or callables ``epoch -> batches`` (to reshuffle per epoch).
    ``loss_fn(logits, y)`` is the mean over valid targets; cross-entropy ignoring ``-100`` by default.
    An ``Objective`` (``loss`` and ``count`` of output, y and lengths) serves losses that need more,
    such as CTC's.
    ``epoch_callback(epoch, model)`` runs after each epoch's history row (to sample from a
    language model as it learns, say); a dict it returns is added to that row (so it is saved and
    resumed with the history); the model is in train mode again afterwards.
    ``checkpoint`` saves the training state as it goes and, with ``resume``, starts from it. A
    diverging run raises ``TrainingError`` and leaves the last state saved before it.

    Everything is seeded from ``config.seed`` at the start, so the same model initialisation
    (seed before building the model too), the same batches and the same config give the same
    history. The model is moved to ``config.device`` and left there, in train mode.
    """
    config = config or TrainConfig()
    loss_fn = as_objective(loss_fn)
    device = resolve_device(config.device)
    monitor = _resolve_monitor(config.monitor, has_validation=val_batches is not None)
    mode = "max" if monitor.endswith("accuracy") else "min"

    seed_everything(config.seed)
    model.to(device)
    optimizer = make_optimizer(config, model.parameters())
    # a per-batch schedule is made once the first epoch's batches are counted
    scheduler = None if config.lr_per_batch else make_scheduler(config, optimizer, mode)
    stopper = EarlyStopping(mode=mode, min_delta=config.min_delta, patience=config.patience, rule=config.stop_rule)

    history: list[dict[str, Any]] = []
    best_state: dict[str, torch.Tensor] | None = None
    at = Position()
    if checkpoint is not None and checkpoint.resume:
        state = read_training_state(checkpoint.path)
        model.load_state_dict(state.model)
        if config.lr_per_batch and state.position.batches_per_epoch:
            scheduler = make_scheduler(config, optimizer, mode, batches_per_epoch=state.position.batches_per_epoch)
        optimizer.load_state_dict(state.optimizer)  # after making a scheduler, which sets the lr of its step 0
        if scheduler is not None and state.scheduler is not None:
            scheduler.load_state_dict(state.scheduler)
        vars(stopper).update(state.stopper)
        history, best_state, at = state.history, state.best, state.position
        restore_rng(state.rng)

    def save() -> None:
        if checkpoint is not None:
            _check_finite_weights(model, at)
            at.seconds = time.perf_counter() - start
            save_training_state(checkpoint.path, position=at, history=history, model=model, best=best_state,
                                optimizer=optimizer, scheduler=scheduler, stopper=stopper, keep=checkpoint.keep)

    start = time.perf_counter() - at.seconds
    if checkpoint is not None and not checkpoint.resume:
        save()  # the state before the first step: a run killed at any moment has one to resume from
    with _progress_bar(progress) as bar:
        task = bar.add_task("epoch", total=config.epochs, completed=at.epoch, status="")
        # long epochs (a language model on a book) also get a bar over their batches, when counted
        batch_task = bar.add_task("batch", total=None, status="", visible=False)
        finished = at.epoch >= config.epochs or stopper.should_stop  # a resumed run that had ended
        for epoch in range(at.epoch + 1, config.epochs + 1):
            if finished:
                break
            if at.batch == 0:
                at.lr = optimizer.param_groups[0]["lr"]  # the rate this epoch trains with (at its start)
            batches = epoch_batches(train_batches, epoch)
            if config.lr_per_batch:
                batches = list(batches)
                if scheduler is None:
                    scheduler = make_scheduler(config, optimizer, mode, batches_per_epoch=len(batches))
                    at.batches_per_epoch = len(batches)
            if hasattr(batches, "__len__"):
                bar.reset(batch_task, total=len(batches), completed=at.batch,
                          visible=len(batches) >= LONG_EPOCH_BATCHES)

            def after_step() -> None:
                bar.advance(batch_task)
                if checkpoint is not None and checkpoint.every and at.step % checkpoint.every == 0:
                    save()

            train_loss, train_accuracy = _train_epoch(
                model, batches, optimizer, config, loss_fn, device, epoch,
                scheduler if config.lr_per_batch else None, at, after_step,
            )
            val_loss = val_accuracy = None
            if val_batches is not None:
                val = evaluate(model, epoch_batches(val_batches, epoch), loss_fn, device,
                               carry_state=config.carry_state)
                val_loss, val_accuracy = val.loss, val.accuracy
            history.append({
                "epoch": epoch,
                "train_loss": train_loss,
                "train_accuracy": train_accuracy,
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
                "lr": at.lr,
                "seconds": time.perf_counter() - start,
            })

            value = history[-1][monitor]
            if not math.isfinite(value):
                raise TrainingError(f"epoch {epoch}: {monitor} is {value}; training diverged "
                                    "(try a lower lr or clip_norm)", epoch, None)
            decision = stopper.update(value)
            if decision.improved and config.restores_best:
                # A CPU copy: it must survive later steps and not take accelerator memory.
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(value)
            elif scheduler is not None and not config.lr_per_batch:
                scheduler.step()
            if epoch_callback is not None:
                history[-1] |= epoch_callback(epoch, model) or {}
                model.train()
            at = Position(epoch=epoch, step=at.step, batches_per_epoch=at.batches_per_epoch)
            save()
            bar.update(task, advance=1, status=_status(history[-1]))
            if decision.stop:
                break

    if config.restores_best and best_state is not None:
        model.load_state_dict(best_state)
    return FitResult(
        history=history,
        best_epoch=stopper.best_epoch,
        stopped_early=stopper.should_stop and len(history) < config.epochs,
        seconds=time.perf_counter() - start,
        monitor=monitor,
        best_value=stopper.best,
    )


def _train_epoch(
    model: torch.nn.Module,
    batches: Iterable[Batch],
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    loss_fn: Objective,
    device: torch.device,
    epoch: int,
    batch_scheduler: Any = None,
    at: Position | None = None,
    after_step: Callable[[], None] | None = None,
) -> tuple[float, float]:
    """One pass over the training batches; returns the epoch's mean loss and accuracy.

    The mean is over all valid targets of the epoch, each batch measured with the weights it
    was trained from (the "average error of the epoch" of the course assignment). ``at`` is where
    the epoch stands (a resumed one skips the ``at.batch`` batches done, its sums and carried state
    restored) and is kept up to date for ``after_step``, called after each optimiser step.
    """
    at = at or Position()
    model.train()
    for index, batch in enumerate(itertools.islice(batches, at.batch, None), start=at.batch + 1):
        x, lengths, y, extra = unpack_batch(batch, device)
        if config.time_mask:
            x = time_mask(x, lengths, config.time_mask)
        optimizer.zero_grad(set_to_none=True)
        if (config.tbptt is not None or config.carry_state) and extra:
            raise ValueError("truncated BPTT and carried state are for one sequence per row, not encoder-decoder "
                             "batches (x, lengths, y, decoder_input)")
        if config.tbptt is not None:
            stats = tbptt_step(model, x, lengths, y, loss_fn, config.tbptt)
        elif config.carry_state:
            # with carry_state: the final state of the previous batch, detached
            stats, state = bptt_step(model, x, lengths, y, loss_fn, state=at.carried, return_state=True)
            at.carried = detach_state(state)  # the truncation: the next window's gradient stops here
        else:
            stats = bptt_step(model, x, lengths, y, loss_fn, inputs=extra)
        if not math.isfinite(stats.loss):
            raise TrainingError(
                f"loss is {stats.loss} at epoch {epoch}, batch {index}: training diverged. "
                "Try a lower lr or a clip_norm, and check the inputs for NaN or huge values.",
                epoch, index,
            )
        norm = clip_gradients(model.parameters(), config.clip_norm, config.clip_value)
        if norm is not None and not math.isfinite(norm):
            # Stop before the step: clipping an infinite norm would write NaN into every weight.
            raise TrainingError(
                f"gradient norm is {norm} at epoch {epoch}, batch {index}: training diverged. "
                "Try a lower lr or a smaller clip_value.",
                epoch, index,
            )
        optimizer.step()
        if batch_scheduler is not None:
            batch_scheduler.step()
        at.loss_sum += stats.loss * stats.valid
        at.correct_sum += stats.correct
        at.valid_sum += stats.valid
        at.batch, at.step = index, at.step + 1
        if after_step is not None:
            after_step()
    if at.valid_sum == 0:
        raise TrainingError(f"epoch {epoch} got no training batches", epoch)
    return at.loss_sum / at.valid_sum, at.correct_sum / at.valid_sum


def _check_finite_weights(model: torch.nn.Module, at: Position) -> None:
    """A state with NaN or infinite weights is never saved: the one saved before stays the last good one."""
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise TrainingError(f"{name} holds NaN or infinite values after epoch {at.epoch}, batch {at.batch}: "
                                "training diverged. Try a lower lr or a clip_norm.", at.epoch + 1, at.batch)


def _resolve_monitor(monitor: str, has_validation: bool) -> str:
    if monitor == "auto":
        return "val_loss" if has_validation else "train_loss"
    if monitor.startswith("val_") and not has_validation:
        raise ValueError(f"monitor={monitor!r} needs val_batches; pass them or monitor a train_ value")
    return monitor


def _progress_bar(enabled: bool) -> Progress:
    """One bar over epochs on stderr (stdout stays clean for results), off outside a terminal."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("[bold]{task.description}"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not (enabled and console.is_terminal),
    )


def _status(row: dict[str, Any]) -> str:
    text = f"loss {row['train_loss']:.4f} acc {row['train_accuracy']:.3f}"
    if row["val_loss"] is not None:
        text += f" | val loss {row['val_loss']:.4f} acc {row['val_accuracy']:.3f}"
    return text
