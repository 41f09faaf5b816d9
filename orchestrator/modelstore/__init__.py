"""From a researcher's ONNX to a validated, versioned, immutable model in the S3 model store.

``source_check`` says whether a hand-over can be served at all; ``golden`` and ``gate`` judge a built graph
against the source model's own detections; ``manifest`` and ``publish`` put a version into the store.
"""
