"""Render a JSON file written by ``rnnkit bench --json`` as the Markdown tables of benchmarks/README.md.

    python benchmarks/tables.py benchmarks/results/cpu2-cpp-loops.json

The README's tables are pasted from this output, so every figure there comes from a measured run.
"""
from __future__ import annotations

import argparse
import json


def size(r: dict) -> str:
    return "×".join(str(r["size"][k]) for k in "TBIH")


def target(r: dict) -> str:
    """The issue's training target and its verdict on the auto path, e.g. "≤1.3× nn.LSTM: **met**"."""
    if not r["target"]:
        return ""
    goal = f"≤{1.3 if r['size']['H'] >= 256 else 2}× nn.LSTM" if r["target"] == "variant" else \
        r["target"].replace("<=", "≤").replace("x ", "× ")
    return f"{goal}: **{r['verdict']}**"


def table(results: list[dict], mode: str) -> str:
    columns = ["variant", "T×B×I×H", "kernel ms", "auto ms (path)", "native ms", "kernel ÷ native",
               "auto ÷ native", "kernel ÷ nn.LSTM", "naive ms", "naive ÷ kernel", "roofline ms",
               "kernel ÷ roofline"]
    if mode == "train":
        columns += ["speed target (auto)", "≥ 3× naive"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in (r for r in results if r["mode"] == mode):
        naive = r.get("naive_ms")
        cells = [r["variant"], size(r), f"{r['kernel_ms']:.1f}", f"{r['auto_ms']:.1f} ({r['auto_path']})",
                 f"{r['native_ms']:.1f} {r['native']}", f"{r['vs_native']:.2f}", f"{r['auto_vs_native']:.2f}",
                 f"{r['vs_lstm']:.2f}", "–" if naive is None else f"{naive:.1f}",
                 "–" if naive is None else f"{naive / r['kernel_ms']:.1f}×", f"{r['roofline_ms']:.1f}",
                 f"{r['kernel_ms'] / r['roofline_ms']:.2f}"]
        if mode == "train":
            cells += [target(r), r["naive_verdict"] or "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="a file written by rnnkit bench --json")
    with open(parser.parse_args().json, encoding="utf-8") as file:
        report = json.load(file)
    meta = report["meta"]
    print(f"torch {meta['torch']}, {meta['threads']} threads, {meta['repeats']} repeats, loops: {meta['loops']}\n")
    for mode, title in (("train", "Training step"), ("inference", "Inference")):
        if any(r["mode"] == mode for r in report["results"]):
            print(f"### {title}\n\n{table(report['results'], mode)}\n")


if __name__ == "__main__":
    main()
