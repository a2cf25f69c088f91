#!/usr/bin/env bash
# Sets up and runs the main job: `pulumi up` of one stack (default: dev, the guide's environment).
#   ./scripts/deploy.sh [stack] [extra pulumi up flags...]      e.g. ./scripts/deploy.sh dev --yes
# First it provides what it can: the Pulumi CLI (when `pulumi` is missing, the pinned CLI is built
# into .cache/tools by scripts/install-pulumi.sh). Then, before touching anything (no virtualenv,
# no login, no stack), it checks what it cannot provide and stops with one line for each thing
# missing: AWS credentials, each cluster named (known to EKS in the stack's region), the Vault token, the
# state backend's passphrase. Then it creates .venv, installs requirements.txt, logs in to the
# local state backend when none is logged in, selects (or creates) the stack and runs `pulumi up`.
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:-dev}
shift || true
project=gloo-vault-irsa
missing=()

have() { command -v "$1" >/dev/null 2>&1; }
first_line() { tr -s '\n' '\n' | grep -v '^[[:space:]]*$' | head -1; }

# The stack file's plain value of a project key (quotes and comments removed), else the backend's.
config_value() {
  local key=$1 file="Pulumi.$stack.yaml" value=""
  if [ -f "$file" ]; then
    value=$(sed -n "s/^[[:space:]]*$project:$key:[[:space:]]*//p" "$file" | head -1 |
      sed -e 's/[[:space:]]#.*$//' -e "s/^[\"']//" -e "s/[\"'][[:space:]]*$//")
  fi
  if [ -z "$value" ] && have pulumi; then
    value=$(pulumi config get "$key" --stack "$stack" 2>/dev/null || true)
  fi
  echo "$value"
}

# A key the stack sets at all: in its file (a secret is `secure: ...` on the next line) or the backend.
config_set() {
  grep -q "^[[:space:]]*$project:$1:" "Pulumi.$stack.yaml" 2>/dev/null ||
    { have pulumi && pulumi config get "$1" --stack "$stack" >/dev/null 2>&1; }
}

# The EKS names in the stack file's `clusters` map, in order (entries from a stack have none).
names_in_clusters() {
  awk -v key="  $project:clusters:" '
    index($0, key) == 1 { inside = 1; next }
    inside && /^ {0,2}[^ ]/ { inside = 0 }
    inside && /^[[:space:]]+clusterName:/ {
      v = $0; sub(/^[[:space:]]+clusterName:[[:space:]]*/, "", v); sub(/[[:space:]]+#.*$/, "", v)
      gsub(/["\047]/, "", v); print v
    }' "Pulumi.$stack.yaml" 2>/dev/null
}

default_region() {  # Pulumi.yaml's default for `region`
  sed -n '/^  region:/,/^  [^ ]/s/^    default: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' Pulumi.yaml | head -1
}

# 1. The Pulumi CLI: on PATH, or built into the project's tool cache.
if ! have pulumi; then
  if cli=$(./scripts/install-pulumi.sh); then
    PATH="$(dirname "$cli"):$PATH"
    export PATH
  else
    missing+=("the Pulumi CLI: $cli")
  fi
fi

# The CLI runs a Python program with its Python language host, bundled beside it in Pulumi's release
# archives and never downloaded; the Go module proxy does not serve it, so a CLI built here lacks it.
if have pulumi && [ ! -x "$(dirname "$(command -v pulumi)")/pulumi-language-python" ] && ! have pulumi-language-python; then
  missing+=("the Pulumi CLI's Python language host: no pulumi-language-python beside $(command -v pulumi) nor on PATH (it comes with the CLI from https://www.pulumi.com/docs/install/)")
fi

# 2. AWS credentials, 3. the clusters looked up by name: `clusterName`, or each `clusterName` in the
# `clusters` map. A cluster from its own stack (`clusterStackRef`) is checked by the program itself.
region=$(config_value region)
region=${region:-$(default_region)}
aws_ok=false
if ! have aws; then
  missing+=("AWS credentials: 'aws' is not installed (AWS CLI v2; the kubeconfig runs 'aws eks get-token')")
elif ! err=$(aws sts get-caller-identity --output text 2>&1 >/dev/null); then
  missing+=("AWS credentials: 'aws sts get-caller-identity' failed: $(echo "$err" | first_line)")
else
  aws_ok=true
fi
names=()
if config_set clusters; then
  mapfile -t names < <(names_in_clusters)
elif ! config_set clusterStackRef; then
  cluster=$(config_value clusterName)
  if [ -n "$cluster" ]; then
    names=("$cluster")
  else
    missing+=("the cluster: clusterName is not set for stack $stack (pulumi config set clusterName <name> --stack $stack)")
  fi
fi
for cluster in "${names[@]}"; do
  if [ "$aws_ok" != true ]; then
    missing+=("the cluster: cannot check EKS cluster '$cluster' in $region without AWS credentials")
  elif ! status=$(aws eks describe-cluster --name "$cluster" --region "$region" --query cluster.status --output text 2>&1); then
    missing+=("the cluster: EKS cluster '$cluster' in $region is not known to these credentials: $(echo "$status" | first_line)")
  elif [ "$status" != ACTIVE ]; then
    missing+=("the cluster: EKS cluster '$cluster' in $region is $status, not ACTIVE")
  fi
done

# 4. The Vault token.
if [ -z "${VAULT_TOKEN:-}" ] && ! config_set vaultToken; then
  missing+=("the Vault token: set it first: pulumi config set --secret vaultToken <token> --stack $stack (or export VAULT_TOKEN)")
fi

# 5. The local state backend's passphrase (none needed for Pulumi Cloud).
if have pulumi && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  if ! pulumi whoami >/dev/null 2>&1 || pulumi whoami --json 2>/dev/null | grep -q '"url": "file://'; then
    missing+=("the state passphrase: the local backend encrypts secrets with it: export PULUMI_CONFIG_PASSPHRASE")
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deploy: stopped before touching anything; missing for stack $stack:" >&2
  printf 'deploy: - %s\n' "${missing[@]}" >&2
  exit 1
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
pulumi whoami >/dev/null 2>&1 || pulumi login --local
pulumi stack select --create "$stack"
pulumi up --stack "$stack" "$@"
