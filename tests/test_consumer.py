"""The consumer example (`examples/consumer/`) under mocks, against the output contract: its
`StackReference` answers with the outputs the real program exports (the program's own mock runs),
and the secret it writes lands where the program's Gloo reads (solo-kit's layout, from the Gloo
release's values)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import mypy.api
import pytest

from tests.engines.gloo_client import GlooSecretClient, gloo_settings
from tests.harness import (
    HELM_RELEASE,
    ROOT,
    STACK_REFERENCE,
    GuideMocks,
    OtherStack,
    ProgramRun,
    Registered,
    run_program,
    run_program_failure,
)
from tests.test_stack import documented

CONSUMER = ROOT / "examples" / "consumer"
PROJECT = "gloo-vault-irsa-consumer"
STACK = "acme/gloo-vault-irsa/prod"
SECRET_V2 = "vault:kv/secretV2:SecretV2"
SECRETS = {"vaultToken": "hvs.consumer-team", "awsAccessKeyId": "AKIACONSUMER0000EXMP", "awsSecretAccessKey": "s3cr3t"}


def consumer(
    outputs: Mapping[str, Any], config: Mapping[str, Any] | None = None, vault_token: str | None = None
) -> ProgramRun:
    """The consumer, reading a gloo-vault-irsa stack that exports `outputs` (with its own token)."""
    return run_program(
        {"glooVaultIrsaStack": STACK, **(config or {})},
        secrets={**SECRETS, **({"vaultToken": vault_token} if vault_token else {})},
        mocks=stack_exporting(outputs),
        program=CONSUMER / "__main__.py",
        project=PROJECT,
    )


def stack_exporting(outputs: Mapping[str, Any]) -> Callable[[bool], GuideMocks]:
    return lambda preview: GuideMocks(preview, {STACK: OtherStack(outputs)})


@pytest.fixture(scope="module", params=["prod", "dev", "org-iam", "clusters"])
def pair(request: pytest.FixtureRequest, runs: dict[str, ProgramRun]) -> tuple[ProgramRun, ProgramRun]:
    """(the program's run, the consumer's run on its outputs), per stack variant."""
    producer = runs[request.param]
    return producer, consumer(producer.outputs)


def written(run: ProgramRun) -> Registered:
    return run.one(SECRET_V2)


def test_it_reads_the_stack_it_is_told(pair: tuple[ProgramRun, ProgramRun]) -> None:
    _, run = pair
    [ref] = [r for r in run.reads if r.type == STACK_REFERENCE]
    assert ref.inputs["name"] == STACK


def test_the_secret_lands_where_the_stacks_gloo_reads(pair: tuple[ProgramRun, ProgramRun]) -> None:
    """solo-kit's path for the Secret, from what each of the program's Gloo releases (one per
    cluster) is configured with: one write serves every cluster's Gloo."""
    producer, run = pair
    releases = [r for r in producer.of_type(HELM_RELEASE) if r.inputs["chart"] in ("gloo", "gloo-ee")]
    # One release per cluster: one in a stack of one cluster (no `clusters` output), else one each.
    assert len(releases) == len(producer.outputs.get("clusters", {"": None}))
    secret = written(run).inputs
    api_path = f"{secret['mount']}/data/{secret['name']}"
    for release in releases:
        settings = gloo_settings(release, lambda address: address)
        assert api_path == f"{GlooSecretClient(settings, '').directory('data', settings.namespace)}/upstream-aws"
    assert run.outputs["secretPath"] == api_path


def test_the_secret_is_a_gloo_aws_secret_as_solo_kit_stores_it(pair: tuple[ProgramRun, ProgramRun]) -> None:
    producer, run = pair
    secret = written(run)
    assert secret.secret("dataJson")
    namespace = producer.outputs["glooNamespace"]
    assert json.loads(secret.inputs["dataJson"]) == {
        "metadata": {"name": "upstream-aws", "namespace": namespace},
        "aws": {"accessKey": SECRETS["awsAccessKeyId"], "secretKey": SECRETS["awsSecretAccessKey"]},
    }


def test_it_reaches_the_stacks_vault_verified_with_the_stacks_ca(pair: tuple[ProgramRun, ProgramRun]) -> None:
    producer, run = pair
    provider = run.one("pulumi:providers:vault")
    assert provider.inputs["address"] == producer.outputs["vaultAddress"]
    assert provider.inputs["token"] == SECRETS["vaultToken"] and provider.secret("token")
    assert provider.inputs["tokenName"] == f"pulumi-{PROJECT}-dev"
    ca = producer.outputs["vaultCaCert"]
    assert (Path(provider.inputs["caCertFile"]).read_text() if ca else provider.inputs.get("caCertFile")) == (
        ca or None
    )
    assert written(run).provider.rsplit("::", 1)[0] == provider.urn


def test_every_value_follows_the_outputs_not_copied_strings(runs: dict[str, ProgramRun]) -> None:
    """Other outputs, other path and address: nothing the consumer writes is a string of its own."""
    moved = {
        **runs["dev"].outputs,
        "vaultKvPath": "kv-elsewhere",
        "glooRootKey": "edge",
        "glooNamespace": "edge-ns",
        "vaultAddress": "https://vault.elsewhere.example.com",
    }
    run = consumer(moved)
    assert written(run).inputs["mount"] == "kv-elsewhere"
    assert written(run).inputs["name"] == "edge/gloo.solo.io/v1/Secret/edge-ns/upstream-aws"
    assert run.one("pulumi:providers:vault").inputs["address"] == "https://vault.elsewhere.example.com"


def test_it_reads_only_documented_outputs() -> None:
    source = (CONSUMER / "__main__.py").read_text()
    [names] = re.findall(r"^OUTPUTS = \(([^)]*)\)", source, re.MULTILINE)
    read = set(re.findall(r'"(\w+)"', names))
    assert read and read <= set(documented())
    assert "get_output(name)" in source and source.count("get_output(") == 1  # only through OUTPUTS


def test_a_stack_lacking_an_output_stops_it_in_one_line(runs: dict[str, ProgramRun]) -> None:
    lacking = {k: v for k, v in runs["dev"].outputs.items() if k != "glooRootKey"}
    failed = run_program_failure(
        {"glooVaultIrsaStack": STACK},
        secrets=SECRETS,
        mocks=stack_exporting(lacking),
        program=CONSUMER / "__main__.py",
        project=PROJECT,
    )
    message = str(failed.error)
    assert message.startswith(f"{PROJECT}: stack {STACK} exports no glooRootKey") and "\n" not in message
    assert [r for r in failed.resources if r.type == SECRET_V2] == []  # nothing written


def test_a_port_forward_address_overrides_the_stacks(runs: dict[str, ProgramRun]) -> None:
    run = consumer(runs["dev"].outputs, {"vaultProviderAddress": "http://127.0.0.1:8200"})
    assert run.one("pulumi:providers:vault").inputs["address"] == "http://127.0.0.1:8200"


def test_the_example_type_checks_strict() -> None:
    """A second `__main__` module: mypy checks it on its own, as it does the policy pack's."""
    out, err, status = mypy.api.run(["--strict", "--python-version", "3.11", str(CONSUMER / "__main__.py")])
    assert status == 0, out + err
