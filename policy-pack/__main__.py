"""gloo-vault-irsa-guardrails: the pack the Pulumi CLI runs (`--policy-pack policy-pack`).

Every rule is a plain function in the `guardrails` package; `pack.py` wraps them as policies.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

import pack
from guardrails import PACK_NAME

PolicyPack(PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=pack.policies())
