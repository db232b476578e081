"""Convert the shared raw data sets into the compact files bundled in `rnnkit.data/bundled/`.

    python tools/make_bundled_data.py [--source DIR] [--out DIR]

(defaults: /work/shared/datasets -> src/rnnkit/data/bundled)

Run once when the bundled data change; the package never needs the raw data or scipy at run time.
Needs numpy and scipy (to read the LASA `.mat` files). What each output holds, and why, is stated
next to its converter below and in `bundled/ATTRIBUTION.md`.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPLIT_SEED = 0  # fixes the stored FSDD test split for good

# Seven tragedies, ~1.0 M characters: enough for a character language model, ~0.4 MB gzipped.
SHAKESPEARE_PLAYS = (
    "hamlet", "lear", "macbeth", "othello", "romeo_and_juliet", "julius_caesar",
    "antony_and_cleopatra",
)
SURNAMES_KEPT = 5000  # the most frequent surnames; all 88,799 would outweigh the first names
LASA_STEPS = 100  # of the 1,000 recorded points per demo, evenly spaced, endpoints included
LASA_TEST_DEMOS = (5, 6)  # of demos 0..6 per shape; the rest train


def make_fsdd(source: Path, out: Path) -> None:
    """FSDD MFCCs as they are (float32 frames, 3000 clips) plus a fixed stratified 50/50 split.

    The clips carry no speaker ids, so the split is random within each digit (150 + 150 per digit),
    as for the reference result in the shared README; `is_test` stores it so it never changes.
    """
    raw = np.load(source / "fsdd_digits" / "digits.npz", allow_pickle=False)
    x, lengths, y = raw["X"].astype(np.float32), raw["lengths"], raw["y"]
    assert int(lengths.sum()) == len(x) and len(lengths) == len(y) == 3000
    rng = np.random.default_rng(SPLIT_SEED)
    is_test = np.zeros(len(y), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(y == digit)
        is_test[rng.permutation(members)[: len(members) // 2]] = True
    np.savez_compressed(
        out / "fsdd_digits.npz",
        X=x,
        lengths=lengths.astype(np.int32),
        y=y.astype(np.int8),
        class_names=np.array([str(d) for d in range(10)]),
        is_test=is_test,
    )


def make_lasa(source: Path, out: Path) -> None:
    """LASA pen positions (x, y), 100 steps per demo, 30 shapes x 7 demos; `groups` = demo index.

    Only positions are kept: that is what a pen-stroke file holds, and velocity is their difference.
    The test split holds out whole demos (5 and 6 of every shape), so a model is tested on
    recordings it has not seen rather than on near-copies of its training demos.
    """
    from scipy.io import loadmat  # build time only

    files = sorted((source / "lasa_handwriting").glob("*.mat"), key=lambda p: p.stem.lower())
    keep = np.round(np.linspace(0, 999, LASA_STEPS)).astype(int)
    frames, labels, groups = [], [], []
    for label, path in enumerate(files):
        demos = loadmat(path)["demos"]
        assert demos.shape == (1, 7), (path, demos.shape)
        for demo in range(7):
            pos = demos[0, demo][0, 0]["pos"]  # (2, 1000): rows x, y
            assert pos.shape == (2, 1000), (path, demo, pos.shape)
            frames.append(pos[:, keep].T.astype(np.float32))  # (100, 2)
            labels.append(label)
            groups.append(demo)
    groups = np.array(groups, dtype=np.int8)
    np.savez_compressed(
        out / "lasa_handwriting.npz",
        X=np.concatenate(frames),
        lengths=np.full(len(frames), LASA_STEPS, dtype=np.int32),
        y=np.array(labels, dtype=np.int8),
        class_names=np.array([p.stem for p in files]),
        groups=groups,
        is_test=np.isin(groups, LASA_TEST_DEMOS),
    )


def make_shakespeare(source: Path, out: Path) -> None:
    """Seven tragedies joined, each starting with its title line, separated by two blank lines."""
    texts = [(source / "shakespeare" / f"{play}_gut.txt").read_text(encoding="utf-8").strip()
             for play in SHAKESPEARE_PLAYS]
    _write_gz(out / "shakespeare.txt.gz", "\n\n\n".join(texts) + "\n")


def make_census_names(source: Path, out: Path) -> None:
    """`NAME<TAB>kind` lines, kind male / female / surname, each kind from most to least frequent.

    Names stay in the census's upper case (the source has no other case).
    """
    lines = []
    for kind, filename, limit in (("male", "dist.male.first", None),
                                  ("female", "dist.female.first", None),
                                  ("surname", "dist.all.last", SURNAMES_KEPT)):
        rows = (source / "census_names" / filename).read_text(encoding="ascii").splitlines()
        names = [row.split()[0] for row in rows if row.strip()][:limit]
        lines += [f"{name}\t{kind}" for name in names]
    _write_gz(out / "census_names.txt.gz", "\n".join(lines) + "\n")


def make_cmudict(source: Path, out: Path) -> None:
    """The whole CMU Pronouncing Dictionary, unchanged (0.9 MB gzipped), and its licence."""
    text = (source / "cmudict" / "cmudict.dict").read_text(encoding="utf-8")
    _write_gz(out / "cmudict.dict.gz", text)
    shutil.copyfile(source / "cmudict" / "LICENSE", out / "CMUDICT_LICENSE.txt")


def _write_gz(path: Path, text: str) -> None:
    # mtime=0 and no file name in the header: the same input gives the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as gz:
        gz.write(text.encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/work/shared/datasets"))
    parser.add_argument("--out", type=Path, default=REPO / "src" / "rnnkit" / "data" / "bundled")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for make in (make_fsdd, make_lasa, make_shakespeare, make_census_names, make_cmudict):
        make(args.source, args.out)
    for path in sorted(args.out.iterdir()):
        print(f"{path.stat().st_size / 1e3:9.1f} kB  {path.name}")


if __name__ == "__main__":
    main()
