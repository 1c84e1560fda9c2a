"""Benchmark harness (`make bench`, `lakehouse bench`) and the baseline engines it compares against."""
