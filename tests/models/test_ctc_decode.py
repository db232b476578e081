"""CTC decoding against brute force: every path of a tiny output sequence enumerated and collapsed."""
import itertools
import math
from collections import defaultdict

import pytest
import torch

from rnnkit.models import ctc_beam_decode, ctc_beam_hypotheses, ctc_greedy_decode, ctc_prefix_beam_search


def collapse(path, blank=0):
    """B: merge repeats, then drop blanks."""
    merged = [k for t, k in enumerate(path) if t == 0 or k != path[t - 1]]
    return tuple(k for k in merged if k != blank)


def labelling_probs(log_probs):
    """p(l | x) for every labelling l, by summing the probability of every path (K^T of them)."""
    probs = log_probs.exp().tolist()
    T, K = log_probs.shape
    totals = defaultdict(float)
    for path in itertools.product(range(K), repeat=T):
        totals[collapse(path)] += math.prod(probs[t][k] for t, k in enumerate(path))
    return totals


def random_log_probs(T, K, seed, sharpness=1.0):
    generator = torch.Generator().manual_seed(seed)
    return torch.log_softmax(sharpness * torch.randn(T, K, generator=generator, dtype=torch.float64), dim=-1)


def peaked_log_probs(T, K, seed, peak=0.95):
    """Each frame puts `peak` on one random output, the rest spread evenly: a trained model's posteriors."""
    generator = torch.Generator().manual_seed(seed)
    winners = torch.randint(K, (T,), generator=generator)
    probs = torch.full((T, K), (1 - peak) / (K - 1), dtype=torch.float64)
    probs[torch.arange(T), winners] = peak
    return probs.log()


def test_greedy_collapses_the_best_path_and_ignores_padding():
    best = torch.tensor([[1, 1, 0, 1, 2, 2, 0, 3], [2, 0, 0, 2, 2, 1, 1, 1]])  # (B=2, T=8)
    log_probs = torch.nn.functional.one_hot(best, 4).double().add(0.1).log_softmax(-1)  # (2, 8, 4)
    assert ctc_greedy_decode(log_probs, torch.tensor([8, 5])) == [[1, 1, 2, 3], [2, 2]]


@pytest.mark.parametrize("seed", range(20))
def test_wide_beam_finds_the_most_probable_labelling_of_brute_force(seed):
    T, K = 1 + seed % 5, 2 + seed % 2
    log_probs = random_log_probs(T, K, seed)
    exact = labelling_probs(log_probs)
    best = max(exact, key=exact.get)
    # wider than the number of prefixes, and every label tried: no pruning at all
    hypotheses = ctc_beam_hypotheses(log_probs, beam=100, min_prob=0.0)
    assert hypotheses[0].labels == best
    assert ctc_prefix_beam_search(log_probs, beam=100) == list(best)  # the default label pruning changes nothing here
    for labels, log_prob in hypotheses:  # each score is the labelling's exact probability
        assert log_prob == pytest.approx(math.log(exact[labels]), rel=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_beam_of_one_equals_greedy_on_peaked_outputs(seed):
    log_probs = peaked_log_probs(30, 4, seed)
    greedy = ctc_greedy_decode(log_probs[None], torch.tensor([30]))[0]
    assert ctc_prefix_beam_search(log_probs, beam=1) == greedy


def test_beam_sums_alignments_where_greedy_follows_one_path():
    # frame 1: a .6, blank .4; frame 2: b .4, a .35, blank .25. Best path "a b" (p .24), but
    # "a" has p(aa) + p(a_) + p(_a) = .21 + .15 + .14 = .50.
    log_probs = torch.tensor([[0.4, 0.6, 0.0], [0.25, 0.35, 0.4]], dtype=torch.float64).log()  # (T, K) blank, a, b
    assert ctc_greedy_decode(log_probs[None], torch.tensor([2]))[0] == [1, 2]
    assert ctc_prefix_beam_search(log_probs, beam=1) == [1]
    assert ctc_prefix_beam_search(log_probs, beam=10) == [1]
    assert ctc_beam_hypotheses(log_probs, beam=10)[0].log_prob == pytest.approx(math.log(0.5))


def test_repeated_labels_survive_only_with_a_blank_between():
    apart = peaked_from([1, 1, 0, 1, 2])  # a a _ a b
    together = peaked_from([1, 1, 1, 2, 2])  # a a a b b
    for beam in (1, 8):
        assert ctc_prefix_beam_search(apart, beam) == [1, 1, 2]
        assert ctc_prefix_beam_search(together, beam) == [1, 2]
    assert ctc_greedy_decode(torch.stack([apart, together]), torch.tensor([5, 5])) == [[1, 1, 2], [1, 2]]


def peaked_from(outputs, K=3, peak=0.9):
    probs = torch.full((len(outputs), K), (1 - peak) / (K - 1), dtype=torch.float64)
    probs[torch.arange(len(outputs)), torch.tensor(outputs)] = peak
    return probs.log()


def test_long_sequences_stay_finite_in_log_space():
    log_probs = random_log_probs(3000, 3, seed=0, sharpness=0.1)  # p(any labelling) far below 1e-308
    best = ctc_beam_hypotheses(log_probs, beam=4)[0]
    assert math.isfinite(best.log_prob) and best.log_prob < -500


def test_batch_beam_decode_reads_each_sequence_up_to_its_length():
    log_probs = torch.stack([peaked_from([1, 0, 2, 2]), peaked_from([2, 1, 1, 1])])  # (B=2, T=4, K=3)
    assert ctc_beam_decode(log_probs, torch.tensor([4, 2]), beam=4) == [[1, 2], [2, 1]]


def test_beam_must_be_positive():
    with pytest.raises(ValueError, match="beam must be at least 1"):
        ctc_prefix_beam_search(random_log_probs(3, 3, 0), beam=0)
