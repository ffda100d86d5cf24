"""Reproducible MovieLens benchmarks of gnnrec (``python -m benchmarks.reproduce``).

Not part of the installed package: run it from a checkout. See ``benchmarks/README.md``.
"""
