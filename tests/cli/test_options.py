"""The 'auto' settings of the command line: epochs, batch size and time mask resolved per data set."""
import pytest

from rnnkit import data
from rnnkit.cli import build_parser
from rnnkit.cli._options import auto_epochs, model_settings, train_config
from rnnkit.cli.compare import _report_settings


def parse(*extra):
    return build_parser().parse_args(["train", "--data", "fsdd-digits", "--out", "runs/x", *extra])


def test_auto_epochs_give_about_the_same_number_of_updates():
    assert auto_epochs(1350, 32) == 47  # fsdd-digits' fitting split: 43 steps per epoch
    assert auto_epochs(135, 8) == 118  # lasa-handwriting's: 17 steps per epoch
    assert auto_epochs(1_000_000, 32) == 30 and auto_epochs(10, 8) == 200  # the bounds


def test_auto_resolves_per_data_set(stroke_folder):
    args = parse()
    fsdd = train_config(args, 1350, "fsdd-digits")
    assert (fsdd.epochs, fsdd.batch_size, fsdd.time_mask) == (47, 32, 4)
    own = train_config(args, 135, str(stroke_folder))
    assert (own.epochs, own.batch_size, own.time_mask) == (118, 8, 0), "no masking assumed for a user's files"
    explicit = train_config(parse("--epochs", "7", "--batch-size", "5", "--time-mask", "2"), 1350, "fsdd-digits")
    assert (explicit.epochs, explicit.batch_size, explicit.time_mask) == (7, 5, 2)


def test_a_folder_named_like_a_bundled_set_gets_no_bundled_setting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert data.bundled_time_mask("fsdd-digits") == 4
    (tmp_path / "fsdd-digits").mkdir()  # `load` reads this folder, so its settings must not apply
    assert data.bundled_time_mask("fsdd-digits") == 0


@pytest.mark.parametrize("option,value", [("--epochs", "0"), ("--epochs", "ten"), ("--time-mask", "-1"),
                                          ("--batch-size", "1.5")])
def test_bad_values_are_usage_errors(option, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(option, value)
    assert exit_info.value.code == 2 and "integer or 'auto'" in capsys.readouterr().err


def test_bidirectional_by_default_and_can_be_turned_off():
    assert model_settings(parse())["bidirectional"] is True
    assert model_settings(parse("--no-bidirectional"))["bidirectional"] is False


def test_compare_report_separates_shared_and_per_data_set_settings():
    settings = {"a": {"lr": 0.003, "epochs": 59, "time_mask": 4}, "b": {"lr": 0.003, "epochs": 148, "time_mask": 0}}
    assert _report_settings(settings) == {"training": {"lr": 0.003}, "a": {"epochs": 59, "time_mask": 4},
                                          "b": {"epochs": 148, "time_mask": 0}}
    assert _report_settings({"a": {"lr": 0.003}}) == {"training": {"lr": 0.003}}
