"""Seq2Seq: padding on both sides, teacher forcing, the two decoder paths, greedy decoding, settings,
and a short real training run."""
import numpy as np
import pytest
import torch

from rnnkit.data import BOS, EOS, PAD, collate_pairs, load_cmudict_pairs, pair_batches, pair_vocabularies
from rnnkit.models import Seq2Seq, Seq2SeqConfig, seq2seq_metrics, seq2seq_predict, teacher_forcing_ratio

SOURCES = [[3, 4, 5, 6, 3], [5, 6], [4, 4, 3]]
TARGETS = [[3, 4], [5, 5, 3, 4], [6]]
VARIANTS = [dict(attention=a, decoder_cell=d, input_feeding=f)
            for a in ("additive", "dot", "general") for d in ("lstm", "gru") for f in (False, True)]


def make(seed: int = 0, peaked: bool = False, **settings) -> Seq2Seq:
    torch.manual_seed(seed)
    settings = dict(source_vocab_size=7, target_vocab_size=7, embedding=5, encoder_hidden=[4], decoder_hidden=8,
                    dropout=0.0) | settings
    model = Seq2Seq(**settings).double().eval()
    if peaked:  # larger decoder weights: each prediction depends on the token fed in, not one repeated token
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.split(".")[0] in ("target_embedding", "decoder", "combine", "output"):
                    p.mul_(4.0)
    return model


def garbage_padded_batch():
    batch = collate_pairs(SOURCES, TARGETS)
    src, tgt_in = batch.src.clone(), batch.tgt_in.clone()
    src[src == PAD] = 6  # real tokens in the padding: they must be ignored, not just PAD's zero embedding
    tgt_in[tgt_in == PAD] = 3
    return src, batch.src_lengths, tgt_in, batch.tgt_out


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(str(x) for x in v.values()))
def test_padded_batch_decodes_each_pair_as_it_would_alone(variant):
    model = make(**variant)
    src, src_lengths, tgt_in, tgt_out = garbage_padded_batch()
    logits = model(src, src_lengths, tgt_in)
    decoded = model.greedy_decode(src, src_lengths, max_length=6)
    for b, (source, target) in enumerate(zip(SOURCES, TARGETS)):
        alone = collate_pairs([source], [target])
        steps = len(target) + 1
        torch.testing.assert_close(logits[b, :steps], model(alone.src, alone.src_lengths, alone.tgt_in)[0])
        one = model.greedy_decode(alone.src, alone.src_lengths, max_length=6)
        n = int(one.lengths[0])
        assert int(decoded.lengths[b]) == n
        assert decoded.tokens[b, :n].tolist() == one.tokens[0, :n].tolist()
        torch.testing.assert_close(decoded.weights[b, :n, :len(source)], one.weights[0, :n])
        torch.testing.assert_close(decoded.scores[b], one.scores[0])


@pytest.mark.parametrize("variant", VARIANTS[:4], ids=lambda v: "-".join(str(x) for x in v.values()))
def test_decoder_attention_is_a_distribution_over_the_valid_source(variant):
    model = make(**variant)
    src, src_lengths, tgt_in, _ = garbage_padded_batch()
    encoded, state = model.encode(src, src_lengths)
    _, weights = model.stepped(tgt_in, state, encoded)  # (B, T, S)
    decoded = model.greedy_decode(src, src_lengths, max_length=4)
    for b, length in enumerate(src_lengths.tolist()):
        torch.testing.assert_close(weights[b].sum(dim=1), torch.ones(tgt_in.shape[1], dtype=torch.float64))
        assert torch.all(weights[b, :, length:] == 0) and torch.all(weights[b, :, :length] > 0)
        n = int(decoded.lengths[b])
        torch.testing.assert_close(decoded.weights[b, :n].sum(dim=1), torch.ones(n, dtype=torch.float64))
        assert torch.all(decoded.weights[b, :, length:] == 0) and torch.all(decoded.weights[b, n:] == 0)


@pytest.mark.parametrize("decoder_cell", ["lstm", "gru"])
def test_whole_sequence_decoder_equals_stepping_the_cell(decoder_cell):
    model = make(decoder_cell=decoder_cell)
    src, src_lengths, tgt_in, _ = garbage_padded_batch()
    encoded, state = model.encode(src, src_lengths)
    whole, whole_weights = model.teacher_forced(tgt_in, state, encoded)
    stepped, stepped_weights = model.stepped(tgt_in, state, encoded, teacher_forcing=1.0)
    torch.testing.assert_close(whole, stepped)
    torch.testing.assert_close(whole_weights, stepped_weights)


@pytest.mark.parametrize("input_feeding", [False, True])
def test_teacher_forcing_ratio_1_feeds_targets_0_feeds_own_predictions(input_feeding):
    model = make(seed=5, peaked=True, input_feeding=input_feeding)
    src, src_lengths, tgt_in, _ = garbage_padded_batch()
    own = model(src, src_lengths, tgt_in, teacher_forcing=0.0)  # (B, T, V)
    predictions = model.next_log_probs(own).argmax(dim=-1)  # (B, T)
    fed = torch.cat([tgt_in[:, :1], predictions[:, :-1]], dim=1)  # <s>, then each step's own argmax
    assert not torch.equal(fed, tgt_in)  # the model's predictions differ from the targets
    torch.testing.assert_close(own, model(src, src_lengths, fed, teacher_forcing=1.0))
    assert not torch.allclose(own, model(src, src_lengths, tgt_in, teacher_forcing=1.0))
    other_targets = tgt_in.clone()
    other_targets[:, 1:] = 4
    torch.testing.assert_close(model(src, src_lengths, other_targets, teacher_forcing=0.0), own)  # targets unused
    assert not torch.allclose(model(src, src_lengths, other_targets, teacher_forcing=1.0),
                              model(src, src_lengths, tgt_in, teacher_forcing=1.0))


def test_ratio_0_decodes_as_greedy_decoding():
    model = make(seed=5, peaked=True)
    src, src_lengths, tgt_in, _ = garbage_padded_batch()
    own = model.next_log_probs(model(src, src_lengths, tgt_in, teacher_forcing=0.0)).argmax(dim=-1)  # (B, T)
    decoded = model.greedy_decode(src, src_lengths, max_length=tgt_in.shape[1])
    assert int(decoded.lengths.max()) >= 3 and len(set(decoded.tokens.flatten().tolist())) >= 3  # varied output
    for b in range(3):
        n = int(decoded.lengths[b])
        assert decoded.tokens[b, :n].tolist() == own[b, :n].tolist()


def test_intermediate_ratio_mixes_per_step():
    model = make(seed=5, peaked=True)
    src, src_lengths, tgt_in, _ = garbage_padded_batch()
    draws = [model(src, src_lengths, tgt_in, 0.5, torch.Generator().manual_seed(s)) for s in range(8)]
    full, none = model(src, src_lengths, tgt_in, 1.0), model(src, src_lengths, tgt_in, 0.0)
    assert any(not torch.allclose(d, full) and not torch.allclose(d, none) for d in draws)
    torch.testing.assert_close(draws[0], model(src, src_lengths, tgt_in, 0.5, torch.Generator().manual_seed(0)))


def test_teacher_forcing_schedules_by_hand():
    assert teacher_forcing_ratio(7) == 1.0
    assert teacher_forcing_ratio(3, "linear", k=0.1) == pytest.approx(0.7)
    assert teacher_forcing_ratio(30, "linear", k=0.1, minimum=0.25) == 0.25
    assert teacher_forcing_ratio(2, "exponential", k=0.9) == pytest.approx(0.81)
    assert teacher_forcing_ratio(10, "inverse_sigmoid", k=10.0) == pytest.approx(10 / (10 + np.e))
    with pytest.raises(ValueError, match="exponential decay needs 0 < k < 1"):
        teacher_forcing_ratio(1, "exponential", k=1.5)


def test_greedy_decoding_respects_max_length_and_never_emits_specials():
    model = make(seed=1)
    src, src_lengths, _, _ = garbage_padded_batch()
    decoded = model.greedy_decode(src, src_lengths, max_length=torch.tensor([0, 2, 5]))
    assert decoded.lengths.tolist()[0] == 0 and decoded.lengths[1] <= 2 and decoded.lengths[2] <= 5
    emitted = decoded.tokens[decoded.tokens != PAD]
    assert not torch.isin(emitted, torch.tensor([PAD, BOS, EOS])).any()


def test_loss_skips_target_padding():
    model = make()
    batch = collate_pairs(SOURCES, TARGETS)
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    valid = batch.tgt_out != PAD
    by_hand = -torch.log_softmax(logits, -1).gather(2, batch.tgt_out[:, :, None])[:, :, 0][valid].mean()
    torch.testing.assert_close(model.loss(batch), by_hand)


def test_config_round_trip_and_errors():
    config = Seq2SeqConfig(source_vocab_size=30, target_vocab_size=42, encoder_hidden=[64, 32], attention="additive")
    assert Seq2SeqConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="decoder_cell must be one of"):
        Seq2SeqConfig(30, 42, decoder_cell="rnn")
    with pytest.raises(ValueError, match="target_vocab_size must count the 3 specials"):
        Seq2SeqConfig(30, 3)
    with pytest.raises(ValueError, match=r"encoder_hidden='64': expected a list of whole numbers"):
        Seq2SeqConfig(30, 42, encoder_hidden="64")
    with pytest.raises(ValueError, match=r"unknown model setting\(s\) \['hiden'\]"):
        Seq2SeqConfig.from_dict({"source_vocab_size": 30, "target_vocab_size": 42, "hiden": 4})
    with pytest.raises(ValueError, match="dot attention needs the decoder width"):
        Seq2Seq(source_vocab_size=30, target_vocab_size=42, decoder_hidden=64, attention="dot")


def test_a_few_seconds_of_training_on_real_pairs_cut_the_phoneme_error_rate():
    splits = load_cmudict_pairs(test_words=300, validation_words=0, seed=1)
    train = splits.train.with_words(splits.train.distinct_words()[:6000])
    vocabularies = pair_vocabularies(splits.train)
    torch.manual_seed(0)
    model = Seq2Seq(source_vocab_size=len(vocabularies.source), target_vocab_size=len(vocabularies.target),
                    embedding=32, encoder_hidden=[64], decoder_hidden=64, dropout=0.0)
    untrained = seq2seq_metrics(model, vocabularies, splits.test)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    rng = np.random.default_rng(0)
    for epoch in range(2):  # about 3 s on one core
        for batch in pair_batches(train, vocabularies, 32, shuffle=True, seed=rng):
            loss = model.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    trained = seq2seq_metrics(model, vocabularies, splits.test)
    # an untrained model babbles to the length limit (PER > 1); saying nothing at all would give PER 1
    assert untrained["per"] > 1.0 and untrained["wer"] == 1.0
    assert trained["per"] < 0.65 and trained["wer"] < 1.0  # measured: 0.47 and 0.98 on 300 unseen words
    (tomato,) = seq2seq_predict(model, vocabularies, ["tomato"], beam=3)
    assert tomato and set(tomato) <= set(vocabularies.target.tokens[3:])
