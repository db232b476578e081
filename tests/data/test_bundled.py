"""The bundled data sets load with their documented shapes, classes and splits."""

import ast
from pathlib import Path

import numpy as np
import pytest

import rnnkit.data
from rnnkit.data import (
    DataError,
    list_datasets,
    load,
    load_dataset,
    load_names,
    load_pronunciations,
    load_text,
)
from rnnkit.data._bundled import BUNDLED_DIR

NAMES = ["fsdd-digits", "lasa-handwriting", "fsdd-strings", "shakespeare", "census-names", "cmudict"]


def test_list_datasets():
    infos = {info.name: info for info in list_datasets()}
    assert list(infos) == NAMES
    assert (infos["fsdd-digits"].count, infos["fsdd-digits"].classes) == (3000, 10)
    assert infos["fsdd-digits"].features == 13
    assert (infos["lasa-handwriting"].count, infos["lasa-handwriting"].classes) == (210, 30)
    assert infos["shakespeare"].unit == "characters" and infos["shakespeare"].count > 900_000
    assert (infos["fsdd-strings"].count, infos["fsdd-strings"].unit, infos["fsdd-strings"].size_bytes) == (7000, "strings", 0)
    for info in infos.values():
        if info.name != "fsdd-strings":  # made from fsdd-digits' file, not a file of its own
            assert info.size_bytes == (BUNDLED_DIR / _filename(info.name)).stat().st_size
        assert info.source and info.description and info.kind


def _filename(name):
    return rnnkit.data._bundled._ENTRIES[name].filename


def test_bundled_files_are_small_and_attributed():
    files = [p for p in BUNDLED_DIR.iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 5_000_000
    attribution = (BUNDLED_DIR / "ATTRIBUTION.md").read_text()
    for name in NAMES:
        assert f"## {_filename(name)}" in attribution
    assert (BUNDLED_DIR / "CMUDICT_LICENSE.txt").is_file()


def test_fsdd_digits():
    splits = load_dataset("fsdd-digits")
    for part in (splits.train, splits.test):
        assert len(part) == 1500
        assert part.num_features == 13
        assert part.class_names == [str(d) for d in range(10)]
        assert part.class_counts().tolist() == [150] * 10
        assert part.lengths.min() >= 6 and part.lengths.max() <= 92
    assert int(splits.train.lengths.sum() + splits.test.lengths.sum()) == 53999


def test_lasa_handwriting_is_split_by_demo():
    splits = load("lasa-handwriting")
    train, test = splits.train, splits.test
    assert (len(train), len(test)) == (150, 60)
    assert train.num_classes == 30 and train.num_features == 2
    assert set(train.lengths.tolist()) == set(test.lengths.tolist()) == {100}
    assert set(train.groups.tolist()) == {0, 1, 2, 3, 4}
    assert set(test.groups.tolist()) == {5, 6}
    assert train.class_counts().tolist() == [5] * 30
    assert test.class_counts().tolist() == [2] * 30
    assert {"JShape", "JShape_2", "Leaf_1", "Multi_Models_4"} <= set(train.class_names)
    ends = np.stack([s[-1] for s in train.sequences])
    np.testing.assert_allclose(ends, 0.0, atol=1e-6)  # every demo ends at the origin


def test_shakespeare_text():
    text = load_text("shakespeare")
    assert text.startswith("HAMLET, PRINCE OF DENMARK")
    assert "To be, or not to be" in text
    assert len(set(text)) < 100


def test_pronunciations():
    entries = load_pronunciations()
    assert len(entries) > 130_000
    tomato = [phonemes for word, phonemes in entries if word == "tomato"]
    assert ["T", "AH0", "M", "EY1", "T", "OW2"] in tomato and len(tomato) == 2
    assert all(phonemes and "#" not in word for word, phonemes in entries)


def test_names():
    names = load_names()
    kinds = [kind for _, kind in names]
    counts = (kinds.count("male"), kinds.count("female"), kinds.count("surname"))
    assert counts == (1219, 4275, 5000)
    assert names[0] == ("JAMES", "male")
    assert ("SMITH", "surname") in names


def test_unknown_name_lists_the_names():
    with pytest.raises(DataError) as error:
        load_dataset("fsdd-digit")
    message = str(error.value)
    assert all(name in message for name in NAMES)
    assert "Did you mean 'fsdd-digits'?" in message


def test_text_sets_point_to_their_loader():
    with pytest.raises(DataError, match="load_text"):
        load_dataset("shakespeare")
    with pytest.raises(DataError, match="load_dataset"):
        load_text("fsdd-digits")


def test_data_layer_imports_no_higher_layer():
    """rnnkit.data may import numpy, torch, the standard library and itself, nothing else."""
    allowed = {"numpy", "torch", "rnnkit"}
    for path in Path(rnnkit.data.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if module.startswith("rnnkit"):
                    assert module.startswith("rnnkit.data"), (path.name, module)
                else:
                    assert top in allowed or top in _stdlib(), (path.name, module)


def _stdlib():
    import sys

    return sys.stdlib_module_names
