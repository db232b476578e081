import csv

import pytest

from rnnkit.reports import RESULT_COLUMNS, cells_side_by_side, sort_results, write_results_csv
from rnnkit.reports._format import format_value

from ._support import no_temp_files

ROWS = [
    {"dataset": "vowels", "cell": "gru", "architecture": "GRU", "parameters": 3600,
     "train_accuracy": 0.97, "test_accuracy": 0.912345, "epochs": 8, "seconds": 20.04,
     "hidden_size": 32},
    {"dataset": "digits", "cell": "rnn", "architecture": "Elman, tanh", "parameters": 1200,
     "train_accuracy": 0.91, "test_accuracy": 0.85, "epochs": 10, "seconds": 12.36},
    {"dataset": "digits", "cell": "lstm", "architecture": 'LSTM "peephole"', "parameters": 4800,
     "train_accuracy": 0.99999, "test_accuracy": 0.95, "epochs": 10, "seconds": 40.0,
     "note": "extra"},
    {"dataset": "digits", "cell": "gru", "architecture": "GRU", "parameters": 3600,
     "train_accuracy": None, "test_accuracy": None, "epochs": 0, "seconds": 0.0},
]


def test_csv_round_trips(tmp_path):
    path = write_results_csv(ROWS, tmp_path / "results.csv")
    assert no_temp_files(tmp_path)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == [*RESULT_COLUMNS, "hidden_size", "note"]
        read = list(reader)
    assert [(r["dataset"], r["architecture"]) for r in read] == [
        ("digits", 'LSTM "peephole"'), ("digits", "Elman, tanh"), ("digits", "GRU"),
        ("vowels", "GRU")]
    first = read[0]
    assert first["test_accuracy"] == "0.9500" and first["train_accuracy"] == "1.0000"
    assert first["seconds"] == "40.0" and first["parameters"] == "4800"
    assert first["note"] == "extra" and first["hidden_size"] == ""
    assert read[1]["seconds"] == "12.4"
    assert read[2]["test_accuracy"] == "" and read[2]["train_accuracy"] == ""
    assert read[3]["test_accuracy"] == "0.9123" and read[3]["hidden_size"] == "32"
    assert float(read[3]["seconds"]) == pytest.approx(20.0)


def test_sort_is_stable_and_does_not_mutate():
    before = [dict(r) for r in ROWS]
    ordered = sort_results(ROWS)
    assert ROWS == before
    assert [r["test_accuracy"] for r in ordered] == [0.95, 0.85, None, 0.912345]


@pytest.mark.parametrize("column, value, text", [
    ("test_accuracy", 0.97123456, "0.9712"),
    ("val_loss", 1.234567, "1.2346"),
    ("seconds", 12.345, "12.3"),
    ("train_seconds", 3.0, "3.0"),
    ("parameters", 123456, "123456"),
    ("lr", 0.00123456, "0.001235"),
    ("bidirectional", True, "True"),
    ("cell", "lstm", "lstm"),
    ("test_accuracy", None, ""),
    ("test_accuracy", float("nan"), "nan"),
])
def test_format_value(column, value, text):
    assert format_value(column, value) == text


def test_format_value_thousands():
    assert format_value("parameters", 1234567, thousands=True) == "1,234,567"


def test_cells_side_by_side_pairs_each_architecture_and_averages():
    rows = [
        {"dataset": "digits", "cell": "rnn", "architecture": "64", "test_accuracy": 0.90},
        {"dataset": "digits", "cell": "lstm", "architecture": "64", "test_accuracy": 0.96},
        {"dataset": "digits", "cell": "rnn", "architecture": "64-32", "test_accuracy": 0.80},
        {"dataset": "digits", "cell": "lstm", "architecture": "64-32", "test_accuracy": 0.94},
        {"dataset": "digits", "cell": "gru", "architecture": "64 cho", "test_accuracy": 0.97},
        {"dataset": "strokes", "cell": "rnn", "architecture": "64", "test_accuracy": None},  # a failed run
    ]
    table = cells_side_by_side(rows)
    assert [(r["dataset"], r["architecture"]) for r in table] == [
        ("digits", "64"), ("digits", "64-32"), ("digits", "64 cho"), ("digits", "mean"), ("strokes", "64")]
    assert table[0] == {"dataset": "digits", "architecture": "64", "rnn_accuracy": 0.90,
                        "lstm_accuracy": 0.96, "gru_accuracy": None}
    mean = table[3]
    assert mean["rnn_accuracy"] == pytest.approx(0.85) and mean["lstm_accuracy"] == pytest.approx(0.95)
    assert mean["gru_accuracy"] == pytest.approx(0.97), "a cell's mean counts only the architectures it ran"
    assert table[4]["rnn_accuracy"] is None


def test_cells_side_by_side_averages_seeds_with_their_spread():
    rows = [{"dataset": "d", "cell": cell, "architecture": "64", "test_accuracy": acc, "seed": seed}
            for cell, acc, seed in [("rnn", 0.70, 0), ("rnn", 0.80, 1), ("lstm", 0.90, 0), ("lstm", 0.90, 1),
                                    ("lstm", None, 2)]]
    (row,) = cells_side_by_side(rows)
    assert row["rnn_accuracy"] == pytest.approx(0.75) and row["rnn_sd"] == pytest.approx(0.0707107, rel=1e-5)
    assert row["lstm_accuracy"] == pytest.approx(0.90) and row["lstm_sd"] == pytest.approx(0.0)
    assert format_value("rnn_sd", row["rnn_sd"]) == "0.0707"
    assert "rnn_sd" not in cells_side_by_side([{k: v for k, v in r.items() if k != "seed"} for r in rows][:2])
