"""pitchside: Triton ensembles in, sports data feeds out."""

__version__ = "0.1.0"
