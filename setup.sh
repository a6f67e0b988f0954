#!/usr/bin/env bash
# Set up the project on a fresh machine: a virtual environment in .venv with everything installed.
# torch is installed first, pinned to the CPU wheel, so that no dependency pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
