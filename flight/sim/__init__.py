"""Embedded simulated copter (see flight/README.md)."""
