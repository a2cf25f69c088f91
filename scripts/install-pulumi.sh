#!/usr/bin/env bash
# Provides the pinned Pulumi CLI and Pulumi's Python language host, which the CLI needs to run this
# program and its policy pack, in .cache/tools/pulumi/bin (kept between runs).
#   ./scripts/install-pulumi.sh   prints the CLI's path; when it cannot, prints one line saying why
#                                 (on stdout too, for deploy.sh) and exits 1; progress goes to stderr
# PULUMI_VERSION is the project's one pin of the CLI: the workflows and the tests read it here.
#
# The CLI: the Go module proxy serves github.com/pulumi/pulumi/pkg/v3 (the CLI's module) at this
# version, with the sdk/v3 of the same version. pkg/v3's go.mod replaces sdk/v3 with its own
# folder, which `go install pkg@version` refuses, so it is built as a dependency of a throwaway
# module whose go.mod requires both at this version; the version is stamped in as Pulumi's release
# builds do (`pulumi version`).
# The host: Pulumi's release archives ship it beside the CLI; the proxy refuses its module, so it
# is built from its source in ../shared/pulumi-language-python (PULUMI_PYTHON_HOST_SOURCE), against
# the same pkg/v3 and sdk/v3 (its build.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
PULUMI_VERSION=v3.274.1
host_source=${PULUMI_PYTHON_HOST_SOURCE:-../shared/pulumi-language-python}
out="$PWD/.cache/tools/pulumi/bin"
stamp="$out/.installed"

host_hash() {  # what the host is built from: its source, module file and sums
  cat "$host_source/main.go" "$host_source/go.mod" "$host_source/go.sum" 2>/dev/null | sha256sum | cut -c1-16
}
want="$PULUMI_VERSION host:$(host_hash)"
if [ -x "$out/pulumi" ] && [ -x "$out/pulumi-language-python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$out/pulumi"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "no 'pulumi' on PATH and no Go to build it with: install the Pulumi CLI $PULUMI_VERSION (https://www.pulumi.com/docs/install/) or Go"
  exit 1
fi
if [ ! -x "$host_source/build.sh" ]; then
  echo "no source of Pulumi's Python language host at $host_source (PULUMI_PYTHON_HOST_SOURCE): install the Pulumi CLI $PULUMI_VERSION (https://www.pulumi.com/docs/install/), which ships it"
  exit 1
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
started=$SECONDS
if [ "$(cat "$stamp" 2>/dev/null | cut -d' ' -f1)" != "$PULUMI_VERSION" ] || [ ! -x "$out/pulumi" ]; then
  echo "install-pulumi: building the Pulumi CLI $PULUMI_VERSION from the Go module proxy (about 10 minutes on 2 cores the first time)" >&2
  if ! log=$(cd "$work" && go mod init example.invalid/pulumi-cli 2>&1 &&
    GOFLAGS=-mod=mod go get "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" 2>&1 &&
    GOFLAGS=-mod=mod go build -trimpath -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$work/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi 2>&1); then
    echo "go build of the Pulumi CLI $PULUMI_VERSION failed: $(echo "$log" | grep -v '^go: downloading' | tail -3 | tr '\n' ' ')"
    exit 1
  fi
  mv "$work/pulumi" "$out/pulumi"
fi
echo "install-pulumi: building Pulumi's Python language host from $host_source" >&2
if ! log=$(bash "$host_source/build.sh" "$work/host" 2>&1); then
  echo "the build of Pulumi's Python language host failed: $(echo "$log" | grep -v '^go: downloading' | tail -3 | tr '\n' ' ')"
  exit 1
fi
mv "$work/host/pulumi-language-python" "$work/host/pulumi-language-python-exec" "$out/"
echo "$want" > "$stamp"
echo "install-pulumi: the Pulumi CLI $PULUMI_VERSION and its Python host are ready in $((SECONDS - started))s" >&2
echo "$out/pulumi"
