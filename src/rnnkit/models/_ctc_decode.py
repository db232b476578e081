"""Decoding CTC outputs: best path (greedy) and prefix beam search (Hannun et al. 2014).

CTC (Graves et al. 2006) gives, per frame t, a distribution y_t over K outputs: the blank
(index ``BLANK`` = 0) and the labels. A path π (one output per frame) maps to a labelling by
``B``: merge repeated outputs, then drop blanks, so "a a _ a b b" -> "a a b" needs the blank to
keep the two a's apart. The probability of a labelling sums over its paths::

    p(l | x) = Σ_{π : B(π) = l} Π_t y_t[π_t]

Best path takes the most probable path and collapses it: ``B(argmax_k y_t[k] for each t)``; it
is fast and exact for the path, not for the labelling. Prefix beam search keeps, per frame, the
``beam`` most probable labelling prefixes ℓ, each with two probabilities (all in log space)::

    p_b(ℓ)   probability of the frames so far mapping to ℓ and ending in a blank
    p_nb(ℓ)  ... ending in ℓ's last label

and moves them one frame on with the outputs y = y_t (ℓ+c is ℓ extended by label c)::

    p_b'(ℓ)    += (p_b(ℓ) + p_nb(ℓ)) y[blank]          (D1) a blank keeps the prefix
    p_nb'(ℓ)   += p_nb(ℓ) y[last(ℓ)]                   (D2) repeating the last label merges into it
    p_nb'(ℓ+c) += (p_b(ℓ) + p_nb(ℓ)) y[c],  c != last  (D3) a new label extends it
    p_nb'(ℓ+c) += p_b(ℓ) y[c],              c == last  (D4) a repeat extends only after a blank

With a beam wide enough to keep every prefix (and no label pruned, ``min_prob=0``), this is exact:
p_b + p_nb of ℓ after the last frame is p(ℓ | x). With ``beam=1`` it agrees with best path when each
frame has a clear winner, and can differ (for the better) where it has not. No language model here
(Hannun et al.'s α, β terms are 0).
"""
from __future__ import annotations

import heapq
import math
from collections import defaultdict
from typing import NamedTuple

import torch
from torch import Tensor

BLANK = 0  # index of the CTC blank among the K outputs; label k is output k + 1
_NEG_INF = float("-inf")
MIN_PROB = 1e-4  # beam search tries no label less probable than this at a frame (see ctc_beam_hypotheses)


class Hypothesis(NamedTuple):
    """One labelling found by beam search: output indices without blanks, and log p(labels | x)."""

    labels: tuple[int, ...]
    log_prob: float


class _PrefixScore(NamedTuple):
    """log p_b and log p_nb of one prefix (see D1-D4)."""

    blank: float = _NEG_INF
    label: float = _NEG_INF

    @property
    def total(self) -> float:
        return log_add(self.blank, self.label)


def log_add(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) without overflow, and exact when either is -inf (probability 0)."""
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def ctc_greedy_decode(log_probs: Tensor, lengths: Tensor, blank: int = BLANK) -> list[list[int]]:
    """Best path decoding of a padded batch: log_probs (B, T, K), lengths (B,) -> output indices.

    Each result lists output indices (blank removed), so with ``blank=0`` label k reads k + 1.
    """
    best = log_probs.argmax(dim=-1)  # (B, T)
    previous = torch.cat([torch.full_like(best[:, :1], blank), best[:, :-1]], dim=1)  # (B, T)
    keep = (best != blank) & (best != previous)  # (B, T) the first frame of every non-blank run
    lengths = lengths.to("cpu").tolist()
    return [best[b, :length][keep[b, :length]].tolist() for b, length in enumerate(lengths)]


def ctc_beam_hypotheses(log_probs: Tensor, beam: int = 8, blank: int = BLANK,
                        min_prob: float = MIN_PROB) -> list[Hypothesis]:
    """Prefix beam search over one sequence's log_probs (T, K): up to ``beam`` labellings, best first.

    A label whose probability at a frame is below ``min_prob`` is not tried there as an extension
    (D3, D4): on the peaked outputs of a trained model that skips most of the work. ``min_prob=0``
    tries every label, and with a wide beam the result is then exact.
    """
    if beam < 1:
        raise ValueError(f"beam must be at least 1, got {beam}")
    if log_probs.dim() != 2:
        raise ValueError(f"log_probs must be (T, K) for one sequence, got shape {tuple(log_probs.shape)}")
    cutoff = math.log(min_prob) if min_prob > 0 else _NEG_INF
    frames = log_probs.detach().to("cpu", torch.float64).tolist()  # T x [K]: Python floats are fast here
    beams = {(): _PrefixScore(blank=0.0)}  # the empty prefix, p = 1
    for y in frames:
        next_blank: defaultdict[tuple[int, ...], float] = defaultdict(lambda: _NEG_INF)  # log p_b'
        next_label: defaultdict[tuple[int, ...], float] = defaultdict(lambda: _NEG_INF)  # log p_nb'
        candidates = [c for c, y_c in enumerate(y) if c != blank and y_c > cutoff]
        for prefix, old in beams.items():
            whole = old.total
            last = prefix[-1] if prefix else None
            next_blank[prefix] = log_add(next_blank[prefix], whole + y[blank])  # (D1)
            if last is not None:
                next_label[prefix] = log_add(next_label[prefix], old.label + y[last])  # (D2)
            for c in candidates:
                reach = old.blank + y[c] if c == last else whole + y[c]  # (D4) / (D3)
                if reach > _NEG_INF:  # probability 0 makes no entry, so no impossible prefix
                    next_label[prefix + (c,)] = log_add(next_label[prefix + (c,)], reach)
        prefixes = dict.fromkeys([*next_blank, *next_label])  # both, in a fixed order (ties stay deterministic)
        scores = [(prefix, _PrefixScore(next_blank[prefix], next_label[prefix])) for prefix in prefixes]
        beams = dict(heapq.nlargest(beam, scores, key=lambda item: item[1].total))
    return [Hypothesis(prefix, score.total) for prefix, score in beams.items()]


def ctc_prefix_beam_search(log_probs: Tensor, beam: int = 8, blank: int = BLANK,
                           min_prob: float = MIN_PROB) -> list[int]:
    """The most probable labelling that prefix beam search finds in one sequence's log_probs (T, K)."""
    return list(ctc_beam_hypotheses(log_probs, beam, blank, min_prob)[0].labels)


def ctc_beam_decode(log_probs: Tensor, lengths: Tensor, beam: int = 8, blank: int = BLANK) -> list[list[int]]:
    """Prefix beam search over a padded batch: log_probs (B, T, K), lengths (B,) -> output indices."""
    lengths = lengths.to("cpu").tolist()
    return [ctc_prefix_beam_search(log_probs[b, :length], beam, blank) for b, length in enumerate(lengths)]
