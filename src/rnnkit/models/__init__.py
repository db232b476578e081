"""Models built from the layers: sequence classification (many-to-one) and its parts."""
from ._charlm import CharLM, CharLMConfig
from ._classifier import ClassifierConfig, SequenceClassifier
from ._sampling import generate, next_token
from ._pooling import POOLINGS, AttentionPooling, max_pool, mean_pool
from ._stack import CELLS, RecurrentStack, make_layer

__all__ = ["CharLM", "CharLMConfig", "generate", "next_token", "ClassifierConfig", "SequenceClassifier", "AttentionPooling", "RecurrentStack", "make_layer",
           "POOLINGS", "CELLS", "mean_pool", "max_pool"]
