"""Beam search: beam 1 is greedy, a full-width beam finds what brute force finds, padding changes nothing."""
import itertools

import pytest
import torch

from rnnkit.data import BOS, EOS, PAD, collate_pairs
from rnnkit.models import Encoded, Seq2Seq, StepOutput, beam_search, length_penalty

SOURCES = [[3, 4, 5, 3], [5, 4]]


def make(seed: int, target_vocab_size: int = 9, **settings) -> Seq2Seq:
    torch.manual_seed(seed)
    model = Seq2Seq(source_vocab_size=6, target_vocab_size=target_vocab_size, embedding=8, encoder_hidden=[8],
                    decoder_hidden=16, dropout=0.0, **settings).double().eval()
    with torch.no_grad():  # larger decoder weights: peaked next-token distributions that depend on the prefix
        for name, p in model.named_parameters():
            if name.split(".")[0] in ("target_embedding", "decoder", "combine", "output"):
                p.mul_(4.0)
    return model


def sources():
    batch = collate_pairs(SOURCES)
    return batch.src, batch.src_lengths


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.0, 0.6])
@pytest.mark.parametrize("input_feeding", [False, True])
def test_beam_1_equals_greedy(seed, alpha, input_feeding):
    model = make(seed, input_feeding=input_feeding)
    src, src_lengths = sources()
    greedy = model.greedy_decode(src, src_lengths, max_length=7)
    beam = beam_search(model, src, src_lengths, beam=1, max_length=7, alpha=alpha)
    assert beam.lengths.tolist() == greedy.lengths.tolist()
    for b, n in enumerate(greedy.lengths.tolist()):
        assert beam.tokens[b, :n].tolist() == greedy.tokens[b, :n].tolist()
        torch.testing.assert_close(beam.weights[b, :n], greedy.weights[b, :n])
    torch.testing.assert_close(beam.scores, greedy.scores / length_penalty(greedy.lengths + 1, alpha))


def brute_force(model: Seq2Seq, src, src_lengths, max_length: int, alpha: float):
    """Score every sequence of at most max_length tokens followed by </s>, by a teacher-forced pass."""
    tokens = [t for t in range(model.config.target_vocab_size) if not model.never_emitted[t] and t != EOS]
    candidates = [list(c) for n in range(max_length + 1) for c in itertools.product(tokens, repeat=n)]
    best = []
    for b in range(src.shape[0]):
        batch = collate_pairs([src[b, :src_lengths[b]].tolist()] * len(candidates), candidates)
        with torch.no_grad():
            log_probs = model.next_log_probs(model(batch.src, batch.src_lengths, batch.tgt_in))  # (N, T, V)
        scores = []
        for i, candidate in enumerate(candidates):
            n = len(candidate)
            steps = log_probs[i, torch.arange(n + 1), batch.tgt_out[i, :n + 1]]  # log p of each token and </s>
            if n == max_length:
                steps = steps[:n]  # at the length limit </s> is forced (probability 1)
            scores.append(float(steps.sum() / length_penalty(n + 1, alpha)))
        top = max(range(len(candidates)), key=scores.__getitem__)
        best.append((candidates[top], scores[top], len(candidates)))
    return best


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.5])
def test_beam_as_wide_as_the_hypothesis_space_finds_the_brute_force_best(seed, alpha):
    model = make(seed, target_vocab_size=6)  # 2 tokens and </s> can be emitted
    src, src_lengths = sources()
    expected = brute_force(model, src, src_lengths, max_length=4, alpha=alpha)
    width = expected[0][2]  # 1 + 2 + 4 + 8 + 16 = 31 sequences
    beam = beam_search(model, src, src_lengths, beam=width, max_length=4, alpha=alpha)
    for b, (tokens, score, _) in enumerate(expected):
        assert beam.tokens[b, :beam.lengths[b]].tolist() == tokens
        assert float(beam.scores[b]) == pytest.approx(score, rel=1e-9)


class TableModel:
    """A stand-in for Seq2Seq with the same step interface: a random next-token distribution for
    every prefix, with </s> unlikely at first, so that the best sequence can have any length."""

    def __init__(self, seed: int, eos_bias: tuple[float, float] = (-4.0, 4.0), vocab_size: int = 7,
                 max_length: int = 3) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.V = vocab_size
        rows = vocab_size ** (max_length + 1)  # more than the prefixes of up to max_length tokens
        self.logits = 2.0 * torch.randn(rows, vocab_size, generator=generator, dtype=torch.float64)
        self.logits[:, EOS] += torch.linspace(*eos_bias, max_length + 1)[self.depths(max_length)]  # by prefix length
        self.never_emitted = torch.zeros(vocab_size, dtype=torch.bool)
        self.never_emitted[[PAD, BOS]] = True

    def depths(self, max_length: int) -> torch.Tensor:
        """The length of the prefix each table row stands for (rows numbered as in `step`)."""
        ids = torch.arange(self.V ** (max_length + 1))
        depth = torch.zeros_like(ids)
        for d in range(1, max_length + 1):
            depth[ids >= sum(self.V ** k for k in range(d))] = d
        return depth

    def encode(self, src, src_lengths):
        B = src.shape[0]
        memory = torch.zeros(B, 1, 1, dtype=torch.float64)
        return Encoded(memory, memory, src_lengths), src[:, 0] * 0  # state: the prefix's row, 0 for the empty one

    def step(self, tokens, state, encoded):
        if bool((tokens == BOS).all()):
            row = state
        else:
            row = state * self.V + tokens + 1  # a distinct row per prefix, children after their parent
        return StepOutput(self.logits[row], row, torch.ones(len(row), 1, dtype=torch.float64))

    def next_log_probs(self, logits):
        return torch.log_softmax(logits.masked_fill(self.never_emitted, float("-inf")), dim=-1)

    def score(self, sequence, alpha):
        row, total = torch.zeros(1, dtype=torch.long), 0.0
        tokens = torch.tensor([BOS])
        for i, token in enumerate(sequence + [EOS]):
            out = self.step(tokens, row, None)
            log_probs = self.next_log_probs(out.logits)[0]
            total += 0.0 if i == 3 else float(log_probs[token])  # </s> is forced at the limit
            row, tokens = out.state, torch.tensor([token])
        return total / float(length_penalty(len(sequence) + 1, alpha))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha", [0.0, 0.7, 2.0])
@pytest.mark.parametrize("eos_bias", [(-4.0, 4.0), (0.0, 0.0), (2.0, 2.0)])  # </s> ever likelier, or alike
def test_full_width_beam_finds_the_best_sequence_of_any_length(seed, alpha, eos_bias):
    table = TableModel(seed, eos_bias)
    tokens = [t for t in range(table.V) if t not in (PAD, BOS, EOS)]  # 4 tokens
    candidates = [list(c) for n in range(4) for c in itertools.product(tokens, repeat=n)]  # 85 sequences
    scores = [table.score(c, alpha) for c in candidates]
    best = max(range(len(candidates)), key=scores.__getitem__)
    beam = beam_search(table, torch.tensor([[3]]), torch.tensor([1]), beam=len(candidates), max_length=3, alpha=alpha)
    assert beam.tokens[0, :beam.lengths[0]].tolist() == candidates[best]
    assert float(beam.scores[0]) == pytest.approx(scores[best], rel=1e-9)


def test_wider_beams_change_the_answer_somewhere():
    """Guards the tests above against a model so peaked that every search agrees."""
    src, src_lengths = sources()
    differs = []
    for seed in range(4):
        model = make(seed, target_vocab_size=6)
        greedy = beam_search(model, src, src_lengths, beam=1, max_length=4, alpha=0.6)
        wide = beam_search(model, src, src_lengths, beam=31, max_length=4, alpha=0.6)
        assert torch.all(wide.scores >= greedy.scores - 1e-12)  # the full search is never worse
        differs.append(not torch.equal(wide.scores, greedy.scores))
    assert any(differs)


@pytest.mark.parametrize("beam", [1, 3])
def test_padded_batch_searches_each_source_as_alone(beam):
    model = make(0, attention="additive")
    src, src_lengths = sources()
    src = src.clone()
    src[1, 2:] = 5  # tokens in the padding must be ignored
    together = beam_search(model, src, src_lengths, beam=beam, max_length=6, alpha=0.6)
    for b, source in enumerate(SOURCES):
        alone = beam_search(model, torch.tensor([source]), torch.tensor([len(source)]), beam=beam, max_length=6,
                            alpha=0.6)
        n = int(alone.lengths[0])
        assert together.tokens[b, :n].tolist() == alone.tokens[0, :n].tolist() and together.lengths[b] == n
        torch.testing.assert_close(together.scores[b], alone.scores[0])


def test_length_penalty_by_hand():
    assert float(length_penalty(3, 0.0)) == 1.0
    assert float(length_penalty(3, 0.6)) == pytest.approx((8 / 6) ** 0.6)
    with pytest.raises(ValueError, match="beam must be at least 1"):
        beam_search(make(0), *sources(), beam=0)


def test_table_model_optima_vary_in_length_and_greedy_misses_some():
    """Guards the test above: the optima are of several lengths, and not all found greedily."""
    lengths, misses = set(), 0
    for seed in range(6):
        table = TableModel(seed)
        full = beam_search(table, torch.tensor([[3]]), torch.tensor([1]), beam=85, max_length=3)
        greedy = beam_search(table, torch.tensor([[3]]), torch.tensor([1]), beam=1, max_length=3)
        lengths.add(int(full.lengths[0]))
        misses += bool(full.scores[0] > greedy.scores[0])
    assert len(lengths) >= 2 and misses >= 1
