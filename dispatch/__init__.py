"""dispatch package (see README.md)."""
