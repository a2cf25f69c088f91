#!/usr/bin/env bash
# Builds the pinned Pulumi CLI from the Go module proxy into .cache/tools/pulumi (kept between runs).
#   ./scripts/install-pulumi.sh   prints the CLI's path; when it cannot, prints one line saying why
#                                 (on stdout too, for deploy.sh) and exits 1; progress goes to stderr
# deploy.sh calls it when `pulumi` is not on PATH. The proxy serves github.com/pulumi/pulumi/pkg/v3
# (the CLI's module) at this version, with the sdk/v3 of the same version. pkg/v3's go.mod replaces
# sdk/v3 with its own folder, which `go install pkg@version` refuses, so it is built as a dependency
# of a throwaway module whose go.mod requires both at this version; the version is stamped in as
# Pulumi's release builds do (`pulumi version`).
set -uo pipefail
cd "$(dirname "$0")/.."
PULUMI_VERSION=v3.274.1
tools="$PWD/.cache/tools"
out="$tools/pulumi"

if [ -x "$out" ] && [ "$(cat "$out.pkg" 2>/dev/null)" = "$PULUMI_VERSION" ]; then
  echo "$out"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "no 'pulumi' on PATH and no Go to build it with: install the Pulumi CLI $PULUMI_VERSION (https://www.pulumi.com/docs/install/) or Go"
  exit 1
fi
mkdir -p "$tools"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "install-pulumi: building the Pulumi CLI $PULUMI_VERSION from the Go module proxy (a few minutes the first time)" >&2
if ! log=$(cd "$work" && go mod init example.invalid/pulumi-cli 2>&1 &&
  GOFLAGS=-mod=mod go get "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" 2>&1 &&
  GOFLAGS=-mod=mod go build -trimpath -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$work/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi 2>&1); then
  echo "go build of the Pulumi CLI $PULUMI_VERSION failed: $(echo "$log" | grep -v '^go: downloading' | tail -3 | tr '\n' ' ')"
  exit 1
fi
mv "$work/pulumi" "$out"
echo "$PULUMI_VERSION" > "$out.pkg"
echo "$out"
