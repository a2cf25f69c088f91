#!/usr/bin/env bash
# Sets up and runs the main job: `pulumi up` of one stack (default: dev, the guide's environment).
#   ./scripts/deploy.sh [--new-stack] <stack> [pulumi up flags...]      e.g. ./scripts/deploy.sh dev --yes
# A stack needs its file, Pulumi.<stack>.yaml (a misspelt name is not created on the spot), unless
# --new-stack asks for a new one. First, in about a second and before anything is built, installed or
# logged in to, it names the state backend it will use and checks everything that would stop the
# run, stopping with one line for each thing missing: the Pulumi CLI (when it is not on PATH and
# cannot be provided) or its Python language host, AWS credentials, each cluster named (known to EKS
# in the stack's region), the state passphrase (a self-managed backend's), the Vault token, and an
# enterprise stack's license key. The stack file is read with PyYAML (scripts/stack_config.py).
# Then it provides the CLI when `pulumi` is missing (scripts/install-pulumi.sh: Pulumi's release
# archive, checksum-verified, else a build from source), creates .venv, installs requirements.txt,
# logs in to the local state backend when none is chosen, selects (or creates) the stack and runs
# `pulumi up`.
set -euo pipefail
cd "$(dirname "$0")/.."
project=gloo-vault-irsa
usage="usage: ./scripts/deploy.sh [--new-stack] <stack> [pulumi up flags...], e.g. ./scripts/deploy.sh dev --yes"
missing=()

have() { command -v "$1" >/dev/null 2>&1; }
first_line() { tr -s '\n' '\n' | grep -v '^[[:space:]]*$' | head -1; }

# The arguments: the stack (first, never a flag), --new-stack (anywhere), the rest for `pulumi up`.
stack="" new_stack=false up_args=()
for arg in "$@"; do
  if [ "$arg" = --new-stack ]; then
    new_stack=true
  elif [ -z "$stack" ] && [ ${#up_args[@]} -eq 0 ]; then
    case $arg in -h | --help) echo "$usage" && exit 0 ;; esac
    stack=$arg
  else
    up_args+=("$arg")
  fi
done
stack=${stack:-dev}
if [[ $stack == -* ]] || ! [[ $stack =~ ^([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+$ ]]; then
  echo "deploy: '$stack' is not a stack name; $usage" >&2
  exit 2
fi
stack_file="Pulumi.${stack##*/}.yaml"  # the CLI's name for a stack's file, org and project left out
if [ ! -f "$stack_file" ] && [ "$new_stack" != true ]; then
  known=$(for f in Pulumi.*.yaml; do [ -f "$f" ] && f=${f#Pulumi.} && echo "${f%.yaml}"; done | tr '\n' ' ')
  echo "deploy: no $stack_file for stack '$stack' (stacks with a file here: ${known% }); to create a new stack, write $stack_file or run ./scripts/deploy.sh --new-stack $stack" >&2
  exit 2
fi

# A Python with PyYAML to read the stack file: .venv's, python3, else .venv is created with it.
yaml_python() {
  local candidate
  for candidate in .venv/bin/python "${PYTHON:-python3}"; do
    if have "$candidate" && "$candidate" -c 'import yaml' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "deploy: no Python with PyYAML to read $stack_file: creating .venv with it first" >&2
  { [ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv; } >&2 &&
    .venv/bin/pip install --quiet --disable-pip-version-check pyyaml >&2 && echo .venv/bin/python
}

# The stack's facts (scripts/stack_config.py) into variables; a file that is not YAML stops here.
read_stack_config() {
  local reader facts name value
  reader=$(yaml_python) || { echo "deploy: cannot read $stack_file without PyYAML (pip install pyyaml)" >&2 && exit 1; }
  if ! facts=$("$reader" scripts/stack_config.py Pulumi.yaml "$stack_file" "${PULUMI_HOME:-$HOME/.pulumi}/credentials.json"); then
    echo "deploy: ${facts#error$'\t'}" >&2
    exit 1
  fi
  region="" edition="" cluster_name="" stack_ref="" esc="" secrets_provider="" project_backend="" login="" names=() set_keys=" "
  while IFS=$'\t' read -r name value; do
    case $name in
      region) region=$value ;; edition) edition=$value ;; clusterName) cluster_name=$value ;;
      clusterStackRef) stack_ref=$value ;; cluster) names+=("$value") ;; set) set_keys+="$value " ;;
      esc) esc=1 ;; secretsprovider) secrets_provider=$value ;; backend) project_backend=$value ;; login) login=$value ;;
    esac
  done <<< "$facts"
}
is_set() { [[ $set_keys == *" $1 "* ]]; }

# The state backend, chosen before any secret is asked for (a `pulumi config set` with none chosen
# opens Pulumi Cloud's login prompt): PULUMI_BACKEND_URL, Pulumi.yaml's backend.url, the current
# `pulumi login`, PULUMI_ACCESS_TOKEN (Pulumi Cloud), else local files, which this script logs in to.
choose_backend() {
  login_first=""
  if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
    backend=$PULUMI_BACKEND_URL why="PULUMI_BACKEND_URL"
  elif [ -n "$project_backend" ]; then
    backend=$project_backend why="Pulumi.yaml backend.url"
  elif [ -n "$login" ]; then
    backend=$login why="your pulumi login"
  elif [ -n "${PULUMI_ACCESS_TOKEN:-}" ]; then
    backend=https://api.pulumi.com why="PULUMI_ACCESS_TOKEN"
  else
    backend="" login_first="pulumi login --local && "
    echo "deploy: state backend: local files, file://~ (~/.pulumi): none is chosen (no PULUMI_BACKEND_URL, no pulumi login), so deploy.sh logs in there; set PULUMI_BACKEND_URL or run pulumi login for another" >&2
    return
  fi
  echo "deploy: state backend: $backend ($why)" >&2
}

# The Pulumi CLI: on PATH with its Python host, or one install-pulumi.sh can provide after the checks.
check_cli() {
  local why
  if ! have pulumi; then
    why=$(./scripts/install-pulumi.sh --check) || missing+=("the Pulumi CLI: $why")
  elif [ ! -x "$(dirname "$(command -v pulumi)")/pulumi-language-python" ] && ! have pulumi-language-python; then
    # Pulumi's release archives ship the host beside the CLI; a CLI built from source has none.
    missing+=("the Pulumi CLI's Python language host: no pulumi-language-python beside $(command -v pulumi) nor on PATH (it comes with the CLI from https://www.pulumi.com/docs/install/)")
  fi
}

# AWS credentials, then each cluster looked up by name: `clusterName`, or each `clusterName` in the
# `clusters` map. A cluster from its own stack (`clusterStackRef`) is checked by the program itself.
check_aws_and_clusters() {
  local aws_ok=false err cluster status
  if ! have aws; then
    missing+=("AWS credentials: 'aws' is not installed (AWS CLI v2; the kubeconfig runs 'aws eks get-token')")
  elif ! err=$(aws sts get-caller-identity --output text 2>&1 >/dev/null); then
    missing+=("AWS credentials: 'aws sts get-caller-identity' failed: $(echo "$err" | first_line)")
  else
    aws_ok=true
  fi
  if ! is_set clusters && [ -z "$stack_ref" ]; then
    if [ -n "$cluster_name" ]; then
      names=("$cluster_name")
    elif [ -z "$esc" ]; then
      missing+=("the cluster: clusterName is not set for stack $stack: write $project:clusterName: <name> under config: in $stack_file (or clusterStackRef, or clusters)")
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
}

# The backend's passphrase (a self-managed backend's default secrets provider), then the secrets: each
# hint chooses the backend and the stack first. Keys an imported ESC environment may set are left to
# the program, which says in one line what is missing.
check_secrets() {
  local place="the local" secret_first="${login_first}pulumi stack select --create $stack && pulumi config set --secret"
  [[ -z $backend || $backend == file://* ]] || place="the $backend"
  if { [ "$secrets_provider" = passphrase ] || { [ -z "$secrets_provider" ] && [[ $backend != http*://* ]]; }; } &&
    [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    missing+=("the state passphrase: $place backend encrypts the stack's secrets with it: export PULUMI_CONFIG_PASSPHRASE=<passphrase>")
  fi
  if [ -z "${VAULT_TOKEN:-}" ] && ! is_set vaultToken && [ -z "$esc" ]; then
    missing+=("the Vault token: export VAULT_TOKEN=<token>, or keep it as the stack's secret: $secret_first vaultToken <token>")
  fi
  if [ "$edition" = enterprise ] && ! is_set glooLicenseKey && [ -z "$esc" ]; then
    missing+=("the Gloo Edge Enterprise license key: glooEdition is enterprise and glooLicenseKey is not set: $secret_first glooLicenseKey <key>")
  fi
}

read_stack_config
choose_backend
check_cli
check_aws_and_clusters
check_secrets
if [ ${#missing[@]} -gt 0 ]; then
  echo "deploy: stopped before touching anything; missing for stack $stack:" >&2
  printf 'deploy: - %s\n' "${missing[@]}" >&2
  exit 1
fi

if ! have pulumi; then
  if ! cli=$(./scripts/install-pulumi.sh); then
    echo "deploy: the Pulumi CLI: $cli" >&2
    exit 1
  fi
  PATH="$(dirname "$cli"):$PATH"
  export PATH
fi
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
[ -n "$backend" ] || pulumi login --local
pulumi stack select --create "$stack"
pulumi up --stack "$stack" "${up_args[@]}"
