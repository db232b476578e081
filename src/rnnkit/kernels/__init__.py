"""Whole-sequence kernels with hand-derived BPTT (see docs/derivations/)."""
