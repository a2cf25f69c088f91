"""A second `pulumi up` of an unchanged program shows no changes only when what Vault reads back
equals what the program declared (pulumi/pulumi-vault#744: an AuthBackend that updates every
time). On OpenBao: every input the program declares for the aws auth mount and the kv mount
is read back as declared (tests/engines/test_auth_chain.py does the client config, role, policy)."""

from __future__ import annotations

import pytest

from tests.engines.conftest import Deployer
from tests.engines.test_auth_chain import IN_CLUSTER, declared

pytestmark = pytest.mark.engines


def test_vault_reads_back_what_the_program_declared(deployer: Deployer) -> None:
    dep = deployer(IN_CLUSTER)
    backend = declared(dep, "vault:index/authBackend:AuthBackend")
    assert set(backend) - {"__defaults"} == {"type", "path", "description"}  # no `tune`
    mounted = dep.operator("GET", "sys/auth").expect(200).data[f"{backend['path']}/"]
    assert (mounted["type"], mounted["description"]) == (backend["type"], backend["description"])
    assert mounted["local"] is False  # the provider's default for `local`, which is not declared

    kv = declared(dep, "vault:index/mount:Mount")
    assert set(kv) - {"__defaults"} == {"path", "type", "options", "description"}
    read = dep.operator("GET", f"sys/mounts/{kv['path']}").expect(200).data
    assert (read["type"], read["description"], read["options"]) == (kv["type"], kv["description"], kv["options"])
