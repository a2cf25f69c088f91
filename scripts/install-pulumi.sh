#!/usr/bin/env bash
# Provides the pinned Pulumi CLI and Pulumi's Python language host, which the CLI needs to run this
# program and its policy pack, in .cache/tools/pulumi/bin (kept between runs).
#   ./scripts/install-pulumi.sh          prints the CLI's path; when it cannot, prints one line saying
#                                        why (on stdout too, for deploy.sh) and exits 1; progress,
#                                        with a line at least every 30 s, goes to stderr
#   ./scripts/install-pulumi.sh --with-nodejs   the same, and beside them Pulumi's Node.js language
#                                        host, which runs a TypeScript program using this component
#                                        package (examples/typescript; test.sh asks for it). The Python
#                                        program does not need it: where it cannot be had, the CLI and
#                                        Python host are still provided, and its one-line reason goes
#                                        to stderr and to .cache/tools/pulumi.unavailable (the
#                                        TypeScript tests skip with it, or fail in CI)
#   ./scripts/install-pulumi.sh --check  provides nothing: exit 0 when it could (kept, download or
#                                        build), else the one line why and exit 1 (deploy.sh's preflight)
# PULUMI_VERSION is the project's one pin of the CLI: the workflows and the tests read it here.
#
# First choice, as users install it: Pulumi's release archive of this version, CLI and language hosts
# together in one top folder `pulumi/` (https://www.pulumi.com/docs/install/; layout:
# https://github.com/pulumi/pulumi/issues/5393), named pulumi-v<version>-<os>-<arch>.tar.gz, verified
# against the release's checksums file pulumi-<version>-checksums.txt (`<sha256>  <archive>` lines;
# https://github.com/pulumi/pulumi/issues/10807, #10707) from the same place:
# PULUMI_RELEASE_BASE_URL, default https://get.pulumi.com/releases/sdk (Pulumi's installer's;
# https://github.com/pulumi/pulumi/releases/download/<tag> has the same names). Set it empty to skip
# the download (scripts/test.sh does: CI and the test machines reach no download host). An archive
# whose checksum does not match is refused in one line and not used.
#
# Else, built from source. The CLI: the Go module proxy serves github.com/pulumi/pulumi/pkg/v3 (the
# CLI's module) at this version, with the sdk/v3 of the same version. pkg/v3's go.mod replaces sdk/v3
# with its own folder, which `go install pkg@version` refuses, so it is built as a dependency of a
# throwaway module whose go.mod requires both at this version; the version is stamped in as Pulumi's
# release builds do (`pulumi version`). The host: the proxy refuses its module, so it is built from its
# source in ../shared/pulumi-language-python (PULUMI_PYTHON_HOST_SOURCE), against the same pkg/v3 and
# sdk/v3 (its build.sh). The Node.js host likewise, from ../shared/pulumi-language-nodejs
# (PULUMI_NODEJS_HOST_SOURCE), whose build.sh pins the pkg/v3 and sdk/v3 its source compiles against.
# The stamp's first line names the CLI's version and the Python host's source, its second the Node.js
# host's source: a change to either source rebuilds that host only.
set -uo pipefail
cd "$(dirname "$0")/.."
PULUMI_VERSION=v3.274.1
release_base=${PULUMI_RELEASE_BASE_URL-https://get.pulumi.com/releases/sdk}
host_source=${PULUMI_PYTHON_HOST_SOURCE:-../shared/pulumi-language-python}
nodejs_source=${PULUMI_NODEJS_HOST_SOURCE:-../shared/pulumi-language-nodejs}
with_nodejs=""
[ "${1:-}" = --with-nodejs ] && with_nodejs=1
heartbeat_seconds=${PULUMI_INSTALL_HEARTBEAT_SECONDS:-20}
out="$PWD/.cache/tools/pulumi/bin"
stamp="$out/.installed"
checksums="pulumi-${PULUMI_VERSION#v}-checksums.txt"

host_hash() {  # what the Python host is built from: its source, module file and sums
  cat "$host_source/main.go" "$host_source/go.mod" "$host_source/go.sum" 2>/dev/null | sha256sum | cut -c1-16
}
nodejs_hash() {  # what the Node.js host is built from: its Go files (it has several), module file and sums
  cat "$nodejs_source"/*.go "$nodejs_source/go.mod" "$nodejs_source/go.sum" 2>/dev/null | sha256sum | cut -c1-16
}
built="$PULUMI_VERSION host:$(host_hash)"
nodejs_built="nodejs:$(nodejs_hash)"

installed() {  # this version's CLI and host are in $out: from its release archive, or built from this source
  local have
  have=$(head -n 1 "$stamp" 2>/dev/null)
  [ -x "$out/pulumi" ] && [ -x "$out/pulumi-language-python" ] &&
    { [ "$have" = "$built" ] || [ "${have% sha256:*}" = "$PULUMI_VERSION release" ]; }
}

archive_name() {  # Pulumi's name of this machine's archive, or nothing where it ships none
  local os arch
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) return 1 ;; esac
  case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) return 1 ;; esac
  echo "pulumi-$PULUMI_VERSION-$os-$arch.tar.gz"
}

sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }

# Installs the release archive; on failure sets download_failed to why (one line) and returns 1.
download_failed=""
download_release() {
  local archive expected actual err
  archive=$(archive_name) || { download_failed="Pulumi ships no release archive for $(uname -sm)" && return 1; }
  command -v curl >/dev/null 2>&1 || { download_failed="no curl to download $archive with" && return 1; }
  echo "install-pulumi: downloading Pulumi's release archive of $PULUMI_VERSION from $release_base" >&2
  for file in "$checksums" "$archive"; do
    if ! err=$(curl --fail --silent --show-error --location --connect-timeout 10 -o "$work/$file" "$release_base/$file" 2>&1); then
      download_failed="cannot download $release_base/$file (${err#curl: })"
      return 1
    fi
  done
  expected=$(while read -r sum name; do [ "${name#\*}" = "$archive" ] && echo "$sum" && break; done < "$work/$checksums")
  actual=$(sha256 "$work/$archive")
  if [ "$actual" != "$expected" ]; then
    download_failed="refused $archive: its sha256 $actual is not ${expected:-listed}, the one in $checksums"
    return 1
  fi
  mkdir "$work/release" && tar -xzf "$work/$archive" -C "$work/release" 2>/dev/null ||
    { download_failed="$archive is not a gzipped tar archive" && return 1; }
  local top="$work/release/pulumi"
  [ -d "$top/bin" ] && top="$top/bin"  # the archives' older layout
  if [ ! -x "$top/pulumi" ] || [ ! -x "$top/pulumi-language-python" ]; then
    download_failed="$archive holds no pulumi and pulumi-language-python"
    return 1
  fi
  rm -rf "$out" && mkdir -p "$(dirname "$out")" && mv "$top" "$out" &&
    echo "$PULUMI_VERSION release sha256:$actual" > "$stamp"
}

# Why nothing can be built here, or nothing (it can).
cannot_build() {
  if ! command -v go >/dev/null 2>&1; then
    echo "no Go to build it with: install the Pulumi CLI $PULUMI_VERSION (https://www.pulumi.com/docs/install/) or Go"
  elif [ ! -x "$host_source/build.sh" ]; then
    echo "no source of Pulumi's Python language host at $host_source (PULUMI_PYTHON_HOST_SOURCE) to build it with: install the Pulumi CLI $PULUMI_VERSION (https://www.pulumi.com/docs/install/), which ships it"
  fi
}

# A line on stderr every $heartbeat_seconds while $1 goes on; stopped by stop_heartbeat (and at exit).
heartbeat=""
start_heartbeat() {
  local what=$1 since
  since=$(date +%s)
  (
    while sleep "$heartbeat_seconds" </dev/null >/dev/null 2>&1; do
      elapsed=$(($(date +%s) - since))
      printf 'install-pulumi: still %s: %dm%02ds elapsed\n' "$what" $((elapsed / 60)) $((elapsed % 60)) >&2
    done
  ) >/dev/null &
  heartbeat=$!
}
stop_heartbeat() { [ -z "$heartbeat" ] || kill "$heartbeat" 2>/dev/null; heartbeat=""; }

# The CLI from the Go module proxy and the host from its source, into $out.
build_from_source() {
  local log
  if [ "$(cut -d' ' -f1 "$stamp" 2>/dev/null)" != "$PULUMI_VERSION" ] || [ ! -x "$out/pulumi" ] || grep -q release "$stamp" 2>/dev/null; then
    echo "install-pulumi: building the Pulumi CLI $PULUMI_VERSION from the Go module proxy (about 10 minutes on 2 cores the first time)" >&2
    start_heartbeat "building the Pulumi CLI $PULUMI_VERSION"
    if ! log=$(cd "$work" && go mod init example.invalid/pulumi-cli 2>&1 &&
      GOFLAGS=-mod=mod go get "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" 2>&1 &&
      GOFLAGS=-mod=mod go build -trimpath -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
        -o "$work/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi 2>&1); then
      echo "go build of the Pulumi CLI $PULUMI_VERSION failed: $(echo "$log" | grep -v '^go: downloading' | tail -3 | tr '\n' ' ')"
      return 1
    fi
    stop_heartbeat
    rm -rf "$out" && mkdir -p "$out" && mv "$work/pulumi" "$out/pulumi"
  fi
  echo "install-pulumi: building Pulumi's Python language host from $host_source" >&2
  start_heartbeat "building Pulumi's Python language host"
  if ! log=$(bash "$host_source/build.sh" "$work/host" 2>&1); then
    echo "the build of Pulumi's Python language host failed: $(echo "$log" | grep -v '^go: downloading' | tail -3 | tr '\n' ' ')"
    return 1
  fi
  stop_heartbeat
  mv "$work/host/pulumi-language-python" "$work/host/pulumi-language-python-exec" "$out/" &&
    { echo "$built"; sed -n 2p "$stamp" 2>/dev/null || true; } > "$work/stamp" && mv "$work/stamp" "$stamp"
}

# The Node.js host is in $out: from the release archive, or built from this source.
nodejs_installed() {
  [ -x "$out/pulumi-language-nodejs" ] &&
    { [ "$(sed -n 2p "$stamp" 2>/dev/null)" = "$nodejs_built" ] || head -n 1 "$stamp" 2>/dev/null | grep -q ' release '; }
}

# With --with-nodejs, builds the Node.js host into $out beside an installed CLI, its source in the
# stamp's second line; where it cannot, says why in one line on stderr and in
# .cache/tools/pulumi.unavailable, and returns 0: the CLI and the Python host stay usable.
provide_nodejs() {
  local log why="" dir
  [ -n "$with_nodejs" ] || return 0
  nodejs_installed && return 0
  if ! command -v go >/dev/null 2>&1; then
    why="no Go to build it with (Pulumi's release archive ships it beside the CLI)"
  elif [ ! -x "$nodejs_source/build.sh" ]; then
    why="no source of it at $nodejs_source (PULUMI_NODEJS_HOST_SOURCE)"
  else
    echo "install-pulumi: building Pulumi's Node.js language host from $nodejs_source" >&2
    dir=$(mktemp -d)
    start_heartbeat "building Pulumi's Node.js language host"
    if log=$(bash "$nodejs_source/build.sh" "$dir" 2>&1) && mv "$dir/pulumi-language-nodejs" "$out/"; then
      { head -n 1 "$stamp"; echo "$nodejs_built"; } > "$stamp.new" && mv "$stamp.new" "$stamp"
    else
      why="its build failed: $(echo "$log" | grep -v '^go: downloading' | tail -3 | tr '\n' ' ')"
    fi
    stop_heartbeat
    rm -rf "$dir"
  fi
  if [ -n "$why" ]; then
    echo "pulumi-language-nodejs (Pulumi's Node.js host, for TypeScript programs) is missing: $why" |
      tee "$PWD/.cache/tools/pulumi.unavailable" >&2
  fi
  return 0
}

if installed; then
  [ "${1:-}" = --check ] && exit 0
  provide_nodejs
  echo "$out/pulumi"
  exit 0
fi
no_download=""
[ -n "$release_base" ] || no_download="the release download is off (PULUMI_RELEASE_BASE_URL is empty)"
if [ "${1:-}" = --check ]; then  # a download may work (known only by trying it), else a build must
  why=$(cannot_build)
  [ -n "$why" ] && [ -n "$no_download" ] && { echo "no 'pulumi' on PATH, $no_download and $why"; exit 1; }
  exit 0
fi

work=$(mktemp -d)
trap 'stop_heartbeat; rm -rf "$work"' EXIT
started=$SECONDS
if [ -z "$no_download" ]; then
  start_heartbeat "downloading the Pulumi CLI $PULUMI_VERSION"
  if download_release; then
    echo "install-pulumi: the Pulumi CLI $PULUMI_VERSION and its Python host are installed from Pulumi's release archive in $((SECONDS - started))s" >&2
    stop_heartbeat
    provide_nodejs
    echo "$out/pulumi"
    exit 0
  fi
  stop_heartbeat
  rm -rf "${work:?}"/*
  no_download=$download_failed
fi
why=$(cannot_build)
if [ -n "$why" ]; then
  echo "no 'pulumi' on PATH, $no_download and $why"
  exit 1
fi
[ -z "$download_failed" ] || echo "install-pulumi: $download_failed; building from source instead" >&2
build_from_source || exit 1
provide_nodejs
echo "install-pulumi: the Pulumi CLI $PULUMI_VERSION and its Python host are ready in $((SECONDS - started))s" >&2
echo "$out/pulumi"
