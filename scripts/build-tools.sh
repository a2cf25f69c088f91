#!/usr/bin/env bash
# Builds the Go tools the tests use into .cache/tools (kept between runs):
#   actionlint        lints .github/workflows (tests/test_workflows.py)
#   aws-auth-plugin   the AWS auth method as an external plugin that OpenBao registers, for the
#                     auth-chain tests (tests/engines; tests/engines/awsauthplugin, a module here)
#   gloologin         Gloo's Vault login and secret reads with the Go libraries Gloo pins, which
#                     the auth-chain tests log in with (tests/engines/gloologin, a module here)
# A tool that cannot be built leaves a one-line reason in .cache/tools/<tool>.unavailable; the
# tests that need it skip with that line on a laptop. In CI (GLOO_VAULT_IRSA_REQUIRE_ENGINES=1) the
# run fails too, after every tool was tried: a lint or an engine test must never vanish there.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools="$PWD/.cache/tools"
mkdir -p "$tools"

ACTIONLINT="github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"
# OpenBao's own AWS auth plugin comes first. openbao-plugins has no Go-module semver tags (its tags
# are auth-aws-vX.Y.Z), so it is pinned by pseudo-version: commit 2ff5b9ee413b of main, 2025-05-04.
# The Go proxy refuses every version of it with 403 (2026-11), so the fallback is the code that
# plugin forks: HashiCorp Vault's builtin AWS auth method, which speaks the same plugin protocol and
# which OpenBao registers. Vault is BUSL-1.1: fine for tests, never shipped.
# Vault's AWS auth after 1.18 calls the plugin system view's rotation-job API
# (Register/DeregisterRotationJob) on every config/client write, which OpenBao does not have, so
# Vault's own cmd/aws mounts but refuses the guide's step 5 ("unknown method DeregisterRotationJob").
# So it is served by tests/engines/awsauthplugin, a module here: Vault's method at the Job's image
# version (1.21.4, fixed for CVE-2025-11621), unchanged but for a DeregisterRotationJob that
# OpenBao answers Unimplemented taken as done (its main.go says why that leaves logins Vault's own).
OPENBAO_AWS_PLUGIN="github.com/openbao/openbao-plugins/auth/aws/cmd@v0.0.0-20250504210342-2ff5b9ee413b"

# Kubernetes' API server, from k8s.io/kubernetes at this version; its staging modules (k8s.io/api,
# k8s.io/apiserver...) are the published k8s.io/<module> v0.<minor>.<patch> (see kube_build).
KUBE_VERSION=1.34.4
KUBE_APISERVER="k8s.io/kubernetes/cmd/kube-apiserver@v$KUBE_VERSION"

source_hash() {  # source_hash <dir>: what a module of this repository is built from
  (cd "$1" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort |
    xargs sha256sum | sha256sum | cut -c1-16)
}
# A module of this repository is named ./<dir>@<hash of its sources>: a change to them rebuilds it.
GLOOLOGIN="./tests/engines/gloologin@$(source_hash tests/engines/gloologin)"
VAULTCLI="./tests/engines/vaultcli@$(source_hash tests/engines/vaultcli)"
VAULT_AWS_PLUGIN="./tests/engines/awsauthplugin@$(source_hash tests/engines/awsauthplugin)"

kube_build() {  # kube_build <k8s.io/kubernetes/...@v1.x.y> <output file>
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with its own
  # ./staging/src/k8s.io/<module> folders, which a dependency's replace lines cannot do. So it is
  # built as a dependency of a throwaway module that replaces each module of that replace block
  # (read from the pinned version's own go.mod) with its published k8s.io/<module> v0.<minor>.<patch>.
  local pkg=$1 out=$2 version=${1#*@v} gomod module
  go mod init example.invalid/build-tools >/dev/null 2>&1 || return 1
  gomod=$(go mod download -json "k8s.io/kubernetes@v$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -f "$gomod" ] || { echo "no go.mod for k8s.io/kubernetes@v$version"; return 1; }
  go mod edit -go="$(sed -n 's/^go //p' "$gomod")" -require="k8s.io/kubernetes@v$version"
  for module in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod"); do
    go mod edit -replace="$module=$module@v0.${version#1.}"
  done
  GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath \
    -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$version" -o "$out" "${pkg%@*}"
}

go_build() {  # go_build <package@version> <output file>
  local pkg=$1 out=$2
  mkdir -p "$(dirname "$out")"
  if [[ $pkg == k8s.io/kubernetes/* ]]; then
    kube_build "$pkg" "$out"
    return
  fi
  if [[ $pkg == ./* ]]; then
    # This repository's module: its own go.mod and go.sum decide every version (-mod=readonly).
    (cd "$root/${pkg%@*}" && GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -o "$out" .)
    return
  fi
  if GOBIN="$(dirname "$out")" GOFLAGS=-mod=mod go install "$pkg"; then
    mv "$(dirname "$out")/$(basename "${pkg%@*}")" "$out"
    return 0
  fi
  # `go install pkg@version` refuses a module whose go.mod has replace lines (Vault's has), so
  # build it instead as a dependency of a throwaway module: the pinned version's own go.mod
  # still decides every dependency version.
  go mod init example.invalid/build-tools >/dev/null 2>&1 &&
    GOFLAGS=-mod=mod go get "$pkg" && GOFLAGS=-mod=mod go build -o "$out" "${pkg%@*}"
}

not_built=()
build() {  # build <binary name> <package@version>...: the first that builds wins (else not_built)
  local name=$1 pkg reasons="" work out started
  shift
  for pkg in "$@"; do
    if [ -x "$tools/$name" ] && [ "$(cat "$tools/$name.pkg" 2>/dev/null)" = "$pkg" ]; then
      return 0
    fi
  done
  rm -f "$tools/$name" "$tools/$name.pkg" "$tools/$name.unavailable"
  if ! command -v go >/dev/null 2>&1; then
    echo "go is not installed, so $name cannot be built" > "$tools/$name.unavailable"
  else
    for pkg in "$@"; do
      work=$(mktemp -d)
      started=$SECONDS
      if out=$(cd "$work" && go_build "$pkg" "$work/bin/$name" 2>&1); then
        mv "$work/bin/$name" "$tools/$name"
        echo "$pkg" > "$tools/$name.pkg"
        echo "build-tools: $name built in $((SECONDS - started))s"
        rm -rf "$work"
        break
      fi
      reasons+="go build of $pkg failed: $(echo "$out" | grep -v '^go: downloading' | tr '\n' ' ' | sed 's/  */ /g'); "
      rm -rf "$work"
    done
    if [ ! -x "$tools/$name" ]; then
      echo "$reasons" > "$tools/$name.unavailable"
    elif [ -n "$reasons" ]; then
      echo "build-tools: $name: $reasons"
    fi
  fi
  if [ -f "$tools/$name.unavailable" ]; then
    echo "build-tools: $(cat "$tools/$name.unavailable")"
    not_built+=("$name")
  else
    echo "build-tools: $name ready ($(cat "$tools/$name.pkg"))"
  fi
}

build actionlint "$ACTIONLINT"
build aws-auth-plugin "$OPENBAO_AWS_PLUGIN" "$VAULT_AWS_PLUGIN"
build gloologin "$GLOOLOGIN"
build vaultcli "$VAULTCLI"
build kube-apiserver "$KUBE_APISERVER"
if [ ${#not_built[@]} -gt 0 ] && [ "${GLOO_VAULT_IRSA_REQUIRE_ENGINES:-}" = 1 ]; then
  printf -v names '%s, ' "${not_built[@]}"
  echo "build-tools: GLOO_VAULT_IRSA_REQUIRE_ENGINES=1 but not built: ${names%, }"
  exit 1
fi
exit 0
