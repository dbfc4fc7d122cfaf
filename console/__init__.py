"""console package (see README.md)."""
