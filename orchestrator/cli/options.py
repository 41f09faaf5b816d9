"""Options shared by several commands, declared once."""

from pathlib import Path
from typing import Annotated

import typer

ModelRepositoryOption = Annotated[
    Path, typer.Option("--model-repository", help="Triton model repository to serve.", show_default=True)
]
TritonUrlOption = Annotated[
    str | None,
    typer.Option(
        "--triton-url",
        help="gRPC host:port of an existing Triton server; without it an embedded server is started.",
        envvar="PITCHSIDE_TRITON_URL",
    ),
]
