"""``rnnkit datasets``: the bundled data sets, their size and source."""
from __future__ import annotations

import argparse

from rich.console import Console

from ..data import list_datasets
from ._tables import compact_table

DESCRIPTION = "List the real data sets bundled with rnnkit (usable as --data NAME), with size and source."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--long", action="store_true", help="also print each data set's description")


def run(args: argparse.Namespace) -> int:
    table = compact_table("name", "task", "size", "classes", "features", "on disk",
                          numeric=("classes", "features", "on disk"))
    infos = list_datasets()
    for info in infos:
        table.add_row(info.name, info.kind, f"{info.count:,} {info.unit}", _or_dash(info.classes),
                      _or_dash(info.features), f"{info.size_bytes / 1024:,.0f} KiB" if info.size_bytes else "made")
    console = Console()
    console.print(table)
    for info in infos:
        console.print(f"[bold]{info.name}[/]: {info.source}" + (f"\n  {info.description}" if args.long else ""))
    return 0


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)
