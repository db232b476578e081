"""Atomic writes: a crash mid-write keeps the old file and leaves no temporary file."""
import json
import os

import pytest

from rnnkit._atomic import atomic_path, write_json_atomic, write_text_atomic


def test_json_replaces_the_old_content(tmp_path):
    path = tmp_path / "sub" / "metrics.json"
    write_json_atomic(path, {"a": 1})
    write_json_atomic(path, {"a": 2, "b": [1.5, None]})
    assert json.loads(path.read_text()) == {"a": 2, "b": [1.5, None]}
    assert os.listdir(path.parent) == ["metrics.json"]


def test_failure_half_way_through_writing_keeps_the_old_file(tmp_path):
    target = write_text_atomic(tmp_path / "report.html", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half writ")  # some bytes are on disk already
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["report.html"]


def test_a_writer_that_recreates_the_file_keeps_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "w.bin") as tmp:
            tmp.unlink()
            fd = os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600)  # as safetensors' save_file does
            os.close(fd)
    finally:
        os.umask(umask)
    assert (tmp_path / "w.bin").stat().st_mode & 0o777 == 0o644
