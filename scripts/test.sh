#!/usr/bin/env bash
# The whole test suite: unit tests, then integration tests against a real embedded Triton server
# (started by the test session itself). pytest's exit code 5 ("no tests collected") is a failure here.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
"$bin/ruff" check orchestrator tests scripts model_repository || exit 1
"$bin/ruff" format --check orchestrator tests scripts model_repository || exit 1
"$bin/mypy" || exit 1
"$bin/python" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
