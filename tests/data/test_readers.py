"""Every reader reads back exactly what its writer wrote, and `load` finds the right reader."""

import numpy as np
import pytest

from rnnkit.data import (
    DataError,
    DataSplits,
    SequenceDataset,
    load,
    read_csv,
    read_folder,
    read_npz,
    read_sample_file,
    read_ts,
    stratified_split,
    write_csv,
    write_folder,
    write_npz,
    write_ts,
)

from .conftest import assert_same_data, by_class, make_dataset


def test_folder_rows_round_trip(tmp_path):
    train, test = make_dataset(seed=1), make_dataset(n=6, seed=2)
    write_folder(DataSplits(train, test), tmp_path / "data")
    splits = read_folder(tmp_path / "data")
    assert_same_data(splits.train, by_class(train))
    assert_same_data(splits.test, by_class(test))
    assert splits.train.name == "data"


def test_folder_pen_strokes_round_trip(tmp_path):
    data = make_dataset(num_features=2, class_names=("circle", "line"), seed=3)
    write_folder(DataSplits(data), tmp_path / "pen", pen_strokes=True)
    text = next((tmp_path / "pen" / "train" / "circle").iterdir()).read_text()
    assert len(text.strip().splitlines()) == 1  # one line: N x1 y1 ... xN yN
    splits = read_folder(tmp_path / "pen")
    assert splits.test is None
    assert_same_data(splits.train, by_class(data))


def test_folder_without_train_folder(tmp_path):
    data = make_dataset(seed=4)
    write_folder(data, tmp_path / "flat")
    assert (tmp_path / "flat" / "a").is_dir()
    splits = load(tmp_path / "flat")
    assert splits.test is None
    assert_same_data(splits.train, by_class(data))


def test_sample_file_forms(tmp_path):
    rows = tmp_path / "rows.txt"
    rows.write_text("1, 2,3\n\n4 5 6\n")
    np.testing.assert_array_equal(read_sample_file(rows), [[1, 2, 3], [4, 5, 6]])
    stroke = tmp_path / "stroke.txt"
    stroke.write_text("3 0 0 1 1 2 4\n")
    np.testing.assert_array_equal(read_sample_file(stroke), [[0, 0], [1, 1], [2, 4]])
    one_step = tmp_path / "one_step.txt"  # 1 + 2*2 numbers, but "2.0" is not a bare count
    one_step.write_text("2.0 0 0 1 1\n")
    assert read_sample_file(one_step).shape == (1, 5)


def test_one_step_rows_are_not_taken_for_strokes(tmp_path):
    # 3.0 is written "3.0", so the one-step sample below cannot be read as a 3-point stroke.
    data = SequenceDataset([np.array([[3, 1, 2, 3, 4, 5, 6]]), np.ones((2, 7))], [0, 1], ["a", "b"])
    write_folder(data, tmp_path / "d")
    assert_same_data(read_folder(tmp_path / "d").train, data)


def test_folder_class_order_is_natural(tmp_path):
    for name in ("10", "2", "1"):
        (tmp_path / "d" / name).mkdir(parents=True)
        (tmp_path / "d" / name / "0.txt").write_text("1 2\n")
    assert read_folder(tmp_path / "d").train.class_names == ["1", "2", "10"]


def test_folder_test_split_with_fewer_classes(tmp_path):
    train = make_dataset(seed=5)
    test = SequenceDataset([np.ones((2, 3))] * 2, [0, 1], ["b", "c"])
    write_folder(train, tmp_path / "d" / "train")
    write_folder(test, tmp_path / "d" / "test")
    splits = read_folder(tmp_path / "d")
    assert splits.test.class_names == ["a", "b", "c"]
    assert splits.test.labels.tolist() == [1, 2]


@pytest.mark.parametrize("num_features", [1, 3])
def test_ts_pair_round_trip(tmp_path, num_features):
    train = make_dataset(num_features=num_features, seed=6)
    test = make_dataset(n=6, num_features=num_features, seed=7)
    write_ts(train, tmp_path / "Toy_TRAIN.ts")
    write_ts(test, tmp_path / "Toy_TEST.ts")
    splits = load(tmp_path / "Toy_TRAIN.ts")
    assert_same_data(splits.train, train)
    assert_same_data(splits.test, test)
    assert splits.train.name == splits.test.name == "Toy"
    # A folder holding the pair, as UEA archives unpack, reads the same.
    assert_same_data(load(tmp_path).test, test)


def test_ts_single_file_and_header_forms(tmp_path):
    path = tmp_path / "gestures.ts"
    path.write_text(
        "# a comment\n"
        "@problemName Gestures\n@TIMESTAMPS false\n@univariate false\n@dimensions 2\n"
        "@equalLength false\n@classLabel true up down\n@data\n"
        "1,2,3:4,5,6:up\n"
        "\n"
        "7,8:9,10:down\n"
    )
    splits = load(path)
    assert splits.test is None
    data = splits.train
    assert data.name == "Gestures"
    assert data.class_names == ["up", "down"]  # declared order
    assert data.labels.tolist() == [0, 1]
    np.testing.assert_array_equal(data.sequences[0], [[1, 4], [2, 5], [3, 6]])
    np.testing.assert_array_equal(data.sequences[1], [[7, 9], [8, 10]])
    assert_same_data(read_ts(path), data)


def test_npz_round_trip(tmp_path):
    data = make_dataset(groups=True, seed=8)
    write_npz(data, tmp_path / "toy.npz")
    loaded = load(tmp_path / "toy.npz").train
    assert_same_data(loaded, data)
    np.testing.assert_array_equal(loaded.groups, data.groups)


def test_npz_labels_without_class_names(tmp_path):
    x = np.arange(10, dtype=np.float64).reshape(5, 2)
    np.savez(tmp_path / "ints.npz", X=x, lengths=[2, 3], y=[7, 3])
    data = read_npz(tmp_path / "ints.npz")
    assert data.class_names == ["3", "7"]
    assert data.labels.tolist() == [1, 0]
    np.savez(tmp_path / "strings.npz", X=x, lengths=[2, 3], y=np.array(["yes", "no"]))
    data = read_npz(tmp_path / "strings.npz")
    assert data.class_names == ["no", "yes"]
    np.testing.assert_array_equal(data.sequences[1], x[2:])


def test_csv_round_trip(tmp_path):
    data = make_dataset(seed=9)
    write_csv(data, tmp_path / "toy.csv")
    assert (tmp_path / "toy.csv").read_text().splitlines()[0] == "sequence_id,label,f1,f2,f3"
    assert_same_data(read_csv(tmp_path / "toy.csv"), data)


def test_csv_train_test_pair(tmp_path):
    train, test = make_dataset(seed=10), make_dataset(n=6, seed=11)
    write_csv(train, tmp_path / "toy_train.csv")
    write_csv(test, tmp_path / "toy_test.csv")
    splits = load(tmp_path / "toy_train.csv")
    assert_same_data(splits.test, test)


def test_load_makes_a_stratified_split_on_request(tmp_path):
    data = make_dataset(n=30, seed=12)
    write_npz(data, tmp_path / "toy.npz")
    splits = load(tmp_path / "toy.npz", test_fraction=0.2, seed=3)
    expected_train, expected_test = stratified_split(data, 0.2, seed=3)
    assert_same_data(splits.train, expected_train)
    assert_same_data(splits.test, expected_test)


def test_load_bundled_name():
    splits = load("lasa-handwriting")
    assert splits.train.name == "lasa-handwriting"


def test_load_unknown_path_lists_bundled_names(tmp_path):
    with pytest.raises(DataError, match="fsdd-digits, lasa-handwriting"):
        load(str(tmp_path / "nothing-here"))


def test_a_stroke_shaped_row_is_a_row_when_the_model_has_other_widths(tmp_path):
    """'3 1 2 3 4 5 6' looks like a 3-point stroke, but for 7 features per step it is one step."""
    path = tmp_path / "one_step.txt"
    path.write_text("3 1 2 3 4 5 6\n")
    np.testing.assert_array_equal(read_sample_file(path, num_features=7), [[3, 1, 2, 3, 4, 5, 6]])
    assert read_sample_file(path).shape == (3, 2)  # without a hint, the stroke reading stands


def test_csv_with_a_byte_order_mark_as_excel_writes_it(tmp_path):
    data = make_dataset(n=6)
    write_csv(data, tmp_path / "plain.csv")
    (tmp_path / "excel.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "plain.csv").read_bytes())
    assert_same_data(read_csv(tmp_path / "excel.csv"), read_csv(tmp_path / "plain.csv"))
