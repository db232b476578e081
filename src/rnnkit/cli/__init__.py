"""The command line (``rnnkit ...``) and the runs behind it."""
from ._main import build_parser, main
from ._study import DataConfig, RunResult, load_run, prepare_data, train_run

__all__ = ["main", "build_parser", "DataConfig", "RunResult", "train_run", "prepare_data", "load_run"]
