"""Test-suite settings: hypothesis without its 200 ms deadline (a first call compiles kernels)."""
from hypothesis import settings

settings.register_profile("jitgrad", deadline=None, max_examples=60)
settings.load_profile("jitgrad")
