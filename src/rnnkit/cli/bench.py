"""``rnnkit bench``: the speed of rnnkit's kernels against torch's native modules, a naive autograd
cell loop, and the GEMM roofline, for each variant at several sizes (issue #3).

For each size, every candidate is built once, warmed up, then timed round-robin (one call of each
per repeat, so a busy machine slows them all alike); the table shows medians and their ratios from
that one run. A training step is forward + backward of ``output`` against a fixed random gradient
(the input requires grad, as in any layer but the first); inference is an eval-mode forward under
``torch.inference_mode``.

* auto: the same layer with ``impl="auto"``, what a user gets: it hands a configuration torch has
  natively to torch where that is faster (the plain LSTM on CPU), else runs the kernel; the
  speed targets are judged on it;
* native: ``torch.nn.LSTM`` / ``GRU`` / ``RNN`` of the same size (oneDNN on CPU); every LSTM variant
  and the original GRU are also compared with ``nn.LSTM`` (the issue's yardstick);
* naive: the same rnnkit layer with ``impl="reference"``, its cells stepped by autograd;
* roofline: the variant's matrix products as a few large GEMMs over all T*B rows (forward; plus the
  input- and weight-gradient GEMMs for training): the time of its FLOPs without the recurrence.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

import rnnkit as rk

DESCRIPTION = "Time rnnkit's kernels against torch's native modules, a naive autograd loop and the GEMM roofline."
DEFAULT_SIZES = "100x32x39x128,100x64x256x256,50x64x512x512"


@dataclass(frozen=True)
class Size:
    T: int  # time steps
    B: int  # batch
    I: int  # input features
    H: int  # hidden units

    def __str__(self) -> str:
        return f"T={self.T} B={self.B} I={self.I} H={self.H}"


@dataclass(frozen=True)
class Variant:
    family: str  # "lstm", "gru" or "rnn": which torch module is its native twin
    options: dict  # keyword options of the rnnkit layer
    target: str  # the target for a training step ("" for none)


VARIANTS = {
    "lstm": Variant("lstm", {}, "<=1.05x nn.LSTM"),
    "peephole": Variant("lstm", {"peephole": True}, "variant"),
    "lstmp_peephole": Variant("lstm", {"peephole": True, "proj_size": "H/2"}, "variant"),
    "layer_norm": Variant("lstm", {"layer_norm": True}, "variant"),
    "zoneout": Variant("lstm", {"zoneout": 0.1}, "variant"),
    "gru": Variant("gru", {}, "<=0.8x nn.GRU"),
    "gru_original": Variant("gru", {"reset_after": False}, "variant"),
    "rnn": Variant("rnn", {}, "<=1.0x nn.RNN"),
}
LAYERS = {"lstm": rk.LSTM, "gru": rk.GRU, "rnn": rk.RNN}
NATIVE = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


@dataclass
class Result:
    variant: str
    size: dict
    mode: str  # "train" or "inference"
    kernel_ms: float
    native: str  # the native twin, "nn.LSTM" ...
    native_ms: float
    lstm_ms: float  # nn.LSTM of the same size
    naive_ms: float | None
    roofline_ms: float
    target: str
    auto_ms: float  # impl="auto", what a user gets
    auto_path: str  # where auto went: "kernel" or "native"
    verdict: str  # the speed target, judged on auto: "met", "missed" or "" (none)
    naive_verdict: str = ""  # variants, training: at least 3x faster than the naive loop, "met" or "missed"

    @property
    def vs_native(self) -> float:
        return self.kernel_ms / self.native_ms

    @property
    def vs_lstm(self) -> float:
        return self.kernel_ms / self.lstm_ms

    @property
    def auto_vs_native(self) -> float:
        return self.auto_ms / self.native_ms

    @property
    def auto_vs_lstm(self) -> float:
        return self.auto_ms / self.lstm_ms


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help=f"comma-separated TxBxIxH (default {DEFAULT_SIZES})")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, from: {', '.join(VARIANTS)} (default all)")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls of each candidate (default 7)")
    parser.add_argument("--modes", default="train,inference", help="train, inference or both (default both)")
    parser.add_argument("--no-naive", action="store_true", help="skip the (slow) naive autograd loop")
    parser.add_argument("--no-extension", action="store_true",
                        help="time the pure-PyTorch kernel loops (default: build and use the optional C++ loops)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    sizes, variants, modes = _parse_sizes(args.sizes), _parse_list(args.variants, VARIANTS), \
        _parse_list(args.modes, ("train", "inference"))
    if args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    if args.threads:
        torch.set_num_threads(args.threads)
    console = Console(width=None if sys.stdout.isatty() else 200)  # a wide table, unwrapped in files and pipes
    loops = _prepare_loops(not args.no_extension, console)
    results: list[Result] = []
    for size in sizes:
        for mode in modes:
            console.print(f"[dim]timing {mode} at {size} ...[/]")
            results += measure(size, variants, mode, args.repeats, naive=not args.no_naive)
    for mode in modes:
        console.print(_table([r for r in results if r.mode == mode], mode))
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "machine": platform.processor() or
            platform.machine(), "loops": loops, "repeats": args.repeats}
    console.print(f"[dim]torch {meta['torch']}, {meta['threads']} threads, kernel loops: {loops}[/]")
    if args.json:
        records = [asdict(r) | {"vs_native": r.vs_native, "vs_lstm": r.vs_lstm, "auto_vs_native": r.auto_vs_native,
                                "auto_vs_lstm": r.auto_vs_lstm} for r in results]
        with open(args.json, "w") as handle:
            json.dump({"meta": meta, "results": records}, handle, indent=2)
    return 0


def measure(size: Size, variants: list[str], mode: str, repeats: int, naive: bool = True) -> list[Result]:
    """Time every candidate at one size, round-robin; one Result per variant."""
    torch.manual_seed(0)
    train = mode == "train"
    x = torch.randn(size.T, size.B, size.I, requires_grad=train)
    calls: dict[str, Callable[[], None]] = {}
    for family in {VARIANTS[v].family for v in variants} | {"lstm"}:
        calls[f"native:{family}"] = _call(NATIVE[family](size.I, size.H), x, train)
    paths = {}
    for name in variants:
        calls[f"kernel:{name}"] = _call(_layer(name, size, "kernel"), x, train)
        auto = _layer(name, size, "auto").train(train)
        with torch.set_grad_enabled(train):
            paths[name] = auto.choose_impl()
        calls[f"auto:{name}"] = _call(auto, x, train)
        if naive:
            calls[f"naive:{name}"] = _call(_layer(name, size, "reference"), x, train)
        calls[f"roofline:{name}"] = _roofline(name, size, train)
    times = _time_round_robin(calls, repeats)
    results = []
    for name in variants:
        family = VARIANTS[name].family
        result = Result(name, asdict(size), mode, times[f"kernel:{name}"], f"nn.{NATIVE[family].__name__}",
                        times[f"native:{family}"], times["native:lstm"], times.get(f"naive:{name}"),
                        times[f"roofline:{name}"], VARIANTS[name].target if train else "",
                        times[f"auto:{name}"], paths[name], "")
        if train:
            result.verdict = _verdict(result)
            if result.target == "variant" and result.naive_ms is not None:
                result.naive_verdict = "met" if result.naive_ms >= 3 * result.kernel_ms else "missed"
        results.append(result)
    return results


def _layer(name: str, size: Size, impl: str) -> nn.Module:
    variant = VARIANTS[name]
    options = dict(variant.options)
    if options.get("proj_size") == "H/2":
        options["proj_size"] = size.H // 2
    return LAYERS[variant.family](size.I, size.H, impl=impl, **options)


def _call(module: nn.Module, x: torch.Tensor, train: bool) -> Callable[[], None]:
    module.train(train)
    if not train:
        def infer() -> None:
            with torch.inference_mode():
                module(x)
        return infer
    dout = torch.randn_like(module(x)[0]).detach()

    def step() -> None:
        out = module(x)[0]
        out.backward(dout)
    return step


def _roofline(name: str, size: Size, train: bool) -> Callable[[], None]:
    """The variant's GEMMs over all T*B rows: forward, and for training dx/dh and dW too."""
    variant = VARIANTS[name]
    layer = _layer(name, size, "kernel")
    G, P = GATES[variant.family] * size.H, layer.output_size
    rows = size.T * size.B
    X, W, dA = torch.randn(rows, size.I + P), torch.randn(G, size.I + P), torch.randn(rows, G)
    proj = P != size.H
    M, W_hr, dH = (torch.randn(rows, size.H), torch.randn(P, size.H), torch.randn(rows, P)) if proj else (None,) * 3

    def gemms() -> None:
        X @ W.t()
        if proj:
            M @ W_hr.t()
        if train:
            dA @ W, dA.t() @ X
            if proj:
                dH @ W_hr, dH.t() @ M
    return gemms


def _time_round_robin(calls: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    for call in calls.values():  # warm up: allocator, oneDNN primitives, first-touch pages
        call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return {name: 1e3 * statistics.median(values) for name, values in samples.items()}


def _verdict(r: Result) -> str:
    """The issue's speed targets for a training step, judged on what impl="auto" runs: met or missed."""
    if r.target == "variant":  # at most 1.3x nn.LSTM for H >= 256, 2x below
        return "met" if r.auto_vs_lstm <= (1.3 if r.size["H"] >= 256 else 2.0) else "missed"
    limit = float(r.target[2:r.target.index("x")])
    return "met" if r.auto_vs_native <= limit else "missed"


def _table(results: list[Result], mode: str):
    from rich.table import Table

    title = "training step (forward + backward)" if mode == "train" else "inference (forward)"
    table = Table(title=f"{title}: median ms, and ratios (kernel or auto time / other time) from the same run")
    for column in ("variant", "T x B x I x H", "kernel", "auto", "native", "kernel/native", "auto/native",
                   "kernel/nn.LSTM", "naive", "kernel/naive", "roofline", "kernel/roofline", "target (auto)"):
        table.add_column(column, justify="left" if column in ("variant", "T x B x I x H", "auto", "native",
                                                              "target (auto)") else "right", no_wrap=True)
    for r in results:
        naive = "-" if r.naive_ms is None else f"{r.naive_ms:.1f}"
        vs_naive = "-" if r.naive_ms is None else f"{r.kernel_ms / r.naive_ms:.2f}"
        target = {"variant": f"<={1.3 if r.size['H'] >= 256 else 2}x nn.LSTM"}.get(r.target, r.target)
        if r.naive_verdict:
            target += f"; >=3x naive {_coloured(r.naive_verdict)}"
        colour = {"met": "green", "missed": "red"}.get(r.verdict, "")
        table.add_row(r.variant, "x".join(str(r.size[k]) for k in "TBIH"), f"{r.kernel_ms:.1f}",
                      f"{r.auto_ms:.1f} {r.auto_path}", f"{r.native_ms:.1f} {r.native}", f"{r.vs_native:.2f}",
                      f"{r.auto_vs_native:.2f}", f"{r.vs_lstm:.2f}", naive, vs_naive,
                      f"{r.roofline_ms:.1f}", f"{r.kernel_ms / r.roofline_ms:.2f}",
                      f"[{colour}]{r.verdict}[/] {target}" if colour else target)
    return table


def _coloured(verdict: str) -> str:
    return f"[{'green' if verdict == 'met' else 'red'}]{verdict}[/]"


def _prepare_loops(use_extension: bool, console) -> str:
    from ..kernels import _extension

    if not use_extension:
        _extension.disable()
        return "PyTorch (--no-extension)"
    if _extension.library_path() is not None and not _extension.library_path().exists():
        console.print("[dim]building the optional C++ kernel loops (once, about 30 s) ...[/]")
    try:
        _extension.build()
    except RuntimeError as error:
        console.print(f"[yellow]C++ loops unavailable, timing the PyTorch loops: {str(error).splitlines()[0]}[/]")
    _extension.reset()
    return _extension.status()


def _parse_sizes(text: str) -> list[Size]:
    sizes = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 4 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise ValueError(f"--sizes: each size is TxBxIxH with positive integers, got {item!r}")
        sizes.append(Size(*map(int, parts)))
    return sizes


def _parse_list(text: str, allowed) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown or not items:
        raise ValueError(f"unknown {unknown or 'empty list'}; choose from {', '.join(allowed)}")
    return items
