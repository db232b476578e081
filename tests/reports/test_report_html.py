import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from rnnkit.reports import (Figure, Html, KeyValues, Section, Summary, Table, confusion_matrix,
                            plot_confusion, plot_curves, render_report, results_table_html,
                            write_comparison_report, write_report, write_run_report)

from ._support import make_history, no_temp_files

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}
EVIL = "<script>alert('x')</script>"


class Page(HTMLParser):
    """Checks that every tag closes in order, and collects tags, text and attributes."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()
        assert not self.stack, f"unclosed tags: {self.stack}"

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag):
        return [attrs for t, attrs in self.tags if t == tag]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def rows():
    return [
        {"dataset": "digits", "cell": "rnn", "architecture": "Elman", "parameters": 1200,
         "train_accuracy": 0.91, "test_accuracy": 0.85, "epochs": 10, "seconds": 12.34},
        {"dataset": "digits", "cell": "lstm", "architecture": EVIL, "parameters": 4800,
         "train_accuracy": 0.99, "test_accuracy": 0.95, "epochs": 10, "seconds": 40.0},
        {"dataset": "vowels", "cell": "gru", "architecture": "GRU", "parameters": 3600,
         "train_accuracy": 0.97, "test_accuracy": 0.93, "epochs": 8, "seconds": 20.0},
        {"dataset": "vowels", "cell": "lstm", "architecture": "LSTM", "parameters": 4800,
         "train_accuracy": 0.96, "test_accuracy": 0.93, "epochs": 8, "seconds": 22.0},
        {"dataset": "vowels", "cell": "rnn", "architecture": "failed", "parameters": 1200,
         "train_accuracy": None, "test_accuracy": None, "epochs": 0, "seconds": 0.5},
    ]


@pytest.fixture
def figures(tmp_path):
    curves = plot_curves(make_history(), tmp_path / "curves.png")
    cm = plot_confusion(np.array([[3, 1], [0, 4]]), ["yes", "no"], tmp_path / "cm.png")
    return [Figure(curves, caption="Loss and accuracy"), Figure(cm, caption="Confusion <b>")]


def test_report_parses_escapes_and_embeds(tmp_path, figures):
    sections = [
        Section("Summary", [Summary({"test accuracy": 0.9712, "model": EVIL})]),
        Section("Figures", figures),
        Section(f"Notes {EVIL}", [f"A paragraph with {EVIL}.",
                                  Table([{"name": EVIL, "value": 1}], caption="small"),
                                  KeyValues({"model": {"cell": "lstm", "hidden": 64},
                                             "clip": 1.0, "lr": 0.000123456789}),
                                  Html("<p class='mine'>trusted</p>")]),
    ]
    path = write_report(tmp_path / "report.html", f"Run {EVIL}", sections, subtitle="sub")
    html = path.read_text(encoding="utf-8")
    page = Page(html)

    assert "<script" not in html.lower() and "&lt;script&gt;" in html
    assert page.all("title") and f"Run {EVIL}" in page.words
    assert "0.9712" in page.words and "model.cell lstm" in page.words
    assert "model.hidden 64" in page.words
    assert "clip 1.0" in page.words and "lr 0.000123456789" in page.words  # settings unrounded
    assert "Confusion <b>" in page.words and not page.all("b")  # caption escaped
    assert page.all("p") and {"class": "mine"} in page.all("p")

    images = page.all("img")
    assert len(images) == 2
    for attrs, figure in zip(images, figures, strict=True):
        assert attrs["src"].startswith("data:image/png;base64,")
        embedded = base64.b64decode(attrs["src"].split(",", 1)[1])
        assert embedded == figure.path.read_bytes()
        assert attrs["alt"]
    links = [a["href"] for a in page.all("a")]
    assert links and all(href.startswith("#") for href in links)  # nothing outside the file
    assert no_temp_files(tmp_path)


def test_section_ids_are_unique():
    html = render_report("t", [Section("Same"), Section("Same"), Section("!!!")])
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert ids == ["same", "same-2", "section"]


def test_bad_blocks_raise(tmp_path):
    with pytest.raises(TypeError, match="not a report block"):
        render_report("t", [Section("s", [42])])
    (tmp_path / "data.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match="cannot embed"):
        render_report("t", [Section("s", [Figure(tmp_path / "data.bin")])])


def test_results_table_sorted_with_best_per_dataset():
    page = Page(results_table_html(rows()))
    body = [r for r in page.all("tr")][1:]  # skip the header row
    assert len(body) == 5
    text = page.words
    order = [text.index(name) for name in (EVIL, "Elman", "GRU", "LSTM", "failed")]
    assert order == sorted(order)  # dataset, then test accuracy descending, missing last
    classes = [r.get("class", "") for r in body]
    assert ["best" in c for c in classes] == [True, False, True, True, False]  # a tie: both
    assert ["group-start" in c for c in classes] == [True, False, True, False, False]
    assert "4,800" in text and "0.9500" in text and "40.0" in text
    assert "<script" not in results_table_html(rows())


def test_results_table_carries_extra_columns():
    extra = [dict(rows()[0], hidden_size=64, note="x & y")]
    html = results_table_html(extra)
    assert "hidden size" in html and "x &amp; y" in html


def test_run_report(tmp_path, figures):
    cm = confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], 2)
    history = make_history()
    path = write_run_report(
        tmp_path / "run" / "report.html", "LSTM run",
        metrics={"test_accuracy": 0.75, "train_accuracy": 0.9, "epochs": 6, "seconds": 9.0,
                 "train_losses": [1.0, 0.5], "device": "cpu"},
        config={"model": {"cell": "lstm"}, "lr": 0.001}, history=history, figures=figures,
        confusion=cm, class_names=["left", EVIL], monitor="val_loss")
    page = Page(path.read_text(encoding="utf-8"))
    words = page.words
    for heading in ("Summary", "Figures", "Per-class scores", "Other metrics", "Configuration",
                    "Epochs"):
        assert heading in [t for t in page.text]
    assert "best epoch (val loss)" in words and "macro average" in words and "device cpu" in words
    assert "train_losses" not in words  # lists are not key figures
    assert len(page.all("img")) == 2 and page.all("details")
    assert "<script" not in path.read_text().lower()


def test_run_report_without_validation_or_figures(tmp_path):
    path = write_run_report(tmp_path / "r.html", "bare", metrics={"test_accuracy": 0.5},
                            config={}, history=make_history(validation=False))
    page = Page(path.read_text(encoding="utf-8"))
    assert "best epoch" not in page.words and not page.all("img")
    assert "val loss" not in page.words  # empty columns are dropped from the epoch table


def test_comparison_report(tmp_path, figures):
    path = write_comparison_report(tmp_path / "compare.html", rows(), figures=figures[:1],
                                   config={"grid": {"cells": ["rnn", "lstm"]}})
    page = Page(path.read_text(encoding="utf-8"))
    assert "best run on digits" in page.words and "best run on vowels" in page.words
    assert len(page.all("img")) == 1 and "grid.cells" in page.words
    assert "Cells side by side" in page.words and "lstm accuracy" in page.words
