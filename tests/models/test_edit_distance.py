"""Edit distance against hand-counted cases, and error rates as corpus totals."""
import itertools

import pytest

from rnnkit.models import edit_distance, error_rate


@pytest.mark.parametrize("reference, hypothesis, expected", [
    ("", "", 0),
    ("abc", "", 3),  # three deletions
    ("", "ab", 2),  # two insertions
    ("kitten", "sitting", 3),  # k->s, e->i, +g
    ("flaw", "lawn", 2),  # -f, +n
    (["K", "AE", "T"], ["K", "AH", "T"], 1),  # one phoneme substituted
    ([1, 1, 2], [1, 2], 1),  # a repeated label dropped
])
def test_edit_distance_matches_hand_counts(reference, hypothesis, expected):
    assert edit_distance(reference, hypothesis) == expected
    assert edit_distance(hypothesis, reference) == expected  # symmetric


def _brute_force_distance(a, b):
    """Shortest path by breadth-first search over single edits (alphabet of a and b): tiny cases only."""
    alphabet = sorted(set(a) | set(b))
    frontier, seen, steps = {tuple(a)}, {tuple(a)}, 0
    while tuple(b) not in frontier:
        nxt = set()
        for s in frontier:
            for i in range(len(s) + 1):
                nxt.update(s[:i] + (c,) + s[i:] for c in alphabet)  # insertions
                if i < len(s):
                    nxt.add(s[:i] + s[i + 1:])  # deletion
                    nxt.update(s[:i] + (c,) + s[i + 1:] for c in alphabet)  # substitutions
        frontier = nxt - seen
        seen |= nxt
        steps += 1
    return steps


def test_edit_distance_equals_breadth_first_search_on_every_short_pair():
    words = ["".join(w) for n in range(4) for w in itertools.product("ab", repeat=n)]
    for a, b in itertools.product(words, repeat=2):
        assert edit_distance(a, b) == _brute_force_distance(a, b), (a, b)


def test_error_rate_is_total_distance_over_total_reference_length():
    # distances 1 and 0 over reference lengths 2 and 8: 1/10, not the mean of 1/2 and 0/8
    assert error_rate([["a", "b"], list("abcdefgh")], [["a"], list("abcdefgh")]) == pytest.approx(0.1)


def test_error_rate_refuses_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        error_rate([["a"], ["b"]], [["a"]])
    with pytest.raises(ValueError, match="at least one reference item"):
        error_rate([[]], [["a"]])
