"""Runnable examples shipped in the wheel: ``python -m jitgrad.examples.train``."""
