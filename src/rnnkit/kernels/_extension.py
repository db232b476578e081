"""The optional C++ time loops (``csrc/``): built on request, used when built, never required.

The kernels run their time loops through ``op(name, like)``: the C++ op when the compiled library
is loaded and ``like`` is a CPU float32/float64 tensor, else None, and the caller uses the
PyTorch loop with the same arguments (``_lstm_loops.py``, ``_gru_loops.py``). Nothing is compiled
unless asked for:

* ``build()`` (or ``python -m rnnkit.kernels build``, or ``rnnkit bench``) compiles the library
  with the system C++ compiler against the installed torch (about a minute) into
  ``$RNNKIT_CACHE`` (default ``~/.cache/rnnkit``), under a name that hashes the source, the torch
  version, the compiler and the CPU, so a stale build is never loaded;
* the first kernel call loads that file if it exists;
* ``RNNKIT_EXTENSION=off`` never loads it, ``=build`` builds it on first use when missing;
* ``RNNKIT_GEMM=onednn|blas|aten`` forces the backend of the per-step GEMMs (default: measured choice,
  see ``Linear`` in ``csrc/common.h``).

Any failure (no compiler, a compile error, a load error) leaves the PyTorch loops in charge; the
reason is kept in ``status()``.
"""
from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

SOURCES = Path(__file__).parent / "csrc"  # loops.cpp includes the headers next to it
SOURCE = SOURCES / "loops.cpp"
_state: dict[str, object] = {"tried": False, "ops": None, "reason": "not loaded yet"}


def mode() -> str:
    value = os.environ.get("RNNKIT_EXTENSION", "auto").lower()
    return value if value in ("auto", "off", "build") else "auto"


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")


def _cpu_signature() -> str:
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        flags = ""
    return platform.machine() + flags


def library_path() -> Path | None:
    """Where the compiled library for this source, torch, compiler and CPU lives (None: no source)."""
    if not SOURCE.exists():
        return None
    key = hashlib.sha256()
    for path in sorted(SOURCES.glob("*.[ch]*")):
        key.update(path.name.encode() + path.read_bytes())
    for part in (torch.__version__, str(_compiler()), _cpu_signature(), sys.version):
        key.update(part.encode())
    cache = Path(os.environ.get("RNNKIT_CACHE", Path.home() / ".cache" / "rnnkit"))
    return cache / f"rnnkit_loops_{key.hexdigest()[:16]}.so"


def _commands(source: Path, obj: Path, lib: Path) -> list[list[str]]:
    from torch.utils import cpp_extension

    torch_lib = str(Path(torch.__file__).parent / "lib")
    cxx = _compiler()
    abi = f"-D_GLIBCXX_USE_CXX11_ABI={int(torch._C._GLIBCXX_USE_CXX11_ABI)}"
    includes = [f"-I{path}" for path in cpp_extension.include_paths()]
    # -ffast-math for the vectorised exp/tanh of glibc's libmvec, at compile time only: linking with it
    # would set flush-to-zero for the whole process
    compile_ = [cxx, "-c", str(source), "-o", str(obj), "-O3", "-std=c++20", "-fPIC", "-march=native", "-ffast-math",
                "-fopenmp", abi, f"-I{SOURCES}", *includes]
    link = [cxx, "-shared", str(obj), "-o", str(lib), "-fopenmp", f"-L{torch_lib}", "-lc10", "-ltorch_cpu", "-ltorch",
            f"-Wl,-rpath,{torch_lib}"]
    return [compile_, link]


def build(verbose: bool = False) -> Path:
    """Compile ``csrc/loops.cpp`` (and its headers) into the cache (no-op when already built); return its path.

    Raises RuntimeError saying why when it cannot.
    """
    lib = library_path()
    if lib is None:
        raise RuntimeError(f"no C++ source at {SOURCE}")
    if lib.exists():
        return lib
    if _compiler() is None:
        raise RuntimeError("no C++ compiler found (set CXX)")
    lib.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=lib.parent) as tmp:
        obj, tmp_lib = Path(tmp) / "loops.o", Path(tmp) / lib.name
        for command in _commands(SOURCE, obj, tmp_lib):
            if verbose:
                print(" ".join(command), file=sys.stderr)
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"building the C++ loops failed:\n{done.stderr[-4000:]}")
        os.replace(tmp_lib, lib)  # atomic: a concurrent build or load never sees half a file
    return lib


def load() -> object | None:
    """The ``torch.ops.rnnkit`` namespace once the library is loaded, else None (tried once)."""
    if _state["tried"]:
        return _state["ops"]
    _state["tried"] = True
    if mode() == "off":
        _state["reason"] = "RNNKIT_EXTENSION=off"
        return None
    try:
        lib = build() if mode() == "build" else library_path()
        if lib is None or not lib.exists():
            _state["reason"] = "not built (python -m rnnkit.kernels build)"
            return None
        torch.ops.load_library(str(lib))
        _register_fakes()
        _state["ops"], _state["reason"] = torch.ops.rnnkit, f"loaded {lib}"
    except Exception as error:  # any failure: the PyTorch loops stay in charge
        _state["ops"], _state["reason"] = None, f"unavailable: {error}"
    return _state["ops"]


def _register_fakes() -> None:
    """Shape-only versions of the C++ ops, for fake tensors (``torch.compile`` runs the scans' fake versions,
    which call them). The loops only write into buffers their caller allocated, so theirs do nothing."""
    if getattr(torch.ops.rnnkit.lstm_forward_loop.default, "_rnnkit_fake", False):
        return  # a second load() after reset()
    for name in ("lstm_forward_loop", "lstm_backward_loop", "gru_forward_loop", "gru_backward_loop"):
        torch.library.register_fake(f"rnnkit::{name}")(_writes_only)
    torch.library.register_fake("rnnkit::layer_norm_grads")(_layer_norm_grads_fake)
    torch.ops.rnnkit.lstm_forward_loop.default._rnnkit_fake = True


def _writes_only(*args, **kwargs) -> None:
    return None


def _layer_norm_grads_fake(dy, z, mean, rstd, gamma, need_dz, need_dbias):
    N = z.shape[-1]
    return (z.new_empty(z.shape) if need_dz else None), z.new_empty(N), (z.new_empty(N) if need_dbias else None)


def reset() -> None:
    """Forget the last load attempt (a later call tries again; a library already loaded stays loaded)."""
    _state.update(tried=False, ops=None, reason="not loaded yet")


def disable() -> None:
    """Use the PyTorch loops from now on (until ``reset()``), whatever is built."""
    _state.update(tried=True, ops=None, reason="disabled")


def status() -> str:
    load()
    return str(_state["reason"])


def op(name: str, like: torch.Tensor) -> Callable | None:
    """The C++ loop ``name`` for tensors like ``like``, or None when the PyTorch loop must run."""
    if like.device.type != "cpu" or like.dtype not in (torch.float32, torch.float64):
        return None
    ops = load()
    return None if ops is None else getattr(ops, name)
