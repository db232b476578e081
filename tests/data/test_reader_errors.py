"""Every malformed input is a DataError naming the file and, where there is one, the line."""

import re

import numpy as np
import pytest

from rnnkit.data import DataError, load, read_csv, read_folder, read_npz, read_ts


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def raises_at(where, message):
    """pytest.raises(DataError) whose message starts with `where` and holds `message`."""
    return pytest.raises(DataError, match=re.escape(str(where)) + ".*" + message)


def two_class_folder(root, a_text="1 2\n3 4\n", b_text="5 6\n"):
    write(root / "train" / "a" / "1.txt", a_text)
    write(root / "train" / "b" / "1.txt", b_text)
    return root


# ------------------------------------------------------------------ folder data sets
def test_ragged_row_names_file_and_line(tmp_path):
    root = two_class_folder(tmp_path / "data", a_text="1 2 3\n4 5 6\n7 8 9\n10 11\n")
    path = root / "train" / "a" / "1.txt"
    with pytest.raises(DataError) as error:
        read_folder(root)
    assert str(error.value) == f"{path} line 4: expected 3 numbers (as on line 1), got 2"


def test_row_width_differs_from_earlier_files(tmp_path):
    root = two_class_folder(tmp_path / "data", a_text="1.5 2 3\n", b_text="1 2\n")
    with raises_at(f"{root / 'train' / 'b' / '1.txt'} line 1", "expected 3 numbers"):
        read_folder(root)


def test_non_numeric_token(tmp_path):
    root = two_class_folder(tmp_path / "data", a_text="1 2\n3 x\n")
    with raises_at(f"{root / 'train' / 'a' / '1.txt'} line 2", "value 2 'x' is not a number"):
        read_folder(root)


def test_empty_sample_file(tmp_path):
    root = two_class_folder(tmp_path / "data", b_text="\n  \n")
    with raises_at(root / "train" / "b" / "1.txt", "empty file"):
        read_folder(root)


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e39"])
def test_non_finite_value(tmp_path, value):
    root = two_class_folder(tmp_path / "data", a_text=f"1 2\n3 {value}\n")
    with raises_at(f"{root / 'train' / 'a' / '1.txt'} line 2", "value 2 is"):
        read_folder(root)


def test_pen_stroke_among_wider_rows(tmp_path):
    root = two_class_folder(tmp_path / "data", a_text="1.5 2 3\n", b_text="2 0 0 1 1\n")
    with raises_at(f"{root / 'train' / 'b' / '1.txt'} line 1", "expected 3 numbers"):
        read_folder(root)


def test_one_class_folder(tmp_path):
    write(tmp_path / "data" / "train" / "only" / "1.txt", "1 2\n")
    with raises_at(tmp_path / "data" / "train", "only one class folder"):
        read_folder(tmp_path / "data")


def test_class_folder_without_files(tmp_path):
    root = two_class_folder(tmp_path / "data")
    (root / "train" / "c").mkdir()
    with raises_at(root / "train" / "c", "no sample files"):
        read_folder(root)


def test_folder_without_class_folders(tmp_path):
    (tmp_path / "data").mkdir()
    with raises_at(tmp_path / "data", "no class folders"):
        load(tmp_path / "data")


def test_test_class_missing_from_train(tmp_path):
    root = two_class_folder(tmp_path / "data")
    write(root / "test" / "a" / "1.txt", "1 2\n")
    write(root / "test" / "z" / "1.txt", "1 2\n")
    with raises_at(root / "test", "class 'z' does not occur in the training data"):
        read_folder(root)


def test_binary_sample_file(tmp_path):
    root = two_class_folder(tmp_path / "data")
    (root / "train" / "a" / "1.txt").write_bytes(b"\xff\xfe\x00\x01")
    with raises_at(root / "train" / "a" / "1.txt", "not a UTF-8 text file"):
        read_folder(root)


# ------------------------------------------------------------------ dispatch
def test_unknown_extension(tmp_path):
    path = write(tmp_path / "data.xyz", "1 2\n")
    with raises_at(path, "unknown data format '.xyz'"):
        load(path)


# ------------------------------------------------------------------ .ts files
TS_HEADER = "@problemName T\n@univariate true\n@equalLength false\n@classLabel true a b\n@data\n"


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("1,2,3:a\n4,5:c\n", 7, r"label 'c' is not declared in @classLabel \(declared: a, b\)"),
        ("1,2,3:a\n4,?,6:b\n", 7, "missing value '\\?' at step 2; rnnkit does not impute"),
        ("1,2,3:a\n4,x:b\n", 7, "value 2 'x' is not a number"),
        ("1,2,3:a\n4,nan:b\n", 7, "dimension 1: value 2 is nan"),
        ("1,2,3:a\n4,5:6,7:b\n", 7, "expected 1 dimensions, got 2"),
        ("1,2,3\n", 6, "found no ':'"),
    ],
)
def test_ts_bad_data_line(tmp_path, body, line, message):
    path = write(tmp_path / "T.ts", TS_HEADER + body)
    with raises_at(f"{path} line {line}", message):
        read_ts(path)


def test_ts_dimensions_of_unequal_length(tmp_path):
    header = TS_HEADER.replace("@univariate true", "@univariate false")
    path = write(tmp_path / "T.ts", header + "1,2,3:4,5:a\n")
    with raises_at(f"{path} line 6", "dimensions of one sample must have the same length"):
        read_ts(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@problemName T\n@classLabel true a b\n1,2:a\n", "line 3: data before the @data line"),
        ("@problemName T\n@classLabel true a b\n", "no @data line"),
        ("@problemName T\n@classLabel false\n@data\n1,2\n", "line 2: @classLabel false"),
        ("@problemName T\n@data\n1,2:a\n", "no @classLabel line"),
        ("@timeStamps true\n@classLabel true a b\n@data\n", "line 1: time-stamped"),
        ("@targetLabel true\n@data\n1,2:0.5\n", "line 1: regression"),
        ("@classLabel true a\n@data\n1:a\n", "line 1: @classLabel declares 1 class"),
        ("@classLabel true a b\n@data\n", "no samples after @data"),
    ],
)
def test_ts_bad_header(tmp_path, text, message):
    path = write(tmp_path / "T.ts", text)
    with raises_at(path, message):
        read_ts(path)


# ------------------------------------------------------------------ .npz files
def test_npz_lengths_do_not_sum(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, X=np.zeros((5, 2)), lengths=[2, 2], y=[0, 1])
    with raises_at(path, "lengths sum to 4 but X has 5 rows"):
        read_npz(path)


def test_npz_nan_names_sample_and_step(tmp_path):
    path = tmp_path / "bad.npz"
    x = np.zeros((5, 2))
    x[3, 1] = np.nan
    np.savez(path, X=x, lengths=[2, 3], y=[0, 1])
    with raises_at(path, r"X row 3 \(sample 1, step 1\) is not finite"):
        read_npz(path)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.zeros((2, 1)), "lengths": [2]}, "missing array 'y'"),
        ({"X": np.zeros(4), "lengths": [4], "y": [0]}, "X must be a 2-D numeric array"),
        ({"X": np.zeros((2, 1)), "lengths": [2, 0], "y": [0, 1]}, r"lengths\[1\] is 0"),
        ({"X": np.zeros((2, 1)), "lengths": [1, 1], "y": [0]}, "y has shape"),
        ({"X": np.zeros((2, 1)), "lengths": [1, 1], "y": [0, 3],
          "class_names": np.array(["a", "b"])}, r"y\[1\] is 3"),
        ({"X": np.zeros((2, 1)), "lengths": [1, 1], "y": [0.5, 1.5]}, "integers or strings"),
        ({"X": np.zeros((2, 1)), "lengths": [1, 1], "y": np.array([{}, {}], dtype=object)},
         "holds Python objects"),
    ],
)
def test_npz_malformed(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with raises_at(path, message):
        read_npz(path)


def test_npz_not_a_zip(tmp_path):
    path = write(tmp_path / "bad.npz", "not a zip")
    with raises_at(path, re.escape("not an .npz (zip) archive")) as error:
        load(path)
    assert "pickle" not in str(error.value), "never suggest unpickling a user's file"


# ------------------------------------------------------------------ CSV files
CSV_HEADER = "sequence_id,label,f1,f2\n"


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("s1,a,1,2\ns1,a,3\n", 3, "expected 4 fields"),
        ("s1,a,1,2\ns1,a,3,x\n", 3, "value 2 'x' is not a number"),
        ("s1,a,1,2\ns1,a,3,inf\n", 3, "value 2 is"),
        ("s1,a,1,2\ns2,b,1,2\ns1,a,3,4\n", 4, "sequence 's1' started on line 2 and comes back"),
        ("s1,a,1,2\ns1,b,3,4\n", 3, "has label 'b' here but 'a' on line 2"),
    ],
)
def test_csv_bad_row(tmp_path, body, line, message):
    path = write(tmp_path / "d.csv", CSV_HEADER + body)
    with raises_at(f"{path} line {line}", message):
        read_csv(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("id,label,f1\ns1,a,1\n", "line 1: expected the header"),
        (CSV_HEADER, "no data rows"),
        (CSV_HEADER + "s1,a,1,2\ns2,a,1,2\n", "only one class"),
    ],
)
def test_csv_bad_file(tmp_path, text, message):
    path = write(tmp_path / "d.csv", text)
    with raises_at(path, message):
        read_csv(path)
