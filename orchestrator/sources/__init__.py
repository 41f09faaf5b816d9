"""Where frames come from: video files, network streams, image directories, synthetic frames."""
