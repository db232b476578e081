"""Result tables for the terminal, narrow enough for 80 columns (a pipe or a log file is 80 wide)."""
from __future__ import annotations

from rich import box
from rich.table import Table


def compact_table(*headers: str, numeric: tuple[str, ...] = (), title: str | None = None) -> Table:
    """A table ruled under its header only, one space between columns; ``numeric`` columns right-aligned."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=0, title=title, title_justify="left")
    for header in headers:
        table.add_column(header, justify="right" if header in numeric else "left", no_wrap=True)
    return table
