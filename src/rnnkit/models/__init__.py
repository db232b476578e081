"""Models built from the layers: classifiers, language models, CTC and taggers, sequence to sequence;
their decoders and the error rates they are scored by."""
from ._charlm import CharLM, CharLMConfig
from ._classifier import ClassifierConfig, SequenceClassifier
from ._edit_distance import edit_distance, error_rate
from ._ctc import CTCBatch, CTCConfig, CTCModel, CTCObjective, collate_ctc, ctc_loss, ctc_metrics, min_frames, transcribe
from ._ctc_decode import BLANK, Hypothesis, ctc_beam_decode, ctc_beam_hypotheses, ctc_greedy_decode, ctc_prefix_beam_search
from ._frame_encoder import FrameConfig, FrameEncoder
from ._sampling import generate, next_token
from ._pooling import POOLINGS, AttentionPooling, max_pool, mean_pool
from ._stack import CELLS, RecurrentStack, make_layer
from ._attention import ATTENTIONS, Attention, AttentionOutput, masked_softmax
from ._beam_search import beam_search, length_penalty
from ._seq2seq import Decoded, DecoderState, Encoded, Seq2Seq, Seq2SeqConfig, StepOutput, default_max_lengths
from ._seq2seq_metrics import phoneme_error_rate, word_error_rate
from ._seq2seq_predict import seq2seq_metrics, seq2seq_predict
from ._teacher_forcing import SCHEDULES, teacher_forcing_ratio
from ._tagger import (Segment, SequenceTagger, TaggedBatch, TaggerConfig, collate_tagged, frames_to_segments,
                      segment_error_floor, tag, tagger_metrics)

__all__ = ["CharLM", "CharLMConfig", "edit_distance", "error_rate", "generate", "next_token", "ClassifierConfig", "SequenceClassifier", "AttentionPooling", "RecurrentStack", "make_layer",
           "POOLINGS", "CELLS", "mean_pool", "max_pool"]
__all__ += ["CTCBatch", "CTCConfig", "CTCModel", "CTCObjective", "collate_ctc", "ctc_loss", "ctc_metrics", "min_frames", "transcribe",
            "BLANK", "Hypothesis", "ctc_beam_decode", "ctc_beam_hypotheses", "ctc_greedy_decode",
            "ctc_prefix_beam_search", "FrameConfig", "FrameEncoder", "Segment", "SequenceTagger", "TaggedBatch",
            "TaggerConfig", "collate_tagged", "frames_to_segments", "segment_error_floor", "tag", "tagger_metrics"]
__all__ += ["ATTENTIONS", "Attention", "AttentionOutput", "masked_softmax", "beam_search", "length_penalty", "Decoded",
            "DecoderState", "Encoded", "Seq2Seq", "Seq2SeqConfig", "StepOutput", "default_max_lengths",
            "phoneme_error_rate", "word_error_rate", "seq2seq_metrics", "seq2seq_predict", "SCHEDULES",
            "teacher_forcing_ratio"]
