import numpy as np
import pytest

from rnnkit.reports import plot_attention_maps

from ._support import assert_png, no_temp_files


def test_attention_maps_png(tmp_path):
    rng = np.random.default_rng(0)
    words, phonemes = ["phone", "tomato", "x"], [["F", "OW", "N"], ["T", "AH", "M", "EY", "T", "OW"], ["EH", "K", "S"]]
    weights = [rng.dirichlet(np.ones(len(w)), size=len(p)) for w, p in zip(words, phonemes)]  # rows sum to 1
    path = plot_attention_maps(weights, [list(w) for w in words], phonemes, tmp_path / "attention.png", titles=words)
    assert path == tmp_path / "attention.png"
    assert_png(path)
    assert no_temp_files(tmp_path)


def test_four_maps_wrap_onto_a_second_row(tmp_path):
    maps = [np.eye(3)] * 4
    assert_png(plot_attention_maps(maps, [list("abc")] * 4, [["A", "B", "C"]] * 4, tmp_path / "four.png"))


@pytest.mark.parametrize("weights, sources, targets, message", [
    ([np.ones((2, 3))], [list("ab")], [["A", "B"]], r"shape \(2, 3\); expected \(outputs, inputs\) = \(2, 2\)"),
    ([np.ones((0, 2))], [list("ab")], [[]], "empty"),
    ([np.ones((1, 1))], [list("a"), list("b")], [["A"]], "1 weight matrices for 2 sources"),
    ([], [], [], "no attention weights"),
])
def test_mismatched_inputs_are_refused(tmp_path, weights, sources, targets, message):
    with pytest.raises(ValueError, match=message):
        plot_attention_maps(weights, sources, targets, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()
