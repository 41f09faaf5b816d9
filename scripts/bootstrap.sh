#!/usr/bin/env bash
# Create (or update) the project's virtual environment with everything the CLI, the embedded
# Triton server's Python models and the tests need. Idempotent.
set -euo pipefail
venv="${1:-.venv}"
python="${PYTHON:-python3}"
cd "$(dirname "$0")/.."
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[embedded,dev,plots]"
"$venv/bin/python" -c "import numpy, cv2, onnxruntime, tritonclient.grpc.aio; assert numpy.__version__ < '2'"
echo "pitchside environment ready in $venv"
