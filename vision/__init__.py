"""vision package (see README.md)."""
