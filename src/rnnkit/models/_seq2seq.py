"""Many-to-many of different lengths: an attentional encoder-decoder (Luong et al. 2015).

The encoder reads the source tokens x_1..x_S, the decoder writes the target y_1..y_n </s>::

    h_1..h_S = stack(E_x[x_1..x_S])                    (S1) any rnnkit stack, bidirectional by default
    s_0      = tanh(W_b [h→_S; h←_1] + b_b)             (S2) the stack's final states start the decoder (c_0 = 0)
    u_t      = E_y[y_{t-1}]   ([E_y[y_{t-1}]; õ_{t-1}] with input feeding, õ_0 = 0)      y_0 = <s>
    s_t      = cell(u_t, s_{t-1})                      (S3) an LSTM or GRU cell
    a_t, c_t = attention(s_t, h_1..h_S)                (S4) additive, dot or general, padding excluded
    õ_t      = tanh(W_c [c_t; s_t])                    (S5) the attentional vector
    p(y_t | y_<t, x) = softmax(W_s õ_t + b_s)          (S6)

Teacher forcing: in training, y_{t-1} in u_t is the target with probability ``teacher_forcing``
(per sequence and step), else the model's own most likely token at step t-1 (scheduled sampling,
Bengio et al. 2015, with the argmax rather than a sample, so ratio 0 decodes exactly as
`greedy_decode` does).

Speed: with full teacher forcing and no input feeding, the decoder inputs are all known, so (S3)
runs as one whole-sequence layer (torch's fused kernel under ``impl="auto"``) and (S4)-(S6) as
batched matrix products over all steps; otherwise the decoder steps the cell's equations with the
same weights (``rnnkit.cells.lstm_cell`` / ``gru_cell``).

Padding: source padding never reaches an encoder output, a final state or an attention weight;
target padding (`PAD`) comes after each sequence, so it cannot change an earlier, valid step, and
the loss skips it. Decoding never emits `PAD` or `<s>`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..cells import LSTMState, gru_cell, lstm_cell
from ..data._pairs import BOS, EOS, PAD, SPECIALS, PairBatch
from ._attention import ATTENTIONS, Attention
from ._settings import ModelSettings
from ._stack import CELLS, RecurrentStack, make_layer

DECODER_CELLS = ("lstm", "gru")


@dataclass(frozen=True)
class Seq2SeqConfig(ModelSettings):
    """Everything that defines a Seq2Seq; saved as JSON beside its weights."""

    source_vocab_size: int  # V_x, source tokens including `SPECIALS`
    target_vocab_size: int  # V_y, target tokens including `SPECIALS`
    embedding: int = 64  # E, width of the source and of the target token embeddings
    encoder_cell: str = "lstm"  # "rnn", "lstm" or "gru"
    encoder_hidden: tuple[int, ...] = (256,)  # width of each encoder layer (per direction), first to last
    bidirectional: bool = True  # a reverse direction in every encoder layer
    decoder_cell: str = "lstm"  # "lstm" or "gru"
    decoder_hidden: int = 256  # H, width of the decoder state s_t and of õ_t
    attention: str = "general"  # "additive" (Bahdanau), "dot" or "general" (Luong)
    attention_size: int = 0  # additive only: width A of v; 0 for H
    input_feeding: bool = False  # õ_{t-1} joins the decoder input (the decoder then always steps)
    dropout: float = 0.2  # on the embeddings, between encoder layers and on õ_t
    init: str = "torch"  # "torch" or "keras" initialisation of the recurrent weights
    impl: str = "auto"  # "auto", "kernel" or "reference", for the encoder and the teacher-forced decoder

    def __post_init__(self) -> None:
        self.check_types()
        for side in ("source_vocab_size", "target_vocab_size"):
            if getattr(self, side) <= len(SPECIALS):
                raise ValueError(f"{side} must count the {len(SPECIALS)} specials {list(SPECIALS)} and at "
                                 f"least one token, got {getattr(self, side)}")
        if self.encoder_cell not in CELLS:
            raise ValueError(f"encoder_cell must be one of {CELLS}, got {self.encoder_cell!r}")
        if self.decoder_cell not in DECODER_CELLS:
            raise ValueError(f"decoder_cell must be one of {DECODER_CELLS}, got {self.decoder_cell!r}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        if min(self.embedding, self.decoder_hidden, *self.encoder_hidden, 1) < 1 or not self.encoder_hidden:
            raise ValueError("embedding, decoder_hidden and every encoder_hidden width must be positive")
        if self.attention_size < 0:
            raise ValueError(f"attention_size must be 0 or positive, got {self.attention_size}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


class Encoded(NamedTuple):
    """The encoder's reading of a batch of sources, all the decoder needs of it."""

    memory: Tensor  # (B, S, K) h_1..h_S, zero at padded steps; K = D * last encoder width
    keys: Tensor  # (B, S, A|H|K) the attention's query-independent part (Attention.keys)
    lengths: Tensor  # (B,) valid source steps


class DecoderState(NamedTuple):
    cell: LSTMState | Tensor  # s_{t-1}: LSTMState(h, c) each (B, H), or the GRU's h (B, H)
    feed: Tensor  # (B, H) õ_{t-1} for input feeding (zeros before the first step)


class StepOutput(NamedTuple):
    logits: Tensor  # (B, V_y) the scores of (S6)
    state: DecoderState
    weights: Tensor  # (B, S) a_t


class Decoded(NamedTuple):
    tokens: Tensor  # (B, L) target ids, without </s>, PAD after each length
    lengths: Tensor  # (B,) tokens before </s>
    weights: Tensor  # (B, L, S) the attention of the step that emitted each token, zero after the length
    scores: Tensor  # (B,) log-probability of the tokens and </s>


def select_rows(tree: Any, index: Tensor) -> Any:
    """Rows ``index`` of every tensor in a (nested) named tuple: for a batch reordered by beam search."""
    if isinstance(tree, Tensor):
        return tree.index_select(0, index)
    return type(tree)(*(select_rows(t, index) for t in tree))


def default_max_lengths(src_lengths: Tensor) -> Tensor:
    """The most target tokens decoding may emit per source (B,): 2 S + 10 ("w" -> D AH B AH L Y UW)."""
    return 2 * src_lengths + 10


class Seq2Seq(nn.Module):
    """Attentional encoder-decoder (S1)-(S6), token ids in and out (ids of a `PairVocabularies`).

    ``forward(src (B, S), src_lengths (B,), tgt_in (B, T), teacher_forcing=1.0) -> logits (B, T, V_y)``
    ``greedy_decode(src, src_lengths, max_length=None) -> Decoded``; beam search: `rnnkit.models.beam_search`.
    """

    def __init__(self, config: Seq2SeqConfig | None = None, **settings: Any) -> None:
        super().__init__()
        self.config = c = config if config is not None else Seq2SeqConfig(**settings)
        self.source_embedding = nn.Embedding(c.source_vocab_size, c.embedding, padding_idx=PAD)
        self.encoder = RecurrentStack(c.embedding, c.encoder_cell, c.encoder_hidden, c.dropout, c.bidirectional,
                                      impl=c.impl, init=c.init)
        K, H = self.encoder.output_size, c.decoder_hidden
        self.bridge = nn.Linear(K, H)  # W_b, b_b of (S2)
        self.target_embedding = nn.Embedding(c.target_vocab_size, c.embedding, padding_idx=PAD)
        # a one-layer rnnkit layer: whole sequences under teacher forcing, its cell's equations when stepping
        self.decoder = make_layer(c.decoder_cell, c.embedding + (H if c.input_feeding else 0), H,
                                  impl=c.impl, init=c.init)
        self.attention = Attention(c.attention, H, K, c.attention_size or None)
        self.combine = nn.Linear(K + H, H, bias=False)  # W_c of (S5)
        self.output = nn.Linear(H, c.target_vocab_size)  # W_s, b_s of (S6)
        self.dropout = nn.Dropout(c.dropout)
        never = torch.zeros(c.target_vocab_size, dtype=torch.bool)
        never[[PAD, BOS]] = True
        self.register_buffer("never_emitted", never, persistent=False)  # (V_y,)

    # --- encoder -----------------------------------------------------------------------------------
    def encode(self, src: Tensor, src_lengths: Tensor) -> tuple[Encoded, DecoderState]:
        """(S1)-(S2): the encoded sources and the decoder's first state."""
        src_lengths = src_lengths.to(src.device)
        x = self.dropout(self.source_embedding(src))  # (B, S, E)
        memory, states = self.encoder(x, src_lengths)  # (B, S, K)
        last = states[-1]
        h_n = last.h if isinstance(last, LSTMState) else last  # (D, B, H_enc): after each sequence's last valid step
        s_0 = torch.tanh(self.bridge(torch.cat(list(h_n), dim=1)))  # (S2) (B, H)
        cell = LSTMState(s_0, torch.zeros_like(s_0)) if self.config.decoder_cell == "lstm" else s_0
        encoded = Encoded(memory, self.attention.keys(memory), src_lengths)
        return encoded, DecoderState(cell, torch.zeros_like(s_0))

    # --- decoder -----------------------------------------------------------------------------------
    def step(self, tokens: Tensor, state: DecoderState, encoded: Encoded) -> StepOutput:
        """(S3)-(S6) for one step: previous tokens y_{t-1} (B,) -> scores of y_t."""
        u = self.dropout(self.target_embedding(tokens))  # (B, E)
        if self.config.input_feeding:
            u = torch.cat([u, state.feed], dim=1)  # (B, E + H)
        params = self.decoder.cell_params(0, 0)
        if self.config.decoder_cell == "lstm":
            cell = lstm_cell(u, state.cell, params)  # (S3)
            s = cell.h  # (B, H)
        else:
            cell = s = gru_cell(u, state.cell, params)  # (S3) (B, H)
        context, weights = self.attention(s[:, None], encoded.memory, encoded.lengths, encoded.keys)  # (S4) (B, 1, K)
        feed = torch.tanh(self.combine(torch.cat([context[:, 0], s], dim=1)))  # (S5) (B, H)
        return StepOutput(self.output(self.dropout(feed)), DecoderState(cell, feed), weights[:, 0])  # (S6)

    def forward(self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor, teacher_forcing: float = 1.0,
                generator: torch.Generator | None = None) -> Tensor:
        """Scores of every target step (B, T, V_y); ``tgt_in`` is <s> y_1 .. y_{T-1} (PAD after each)."""
        if not 0 <= teacher_forcing <= 1:
            raise ValueError(f"teacher_forcing must be a ratio in [0, 1], got {teacher_forcing}")
        encoded, state = self.encode(src, src_lengths)
        if teacher_forcing == 1 and not self.config.input_feeding:
            return self.teacher_forced(tgt_in, state, encoded)[0]
        return self.stepped(tgt_in, state, encoded, teacher_forcing, generator)[0]

    def teacher_forced(self, tgt_in: Tensor, state: DecoderState, encoded: Encoded) -> tuple[Tensor, Tensor]:
        """(S3)-(S6) over all steps at once (no input feeding): logits (B, T, V_y), weights (B, T, S)."""
        u = self.dropout(self.target_embedding(tgt_in))  # (B, T, E)
        cell = state.cell
        hx = LSTMState(cell.h[None], cell.c[None]) if isinstance(cell, LSTMState) else cell[None]  # (1, B, H)
        s, _ = self.decoder(u, hx)  # (S3) (B, T, H)
        context, weights = self.attention(s, encoded.memory, encoded.lengths, encoded.keys)  # (S4) (B, T, K)
        feed = torch.tanh(self.combine(torch.cat([context, s], dim=2)))  # (S5) (B, T, H)
        return self.output(self.dropout(feed)), weights  # (S6) (B, T, V_y)

    def stepped(self, tgt_in: Tensor, state: DecoderState, encoded: Encoded, teacher_forcing: float = 1.0,
                generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Step by step, each input the target with probability ``teacher_forcing``, else the model's argmax."""
        B, T = tgt_in.shape
        logits, weights = [], []
        tokens = tgt_in[:, 0]  # (B,) <s>
        for t in range(T):
            out = self.step(tokens, state, encoded)
            state = out.state
            logits.append(out.logits)
            weights.append(out.weights)
            if t + 1 < T:
                tokens = tgt_in[:, t + 1]  # (B,)
                if teacher_forcing < 1:
                    own = self.next_log_probs(out.logits.detach()).argmax(dim=1)  # (B,)
                    feed_target = torch.rand(B, generator=generator, device=tgt_in.device) < teacher_forcing
                    tokens = torch.where(feed_target, tokens, own)
        return torch.stack(logits, dim=1), torch.stack(weights, dim=1)  # (B, T, V_y), (B, T, S)

    def next_log_probs(self, logits: Tensor) -> Tensor:
        """log p(y_t) (..., V_y) over the tokens decoding may emit (never PAD or <s>)."""
        return torch.log_softmax(logits.masked_fill(self.never_emitted, float("-inf")), dim=-1)

    def loss(self, batch: PairBatch, teacher_forcing: float = 1.0) -> Tensor:
        """Mean cross-entropy per target token (PAD skipped)."""
        logits = self(batch.src, batch.src_lengths, batch.tgt_in, teacher_forcing)  # (B, T, V_y)
        return F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=PAD)

    # --- decoding ----------------------------------------------------------------------------------
    @torch.no_grad()
    def greedy_decode(self, src: Tensor, src_lengths: Tensor, max_length: int | Tensor | None = None) -> Decoded:
        """The most likely token at every step until </s>; at most ``max_length`` tokens (then </s> is forced).

        ``max_length``: an int, or one per source (B,); default `default_max_lengths`.
        """
        encoded, state = self.encode(src, src_lengths)
        limits = decode_limits(max_length, encoded.lengths)  # (B,)
        B = src.shape[0]
        tokens = torch.full((B,), BOS, dtype=torch.long, device=src.device)
        done = torch.zeros(B, dtype=torch.bool, device=src.device)
        scores = torch.zeros(B, dtype=encoded.memory.dtype, device=src.device)
        emitted, weights = [], []
        for t in range(int(limits.max()) + 1):
            out = self.step(tokens, state, encoded)
            state = out.state
            log_probs = force_end(self.next_log_probs(out.logits), limits == t)  # (B, V_y)
            best, tokens = log_probs.max(dim=1)  # (B,)
            scores += best.masked_fill(done, 0.0)
            tokens = tokens.masked_fill(done, PAD)
            done = done | (tokens == EOS)
            kept = tokens.masked_fill(tokens == EOS, PAD)  # (B,)
            emitted.append(kept)
            weights.append(out.weights.masked_fill((kept == PAD)[:, None], 0.0))  # (B, S)
            if bool(done.all()):
                break
        tokens = torch.stack(emitted, dim=1)  # (B, L+1): the last column is all PAD
        return Decoded(tokens[:, :-1], (tokens != PAD).sum(dim=1), torch.stack(weights, dim=1)[:, :-1], scores)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def decode_limits(max_length: int | Tensor | None, src_lengths: Tensor) -> Tensor:
    """The most tokens to emit per source (B,), from an int, a (B,) tensor or None (the default)."""
    if max_length is None:
        return default_max_lengths(src_lengths)
    limits = torch.as_tensor(max_length, device=src_lengths.device).expand(src_lengths.shape)  # (B,)
    if int(limits.min()) < 0:
        raise ValueError(f"max_length must be 0 or more, got {int(limits.min())}")
    return limits.long()


def force_end(log_probs: Tensor, at_limit: Tensor) -> Tensor:
    """Rows at their length limit (B,) can only end: every token but </s> gets log-probability -inf."""
    forced = torch.full_like(log_probs, float("-inf"))
    forced[:, EOS] = 0.0
    return torch.where(at_limit[:, None], forced, log_probs)
