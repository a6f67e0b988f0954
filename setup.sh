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

# The browser test (tests/test_browser.py) drives the system Chromium: the Debian packages, when missing.
if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "warning: apt-get not found; install Chromium at /usr/bin/chromium to run the browser test" >&2
    elif ! { $SUDO apt-get update -qq &&
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; }
    then
        echo "warning: could not install chromium and chromium-driver; the browser test will be skipped (fails under CI)" >&2
    fi
fi
