"""The Triton model repository: parsing, checking and rendering per deployment profile."""
