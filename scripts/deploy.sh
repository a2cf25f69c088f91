#!/usr/bin/env bash
# Sets up and runs the main job: `pulumi up` of one stack (default: dev, the guide's environment).
#   ./scripts/deploy.sh [stack] [extra pulumi up flags...]      e.g. ./scripts/deploy.sh dev --yes
# Needs the Pulumi CLI, AWS credentials for the cluster's account, and the aws CLI (kubeconfig
# tokens come from `aws eks get-token`). State goes to the logged-in backend; when none is,
# it logs in to the local file backend (`pulumi login --local`).
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:-dev}
shift || true

for tool in pulumi aws; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "deploy: '$tool' is not installed (Pulumi CLI: https://www.pulumi.com/docs/install/; AWS CLI v2)" >&2
    exit 1
  fi
done

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt

pulumi whoami >/dev/null 2>&1 || pulumi login --local
if [ "$(pulumi whoami --json 2>/dev/null | grep -c '"url": "file://')" -gt 0 ] && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  echo "deploy: the local backend encrypts secrets with a passphrase: export PULUMI_CONFIG_PASSPHRASE first" >&2
  exit 1
fi
pulumi stack select --create "$stack"
if ! pulumi config get vaultToken >/dev/null 2>&1 && [ -z "${VAULT_TOKEN:-}" ]; then
  echo "deploy: set the Vault token first: pulumi config set --secret vaultToken <token>  (or export VAULT_TOKEN)" >&2
  exit 1
fi
pulumi up --stack "$stack" "$@"
