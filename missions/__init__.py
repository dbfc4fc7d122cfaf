"""missions package (see README.md)."""
