"""flight package (see README.md)."""
