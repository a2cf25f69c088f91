"""components/documents/verification.py: the login check's result from the Job's conditions, and its
script run by a POSIX shell against a stand-in `vault`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from components.documents.verification import (
    LOGIN_CHECK,
    login_check_result,
    login_check_script,
)


@pytest.mark.parametrize(
    ("conditions", "status"),
    [
        ([{"type": "Complete", "status": "True"}], "passed"),
        ([{"type": "Failed", "status": "True"}], "failed"),
        ([], "running"),
        (None, "running"),
    ],
)
def test_the_result_reads_the_jobs_conditions(conditions: list[dict[str, str]] | None, status: str) -> None:
    result = login_check_result(name="check-1", namespace="gloo-system", status={"conditions": conditions})
    assert result == {"job": "gloo-system/check-1", "status": status, "logs": "kubectl -n gloo-system logs job/check-1"}


def api_error(what: str, request: str, code: int, errors: str) -> str:
    """What the Vault CLI prints for an API error (`api.ResponseError`), after `Error <what>: `."""
    return f"Error {what}: Error making API request.\n\nURL: {request}\nCode: {code}. Errors:\n\n{errors}\n"


def run_script(
    tmp_path: Path,
    *,
    login: tuple[int, str],
    listing: tuple[int, str],
    env: dict[str, str] | None = None,
    **values: str,
) -> tuple[int, str, str]:
    """Runs the check's script with a stand-in `vault` that records its argv (and the CA file it
    is given, if any) and answers as given."""
    stub = tmp_path / "bin" / "vault"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> {tmp_path}/argv\n'
        f'[ -z "${{VAULT_CACERT:-}}" ] || cat "$VAULT_CACERT" >> {tmp_path}/ca-seen\n'
        f'if [ "$1" = login ]; then printf %s {_sh(login[1])} >&{2 if login[0] else 1}; exit {login[0]}; fi\n'
        f'[ "$VAULT_TOKEN" = "hvs.token" ] || exit 9\n'
        f"printf %s {_sh(listing[1])} >&{2 if listing[0] else 1}; exit {listing[0]}\n"
    )
    os.chmod(stub, 0o755)
    args = {"role": "gloo-role", "region": "us-east-1", "header_value": "vault.gloo.example.com", "mount": "aws"}
    script = login_check_script(**{**args, **values}, list_path="dev/metadata/gloo/")
    environment = {
        "PATH": f"{stub.parent}:/usr/bin:/bin",
        "TERMINATION_LOG": str(tmp_path / "termination-log"),
        **(env or {}),
    }
    done = subprocess.run(["/bin/sh", "-c", script], env=environment, capture_output=True, text=True, check=False)
    assert (tmp_path / "termination-log").read_text() == (done.stdout or done.stderr).strip()
    return done.returncode, done.stdout, done.stderr


def _sh(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def test_the_script_logs_in_with_the_values_and_lists_with_the_token(tmp_path: Path) -> None:
    code, out, err = run_script(tmp_path, login=(0, "hvs.token"), listing=(0, "Keys\n----\ngloo.solo.io/\n"))
    assert (code, err) == (0, "")
    assert out == (
        f"{LOGIN_CHECK} passed: logged in with role gloo-role at auth/aws (region us-east-1, header "
        "vault.gloo.example.com); listed 1 entries at dev/metadata/gloo/\n"
    )
    assert (tmp_path / "argv").read_text().splitlines() == [
        "login -token-only -method=aws role=gloo-role region=us-east-1 header_value=vault.gloo.example.com mount=aws",
        "list dev/metadata/gloo/",
    ]


def test_a_value_is_never_run_by_the_shell(tmp_path: Path) -> None:
    header = "vault.$(touch pwned).example.com'\"`touch pwned2`"
    code, _, _ = run_script(tmp_path, login=(0, "hvs.token"), listing=(0, "Keys\n----\n"), header_value=header)
    assert code == 0
    assert not list(Path.cwd().glob("pwned*")) and not list(tmp_path.glob("pwned*"))
    assert f"header_value={header} mount=aws" in (tmp_path / "argv").read_text()


def test_an_empty_path_passes(tmp_path: Path) -> None:
    code, out, _ = run_script(tmp_path, login=(0, "hvs.token"), listing=(2, "No value found at dev/metadata/gloo\n"))
    assert code == 0
    assert out.endswith("; nothing stored at dev/metadata/gloo/ yet (list allowed)\n")


def test_a_refused_list_fails_with_the_apis_reason_on_one_line(tmp_path: Path) -> None:
    listing = "GET http://vault:8200/v1/dev/metadata/gloo?list=true"
    answer = api_error("listing dev/metadata/gloo", listing, 403, "* 1 error occurred:\n\t* permission denied\n")
    code, out, err = run_script(tmp_path, login=(0, "hvs.token"), listing=(2, answer))
    assert (code, out) == (1, "")
    assert err == (
        f"{LOGIN_CHECK} failed: logged in with role gloo-role at auth/aws (region us-east-1, header "
        "vault.gloo.example.com) but cannot list dev/metadata/gloo/: HTTP 403: permission denied\n"
    )


def test_a_refused_login_fails_with_the_apis_reason_on_one_line(tmp_path: Path) -> None:
    login = "PUT http://vault:8200/v1/auth/aws/login"
    answer = api_error("authenticating", login, 400, "* entry for role gloo-role not found")
    code, _, err = run_script(tmp_path, login=(2, answer), listing=(0, ""))
    assert code == 1
    assert err.endswith(": HTTP 400: entry for role gloo-role not found\n")
    assert err.count("\n") == 1
    assert (tmp_path / "argv").read_text().count("\n") == 1  # no list without a token


def test_a_login_that_fails_before_vault_answers_gives_its_first_line(tmp_path: Path) -> None:
    answer = "Error authenticating: failed to retrieve credentials from credential chain: NoCredentialProviders\n"
    code, _, err = run_script(tmp_path, login=(2, answer), listing=(0, ""))
    assert code == 1
    assert err.endswith(
        ": Error authenticating: failed to retrieve credentials from credential chain: NoCredentialProviders\n"
    )


def test_the_script_verifies_vault_with_the_ca_it_is_given(tmp_path: Path) -> None:
    """VAULT_CA_PEM (the Job's copy of `vaultCaCert`) becomes the file VAULT_CACERT names, before
    the login and the list, each of which the CLI verifies Vault's certificate with."""
    ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    env = {"VAULT_CA_PEM": ca, "VAULT_CACERT": str(tmp_path / "vault-ca.pem")}
    code, _, err = run_script(tmp_path, login=(0, "hvs.token"), listing=(0, "Keys\n----\n"), env=env)
    assert (code, err) == (0, "")
    assert (tmp_path / "ca-seen").read_text() == (ca + "\n") * 2


def test_a_ca_it_cannot_write_fails_in_one_line(tmp_path: Path) -> None:
    env = {"VAULT_CA_PEM": "pem", "VAULT_CACERT": str(tmp_path / "missing-dir" / "vault-ca.pem")}
    code, _, err = run_script(tmp_path, login=(0, "hvs.token"), listing=(0, ""), env=env)
    assert code == 1 and err.count("\n") == 1 and "cannot write Vault's CA to" in err
    assert not (tmp_path / "argv").exists()  # no login without the CA
