"""plot_posteriors: per-frame label probabilities over time, CTC blank apart."""
import numpy as np
import pytest

from rnnkit.reports import plot_posteriors


def test_posteriors_of_ctc_and_tagger_outputs_are_drawn_to_png(tmp_path):
    rng = np.random.default_rng(0)
    ctc = [rng.dirichlet(np.ones(4), size=t) for t in (20, 35)]  # (T, 3 labels + blank)
    path = plot_posteriors(ctc, tmp_path / "ctc.png", ["a", "b", "c"], blank=0, titles=["one", "two"])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tagger = [rng.dirichlet(np.ones(3), size=10)]
    assert plot_posteriors(tagger, tmp_path / "tag.png", ["a", "b", "c"]).stat().st_size > 0


def test_posteriors_of_the_wrong_width_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"expected \(T, 4\)"):
        plot_posteriors([np.ones((5, 3))], tmp_path / "x.png", ["a", "b", "c"], blank=0)
    with pytest.raises(ValueError, match="no posteriors"):
        plot_posteriors([], tmp_path / "x.png", ["a"])
