#!/usr/bin/env bash
# Builds the Go tools the tests use into .cache/tools (kept between runs):
#   actionlint                  lints .github/workflows (tests/test_workflows.py)
#   openbao-plugin-auth-aws     OpenBao's AWS auth method, for the auth-chain tests (tests/engines)
# A tool that cannot be built leaves a one-line reason in .cache/tools/<tool>.unavailable; the
# tests that need it skip with that line. Nothing here fails the run: the tests decide.
set -uo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/.cache/tools"
mkdir -p "$tools"

ACTIONLINT="github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"
# openbao-plugins has no Go-module semver tags (its tags are auth-aws-vX.Y.Z), so it is pinned
# by pseudo-version: commit 2ff5b9ee413b of main, 2025-05-04.
OPENBAO_AWS_PLUGIN="github.com/openbao/openbao-plugins/auth/aws/cmd@v0.0.0-20250504210342-2ff5b9ee413b"

build() {  # build <binary name> <go package@version>
  local name=$1 pkg=$2 out
  if [ -x "$tools/$name" ] && [ "$(cat "$tools/$name.pkg" 2>/dev/null)" = "$pkg" ]; then
    return 0
  fi
  rm -f "$tools/$name" "$tools/$name.unavailable"
  if ! command -v go >/dev/null 2>&1; then
    echo "go is not installed, so $name cannot be built" > "$tools/$name.unavailable"
  else
    local work
    work=$(mktemp -d)
    if out=$(cd "$work" && GOBIN="$work/bin" GOFLAGS=-mod=mod go install "$pkg" 2>&1); then
      mv "$work/bin/"* "$tools/$name"
      echo "$pkg" > "$tools/$name.pkg"
    else
      printf 'go install %s failed: %s\n' "$pkg" "$(echo "$out" | tr '\n' ' ' | sed 's/  */ /g')" > "$tools/$name.unavailable"
    fi
    rm -rf "$work"
  fi
  if [ -f "$tools/$name.unavailable" ]; then
    echo "build-tools: $(cat "$tools/$name.unavailable")"
  else
    echo "build-tools: $name ready ($pkg)"
  fi
}

build actionlint "$ACTIONLINT"
build openbao-plugin-auth-aws "$OPENBAO_AWS_PLUGIN"
exit 0
