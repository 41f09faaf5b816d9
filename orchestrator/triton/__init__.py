"""Everything that talks to or launches a Triton Inference Server."""
