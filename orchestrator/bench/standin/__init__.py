"""A zero-cost stand-in for the detector, so the ceiling of everything else is measurable on any machine.

It replays the real detector's recorded outputs (``replay.py``) from a Python model served in a rendered copy of
the repository (``repository.py``); the benchmark labels every figure measured with it as such.
"""
