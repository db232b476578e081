"""Kernel speed: the same measurements and options as ``rnnkit bench``.

    python benchmarks/bench_kernels.py                                  # all variants, the issue's three sizes
    python benchmarks/bench_kernels.py --sizes 100x32x39x128 --variants lstm,gru --json out.json
"""
import argparse
import sys

from rnnkit.cli import bench

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=bench.DESCRIPTION)
    bench.add_arguments(parser)
    sys.exit(bench.run(parser.parse_args()))
