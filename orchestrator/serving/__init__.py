"""What the Triton models do besides the computer vision: how they answer under abuse.

Nothing here imports Triton; the models' adapters hand it plain callables."""
