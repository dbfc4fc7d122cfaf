"""Lookout benchmarks, run by ``lookout bench AREA``."""
