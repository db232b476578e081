"""Models built from the layers: sequence classification (many-to-one) and its parts."""
from ._charlm import CharLM, CharLMConfig
from ._classifier import ClassifierConfig, SequenceClassifier
from ._ctc import CTCBatch, CTCConfig, CTCModel, collate_ctc, ctc_loss, ctc_metrics, min_frames, transcribe
from ._ctc_decode import BLANK, Hypothesis, ctc_beam_decode, ctc_beam_hypotheses, ctc_greedy_decode, ctc_prefix_beam_search
from ._frame_encoder import FrameConfig, FrameEncoder
from ._sampling import generate, next_token
from ._pooling import POOLINGS, AttentionPooling, max_pool, mean_pool
from ._stack import CELLS, RecurrentStack, make_layer
from ._tagger import (Segment, SequenceTagger, TaggedBatch, TaggerConfig, collate_tagged, frames_to_segments,
                      segment_error_floor, tag, tagger_metrics)

__all__ = ["CharLM", "CharLMConfig", "generate", "next_token", "ClassifierConfig", "SequenceClassifier", "AttentionPooling", "RecurrentStack", "make_layer",
           "POOLINGS", "CELLS", "mean_pool", "max_pool"]
__all__ += ["CTCBatch", "CTCConfig", "CTCModel", "collate_ctc", "ctc_loss", "ctc_metrics", "min_frames", "transcribe",
            "BLANK", "Hypothesis", "ctc_beam_decode", "ctc_beam_hypotheses", "ctc_greedy_decode",
            "ctc_prefix_beam_search", "FrameConfig", "FrameEncoder", "Segment", "SequenceTagger", "TaggedBatch",
            "TaggerConfig", "collate_tagged", "frames_to_segments", "segment_error_floor", "tag", "tagger_metrics"]
