"""One self-contained HTML report: inline CSS, images as base64 data URIs, no scripts.

A report is a title and a list of ``Section``s; a section is a heading and a list of blocks::

    write_report(out / "report.html", "LSTM on digits", [
        Section("Summary", [Summary({"test accuracy": 0.9712, "epochs": 30})]),
        Section("Training", [Figure(out / "curves.png", "Loss and accuracy per epoch")]),
        Section("Configuration", [KeyValues(config)]),
    ])

Every piece of text is HTML-escaped; only ``Html`` blocks are inserted as they are (use them for
markup this package made, such as ``results_table_html``).
"""
from __future__ import annotations

import base64
import datetime
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from .._atomic import write_text_atomic
from ._format import format_value, is_numeric
from ._tables import key_value_table_html, table_html
from ._theme import CSS

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}


@dataclass(frozen=True)
class Summary:
    """Key figures shown as cards: ``{"test accuracy": 0.97, "epochs": 30}``."""

    items: Mapping[str, Any]


@dataclass(frozen=True)
class Figure:
    """An image file, embedded as a data URI, with a caption under it."""

    path: str | os.PathLike
    caption: str = ""
    alt: str = ""  # text for screen readers; the caption (or file name) when empty


@dataclass(frozen=True)
class Table:
    """Rows of dicts as a table; ``collapsed`` folds it under its caption (long tables)."""

    rows: Sequence[Mapping[str, Any]]
    columns: Sequence[str] | None = None  # every key, in order of first appearance, when None
    caption: str = ""
    collapsed: bool = False


@dataclass(frozen=True)
class KeyValues:
    """Settings as a two-column table; nested mappings become dotted keys."""

    items: Mapping[str, Any]
    caption: str = ""


@dataclass(frozen=True)
class Html:
    """Trusted markup, inserted as it is."""

    markup: str


@dataclass(frozen=True)
class Preformatted:
    """Text shown as it is, whitespace and line breaks kept (generated samples), with a caption."""

    text: str
    caption: str = ""


Block = str | Summary | Figure | Table | KeyValues | Html | Preformatted  # a str is a paragraph


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: Sequence[Block] = field(default_factory=list)


def image_data_uri(path: str | os.PathLike) -> str:
    """The file at ``path`` as a ``data:`` URI, typed by its suffix."""
    path = Path(path)
    mime = IMAGE_TYPES.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"cannot embed {path.name}: not one of {', '.join(IMAGE_TYPES)}")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _summary(block: Summary) -> str:
    cards = "".join(
        f'<div class="card"><div class="label">{escape(str(key))}</div>'
        f'<div class="{"value" if is_numeric(value) else "value text"}">'
        f"{escape(format_value(str(key), value, thousands=True))}</div></div>"
        for key, value in block.items.items())
    return f'<div class="summary">{cards}</div>'


def _figure(block: Figure) -> str:
    alt = block.alt or block.caption or Path(block.path).stem
    caption = f"<figcaption>{escape(block.caption)}</figcaption>" if block.caption else ""
    return (f'<figure><img src="{image_data_uri(block.path)}" alt="{escape(alt)}">'
            f"{caption}</figure>")


def _table(markup: str, caption: str, collapsed: bool = False) -> str:
    wrapped = f'<div class="table-wrap">{markup}</div>'
    if collapsed:
        return f"<details><summary>{escape(caption or 'Table')}</summary>{wrapped}</details>"
    return wrapped + (f'<p class="caption">{escape(caption)}</p>' if caption else "")


def render_block(block: Block) -> str:
    """One block as HTML."""
    if isinstance(block, str):
        return f"<p>{escape(block)}</p>"
    if isinstance(block, Summary):
        return _summary(block)
    if isinstance(block, Figure):
        return _figure(block)
    if isinstance(block, Table):
        return _table(table_html(block.rows, block.columns), block.caption, block.collapsed)
    if isinstance(block, KeyValues):
        return _table(key_value_table_html(block.items), block.caption)
    if isinstance(block, Html):
        return block.markup
    if isinstance(block, Preformatted):
        caption = f'<p class="caption">{escape(block.caption)}</p>' if block.caption else ""
        return f"{caption}<pre>{escape(block.text)}</pre>"
    raise TypeError(f"not a report block: {type(block).__name__}")


def _slug(text: str, taken: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    unique, n = slug, 2
    while unique in taken:
        unique, n = f"{slug}-{n}", n + 1
    taken.add(unique)
    return unique


def render_report(title: str, sections: Sequence[Section], subtitle: str = "") -> str:
    """The whole report as one HTML string."""
    taken: set[str] = set()
    ids = [_slug(s.heading, taken) for s in sections]
    toc = ""
    if len(sections) > 2:
        links = "".join(f'<a href="#{i}">{escape(s.heading)}</a>'
                        for i, s in zip(ids, sections, strict=True))
        toc = f'<nav class="toc">{links}</nav>'
    body = "\n".join(
        f'<section id="{i}"><h2>{escape(s.heading)}</h2>\n'
        + "\n".join(render_block(b) for b in s.blocks) + "\n</section>"
        for i, s in zip(ids, sections, strict=True))
    sub = f'<p class="subtitle">{escape(subtitle)}</p>' if subtitle else ""
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<header><h1>{escape(title)}</h1>{sub}</header>\n{toc}\n{body}\n"
        f"<footer>Generated by rnnkit on {escape(stamp)}.</footer>\n</main>\n</body>\n</html>\n")


def write_report(path: str | os.PathLike, title: str, sections: Sequence[Section],
                 subtitle: str = "") -> Path:
    """Render the report and write it to ``path`` atomically; returns ``path``."""
    return write_text_atomic(path, render_report(title, sections, subtitle))
