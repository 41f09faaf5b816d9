"""Per-stream flow: source thread -> bounded frame buffer -> Triton -> in-order release -> tracker -> events."""
