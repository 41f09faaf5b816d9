"""Pure computer-vision functions shared by the Triton models and the orchestrator.

Nothing here imports Triton: every function is a typed numpy/OpenCV function tested without a server.
"""
