"""The component package's provider: Pulumi's component provider for `GlooVaultIrsa`, except that
a config error (`ConfigError`, a bad input) reaches the program as that input's one line.

Pulumi's component provider wraps whatever a component's `__init__` raises with its Python
traceback ("Unexpected <class 'Exception'>: ... File ..."): a program in another language would
see the package's insides for a typo in its own stack file. An `InputPropertyError` is how a
provider says an input is wrong; the CLI prints it as `property <key> has a problem: <line>`.
"""

import pulumi
from pulumi.errors import InputPropertyError
from pulumi.provider import ConstructResult
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from components.config.checks import ConfigError
from components.gloo_vault_irsa import GlooVaultIrsa


class GlooVaultIrsaProvider(ComponentProvider):
    """Serves the package's components; a `ConfigError` becomes the bad input's error."""

    def __init__(self, name: str, version: str) -> None:
        super().__init__([GlooVaultIrsa], name, None, version)

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            if isinstance(error.inner, ConfigError):
                raise InputPropertyError(error.inner.key, str(error.inner)) from None
            raise
