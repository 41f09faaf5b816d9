"""Detection, frame-error and status events: the versioned JSON that leaves pitchside."""
