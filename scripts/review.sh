#!/usr/bin/env bash
# The offline review (docs/review.md), from any directory, on a fresh clone too:
#   ./scripts/review.sh [stack] [--out folder] [--readme]     stack: default dev
# The first run creates .venv and installs requirements.txt into it (a few minutes, once: needs PyPI);
# then it runs `python -m tooling.review` with the repository on the module path, so the
# folder written (--out, default review/) is relative to where you are. No cloud credentials.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv

python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  echo "review: creating $venv (once)" >&2
  "$python" -m venv "$venv"
fi
# Installed when any module the program imports is missing (a fresh .venv, or an install that stopped).
modules='"pulumi", "pulumi_aws", "pulumi_kubernetes", "pulumi_vault", "yaml"'
if ! "$venv/bin/python" -c "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in ($modules)))"; then
  echo "review: installing requirements.txt into $venv (once; a few minutes)" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements.txt"
fi

stack=dev
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  stack=$1
  shift
fi
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$venv/bin/python" -m tooling.review --stack "$stack" "$@"
