"""Beam search for `Seq2Seq`, with GNMT length normalisation.

A hypothesis Y (its tokens and the final </s>) scores

    score(Y) = log p(Y | x) / lp(Y),    lp(Y) = ((5 + |Y|) / 6)^α      (Wu et al. 2016, GNMT)

with |Y| counting </s>. α = 0 is the plain log-probability, which favours short outputs; α near
1 divides by about the length; GNMT uses α = 0.6 to 0.7.

Each step, for every source, the 2K best one-token extensions of its K live hypotheses are
ranked (fairseq's rule): those that end in </s> within the first K are finished (scored by
the formula above); the K best that do not end stay alive. A source is done when K of its
hypotheses have finished, or when no live hypothesis can still beat its best finished one
(exact: log p only falls as a hypothesis grows, and lp is at most lp of the longest allowed
length). The answer is the best finished hypothesis. Consequences, each tested:

* ``beam=1`` is greedy decoding (the first hypothesis to finish is the greedy one, and it ends the search);
* a beam as wide as the hypothesis space finishes every sequence, so it returns the best-scoring
  one, as enumerating them all would.

A hypothesis that reaches ``max_length`` tokens is ended with </s> (as in greedy decoding).
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..data._pairs import BOS, EOS, PAD
from ._seq2seq import Decoded, Seq2Seq, decode_limits, force_end, select_rows


def length_penalty(length: int | Tensor, alpha: float) -> Tensor:
    """lp = ((5 + |Y|) / 6)^α, |Y| counting </s>."""
    return ((5.0 + torch.as_tensor(length, dtype=torch.float64)) / 6.0) ** alpha


@torch.no_grad()
def beam_search(model: Seq2Seq, src: Tensor, src_lengths: Tensor, beam: int = 5,
                max_length: int | Tensor | None = None, alpha: float = 0.0) -> Decoded:
    """The best hypothesis per source by beam search (module docstring); ``scores`` are the normalised ones.

    ``max_length``: most tokens (not counting </s>), an int or one per source; default as greedy decoding.
    """
    if beam < 1:
        raise ValueError(f"beam must be at least 1, got {beam}")
    if alpha < 0:
        raise ValueError(f"alpha must be 0 or more (0: no length normalisation), got {alpha}")
    B, K, device = src.shape[0], beam, src.device
    encoded, state = model.encode(src, src_lengths)
    limits = decode_limits(max_length, encoded.lengths)  # (B,)
    L = int(limits.max())
    rows = torch.arange(B, device=device).repeat_interleave(K)  # (B*K,) hypothesis k of source b at b*K + k
    encoded, state, row_limits = select_rows(encoded, rows), select_rows(state, rows), limits[rows]
    S, dtype = encoded.memory.shape[1], encoded.memory.dtype

    alive = torch.full((B, K), float("-inf"), dtype=dtype, device=device)  # (B, K) log p of the live hypotheses
    alive[:, 0] = 0.0  # one live hypothesis (<s>) to start with
    history = torch.empty(B * K, 0, dtype=torch.long, device=device)  # (B*K, t) tokens so far
    attention = torch.empty(B * K, 0, S, dtype=dtype, device=device)  # (B*K, t, S)
    tokens = torch.full((B * K,), BOS, dtype=torch.long, device=device)
    best = torch.full((B,), float("-inf"), dtype=torch.float64, device=device)  # best finished score
    best_tokens = torch.full((B, L), PAD, dtype=torch.long, device=device)
    best_attention = torch.zeros(B, L, S, dtype=dtype, device=device)
    finished = torch.zeros(B, dtype=torch.long, device=device)
    done = torch.zeros(B, dtype=torch.bool, device=device)
    for t in range(L + 1):  # t tokens emitted so far
        out = model.step(tokens, state, encoded)
        log_probs = force_end(model.next_log_probs(out.logits), row_limits == t)  # (B*K, V)
        V = log_probs.shape[1]
        candidates = (alive.reshape(B * K, 1) + log_probs).reshape(B, K * V)  # (B, K*V)
        top, index = candidates.topk(min(2 * K, K * V), dim=1)  # (B, 2K) best first
        origin, token = index // V, index % V  # (B, 2K) the extended hypothesis and the new token
        is_end = token == EOS
        rank = torch.arange(top.shape[1], device=device)  # (2K,)

        # finish the hypotheses that end among the first K
        ending = is_end & (rank < K) & torch.isfinite(top) & ~done[:, None]  # (B, 2K)
        normalised = torch.where(ending, top.double() / length_penalty(t + 1, alpha), float("-inf"))
        score, pick = normalised.max(dim=1)  # (B,)
        better = score > best
        if bool(better.any()):
            source_row = torch.arange(B, device=device) * K + origin.gather(1, pick[:, None])[:, 0]  # (B,)
            best = torch.where(better, score, best)
            best_tokens[better] = PAD
            best_tokens[better, :t] = history[source_row[better]]
            best_attention[better] = 0.0
            best_attention[better, :t] = attention[source_row[better]]
        finished += ending.sum(dim=1)

        # keep the K best that do not end
        kept, slot = top.masked_fill(is_end, float("-inf")).topk(K, dim=1)  # (B, K)
        alive = kept
        chosen = torch.arange(B, device=device)[:, None] * K + origin.gather(1, slot)  # (B, K) rows extended
        chosen = chosen.reshape(B * K)
        tokens = token.gather(1, slot).reshape(B * K)
        history = torch.cat([history[chosen], tokens[:, None]], dim=1)  # (B*K, t+1)
        attention = torch.cat([attention[chosen], out.weights[chosen][:, None]], dim=1)  # (B*K, t+1, S)
        state = select_rows(out.state, chosen)

        # done: K finished, or no live hypothesis can beat the best finished one
        bound = alive.max(dim=1).values.double() / length_penalty(limits + 1, alpha)  # (B,)
        done = done | (finished >= K) | (best >= bound)
        if bool(done.all()):
            break
    lengths = (best_tokens != PAD).sum(dim=1)  # (B,)
    width = int(lengths.max())
    return Decoded(best_tokens[:, :width], lengths, best_attention[:, :width], best.to(dtype))
