"""Where the project's shipped artefacts live, for commands run from a checkout."""

from pathlib import Path
from typing import Final

PROJECT_ROOT: Final = Path(__file__).resolve().parents[1]
DEFAULT_MODEL_REPOSITORY: Final = PROJECT_ROOT / "model_repository"
MEDIA_DIR: Final = PROJECT_ROOT / "media"
