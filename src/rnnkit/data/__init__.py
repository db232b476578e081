"""rnnkit.data: labelled sequences in memory, their file formats, bundled data sets, splits,
scaling and padded batches. Imports only numpy, torch and the standard library."""

from rnnkit.data._bundled import (
    DatasetInfo,
    bundled_time_mask,
    canonical_name,
    dataset_kind,
    dataset_names,
    is_bundled,
    list_datasets,
    load_dataset,
    load_names,
    load_pronunciations,
    load_text,
)
from rnnkit.data._collate import IGNORE_INDEX, Batch, batch_indices, batches, collate
from rnnkit.data._csv import read_csv, write_csv
from rnnkit.data._dataset import DataSplits, SequenceDataset, align_classes
from rnnkit.data._digit_strings import LabelledStrings, load_fsdd_strings, make_digit_strings
from rnnkit.data._errors import DataError
from rnnkit.data._folder import read_folder, read_sample_file, write_folder
from rnnkit.data._label_sequences import has_frame_labels, read_label_sequences
from rnnkit.data._load import load
from rnnkit.data._npz import read_npz, write_npz
from rnnkit.data._pairs import (
    BOS,
    EOS,
    PAD,
    SPECIALS,
    PairBatch,
    PairSplits,
    PairVocabularies,
    SequencePairs,
    cmudict_pairs,
    collate_pairs,
    load_cmudict_pairs,
    pair_batch_indices,
    pair_batches,
    pair_vocabularies,
    pronunciation_pairs,
    read_pairs_tsv,
    split_by_word,
)
from rnnkit.data._scaling import Scaler, scale_splits
from rnnkit.data._splits import group_split, holdout_split, stratified_split, train_validation_split
from rnnkit.data._text import END, TextParts, item_batches, read_text_file, split_items, split_text, stream_batches
from rnnkit.data._ts import read_ts, write_ts
from rnnkit.data._vocab import Vocabulary

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "SPECIALS",
    "PairBatch",
    "PairSplits",
    "PairVocabularies",
    "SequencePairs",
    "cmudict_pairs",
    "collate_pairs",
    "load_cmudict_pairs",
    "pair_batch_indices",
    "pair_batches",
    "pair_vocabularies",
    "pronunciation_pairs",
    "read_pairs_tsv",
    "split_by_word",
    "LabelledStrings",
    "load_fsdd_strings",
    "make_digit_strings",
    "has_frame_labels",
    "read_label_sequences",
    "END",
    "IGNORE_INDEX",
    "TextParts",
    "item_batches",
    "read_text_file",
    "split_items",
    "split_text",
    "stream_batches",
    "Batch",
    "DataError",
    "DataSplits",
    "DatasetInfo",
    "Scaler",
    "align_classes",
    "SequenceDataset",
    "Vocabulary",
    "batch_indices",
    "bundled_time_mask",
    "canonical_name",
    "dataset_kind",
    "is_bundled",
    "batches",
    "collate",
    "dataset_names",
    "group_split",
    "holdout_split",
    "list_datasets",
    "load",
    "load_dataset",
    "load_names",
    "load_pronunciations",
    "load_text",
    "read_csv",
    "read_folder",
    "read_npz",
    "read_sample_file",
    "read_ts",
    "scale_splits",
    "stratified_split",
    "train_validation_split",
    "write_csv",
    "write_folder",
    "write_npz",
    "write_ts",
]
