#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs the static gate and pytest.
#   ./scripts/test.sh            everything (what CI runs)
#   ./scripts/test.sh -m 'not engines'   extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# etcd for the Kubernetes API server tests (tests/engines/kube.py): Debian's package. Nothing
# here fails the run: where it cannot be installed the tests say so (and fail where engines are
# required).
if ! command -v etcd >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  if command -v apt-get >/dev/null 2>&1 && $sudo apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq etcd-server >/dev/null; then
    echo "test.sh: installed etcd-server"
  else
    echo "test.sh: could not install etcd-server (apt-get as root); the API server tests will say so"
  fi
fi

./scripts/build-tools.sh
# The pinned Pulumi CLI and its Python host, for the tests that run the real CLI (tests/cli), and its
# Node.js host for the TypeScript example's (tests/engines/test_cli_typescript.py, which also needs
# node and npm; npm's downloads are kept in .cache/npm). Where one cannot be provided, its one-line
# reason goes to .cache/tools/pulumi.unavailable: those tests skip with it, and fail where the
# engines are required (CI).
# An official CLI of the pinned version on PATH, its host beside it, is used as it is.
rm -f .cache/tools/pulumi.unavailable
pin=$(sed -n 's/^PULUMI_VERSION=//p' scripts/install-pulumi.sh)
if command -v pulumi >/dev/null 2>&1 && [ "$(pulumi version 2>/dev/null)" = "$pin" ] &&
  [ -x "$(dirname "$(command -v pulumi)")/pulumi-language-python" ]; then
  echo "test.sh: using the installed Pulumi CLI $pin at $(command -v pulumi)"
elif ! why=$(PULUMI_RELEASE_BASE_URL= ./scripts/install-pulumi.sh --with-nodejs); then
  echo "$why" > .cache/tools/pulumi.unavailable
  echo "test.sh: $why"
fi

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest "$@"
