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
StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        envvar="PITCHSIDE_STATE_DIR",
        help="Writable directory for the sinks' journal and dead letters (a persistent volume in Kubernetes); "
        "overrides [delivery] state_dir. Default: out/ beside the config file.",
    ),
]
