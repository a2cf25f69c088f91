"""Production's destroy guard: `pulumi destroy` stops before it deletes anything.

The engine deletes a stack's resources dependents first, and refuses a protected one only when it
reaches it: with `--skip-preview` (as automation runs it) a destroy of production deleted the Gloo
release, the Vault role and Vault's grant before it stopped at the protected auth mount. The guard
depends on every component of the stack and nothing depends on it, so it is the one resource a
destroy deletes first; it is protected, so the destroy stops there, with or without its preview,
and nothing is deleted. To tear production down on purpose: `pulumi state unprotect` it
(docs/adoption.md, "Clean up"), and the protected resources it guards.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.project import PROJECT


class DestroyGuard(pulumi.ComponentResource):
    """A protected component that depends on everything else (production stacks only)."""

    def __init__(self, name: str, guarded: Sequence[pulumi.Resource], parent: pulumi.Resource | None = None) -> None:
        super().__init__(
            f"{PROJECT}:stack:DestroyGuard",
            name,
            None,
            pulumi.ResourceOptions(protect=True, depends_on=list(guarded), parent=parent),
        )
        self.register_outputs({})
