"""Where things are on the pitch: camera calibration, pitch templates, positions in metres, zones."""
