"""The CI workflows (.github/workflows): what they run, with which credentials, and actionlint."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engines.conftest import REQUIRE_ENGINES, engine_missing
from tests.harness import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PR = WORKFLOWS / "pull-request.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
DRIFT = WORKFLOWS / "drift.yml"
WORKFLOWS_README = ROOT / "docs" / "ci.md"
TOOLS = ROOT / ".cache" / "tools"
INSTALL_PULUMI = ROOT / "scripts" / "install-pulumi.sh"
BUILD_TOOLS = ROOT / "scripts" / "build-tools.sh"
# Where a job's credentials come from: GitHub OIDC, exchanged per job for short-lived tokens.
PULUMI_LOGIN = "pulumi/auth-actions"
VAULT_LOGIN = "hashicorp/vault-action"
AWS_LOGIN = "aws-actions/configure-aws-credentials"
# The only stored secrets a workflow may read: neither writes state nor reads Vault.
STORED_SECRETS = {"GITHUB_TOKEN", "PULUMI_CONFIG_PASSPHRASE"}
Job = dict[str, Any]
Step = dict[str, Any]


def load(path: Path) -> dict[str, Any]:
    raw: dict[Any, Any] = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    return {("on" if key is True else key): value for key, value in raw.items()}


def steps_using(job: Job, action: str) -> list[Step]:
    return [s for s in job["steps"] if str(s.get("uses", "")).split("@")[0] == action]


def one_step(job: Job, action: str) -> Step:
    [step] = steps_using(job, action)
    return step


def run_lines(job: Job) -> list[str]:
    return [line.strip() for s in job["steps"] if "run" in s for line in s["run"].splitlines() if line.strip()]


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"^\| set up and pass the tests[^|]*\| `([^`]+)` \|$", readme, flags=re.MULTILINE)
    assert m, "README's two-commands table has no test command row"
    return m.group(1)


def pinned(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"requirements.txt does not pin {package}")


@pytest.fixture(scope="module")
def pr() -> dict[str, Any]:
    return load(PR)


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load(DEPLOY)


# ---------------------------------------------------------------------------- triggers and checks


def test_pull_requests_trigger_the_checks_and_the_preview(pr: dict[str, Any]) -> None:
    assert set(pr["on"]) == {"pull_request"}
    assert pr["on"]["pull_request"]["branches"] == ["main"]
    assert set(pr["jobs"]) == {"checks", "review", "preview"}
    assert pr["jobs"]["preview"]["needs"] == "checks"


def test_pushes_to_main_deploy_after_the_checks(deploy: dict[str, Any]) -> None:
    assert set(deploy["on"]) == {"push"}
    assert deploy["on"]["push"]["branches"] == ["main"]
    assert set(deploy["jobs"]) == {"checks", "up"}
    assert deploy["jobs"]["up"]["needs"] == "checks"


@pytest.mark.parametrize("path", [PR, DEPLOY], ids=lambda p: p.name)
def test_the_checks_job_runs_the_readme_test_command(path: Path) -> None:
    command = readme_test_command()
    assert command == "./scripts/test.sh"
    checks = load(path)["jobs"]["checks"]
    assert run_lines(checks) == [command]  # exactly the README's command, as .ci/run does
    assert "exec ./scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    assert one_step(checks, "actions/setup-python")["with"]["python-version"] == "3.11"
    assert steps_using(checks, "actions/setup-go"), "scripts/build-tools.sh builds with Go"


# ---------------------------------------------------------------------------- credentials

# Each job that reaches the cloud: its workflow, its GitHub environment (whose OIDC subject,
# `repo:<owner>/<repo>:environment:<name>`, is what AWS, Pulumi Cloud and Vault trust) and the
# variable naming its AWS role. Previews and drift checks only read; `up` alone writes.
CLOUD_JOBS = {
    "preview": (PR, "preview-${{ matrix.stack }}", "AWS_PREVIEW_ROLE_ARN"),
    "drift": (DRIFT, "drift-${{ matrix.stack }}", "AWS_PREVIEW_ROLE_ARN"),
    "up": (DEPLOY, "${{ matrix.stack }}", "AWS_DEPLOY_ROLE_ARN"),
}


def cloud_job(name: str) -> Job:
    job: Job = load(CLOUD_JOBS[name][0])["jobs"][name]
    return job


def step_index(job: Job, action: str) -> int:
    return next(i for i, s in enumerate(job["steps"]) if str(s.get("uses", "")).split("@")[0] == action)


@pytest.mark.parametrize("path", [PR, DEPLOY, DRIFT], ids=lambda p: p.name)
def test_no_long_lived_aws_keys(path: Path) -> None:
    text = path.read_text().lower()
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "aws_access_key_id", "aws_secret_access_key"):
        assert forbidden not in text, forbidden


@pytest.mark.parametrize("path", [PR, DEPLOY, DRIFT], ids=lambda p: p.name)
def test_no_stored_token_that_writes_state_or_reads_vault(path: Path) -> None:
    """A stored token lives until someone rotates it and reaches whatever it can reach: no
    workflow reads one for Pulumi or Vault; each job exchanges its OIDC token instead."""
    used = set(re.findall(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)", path.read_text()))
    assert used <= STORED_SECRETS, sorted(used - STORED_SECRETS)


@pytest.mark.parametrize("name", sorted(CLOUD_JOBS))
def test_each_cloud_job_runs_in_its_own_environment(name: str) -> None:
    """The environment is the identity the clouds trust; a preview's is not a deploy's."""
    path, environment, _ = CLOUD_JOBS[name]
    workflow = load(path)
    job = workflow["jobs"][name]
    assert job.get("environment") == environment
    assert workflow["permissions"] == {"contents": "read"}  # nothing more by default
    assert job["permissions"]["id-token"] == "write"
    assert job["permissions"]["contents"] == "read"
    assert "id-token" not in workflow["jobs"].get("checks", {}).get("permissions", {})
    # The branch's code runs in these jobs: it gets no GitHub token in .git/config.
    assert one_step(job, "actions/checkout")["with"]["persist-credentials"] is False


def test_the_preview_environments_are_not_the_deploy_environments() -> None:
    preview, drift, up = (CLOUD_JOBS[name][1] for name in ("preview", "drift", "up"))
    assert len({preview, drift, up}) == 3
    for stack in stacks(cloud_job("up")):
        assert preview.replace("${{ matrix.stack }}", stack) not in stacks(cloud_job("up"))
        assert drift.replace("${{ matrix.stack }}", stack) not in stacks(cloud_job("up"))


@pytest.mark.parametrize("name", sorted(CLOUD_JOBS))
def test_aws_credentials_come_from_github_oidc(name: str) -> None:
    _, _, variable = CLOUD_JOBS[name]
    job = cloud_job(name)
    step = one_step(job, AWS_LOGIN)
    assert step["with"]["role-to-assume"] == f"${{{{ vars.{variable} }}}}"
    assert step_index(job, AWS_LOGIN) < step_index(job, "pulumi/actions")


# The two logins that exchange the job's OIDC token: what each exports, when it runs, its inputs.
# Pulumi Cloud (not a self-managed s3:// backend, reached with the AWS role): a team token, of the
# team the environment names; Pulumi Cloud's OIDC policy for that environment's subject decides
# which team may be asked for (Stack Read for previews and drift, Stack Write for `up`).
# Vault (an external one): a token of the JWT auth role bound to the environment's subject, whose
# policies decide what it may do; the step reads no secret (no `secrets` input).
LOGINS: dict[str, tuple[str, str, dict[str, Any]]] = {
    PULUMI_LOGIN: (
        "PULUMI_ACCESS_TOKEN",
        "vars.PULUMI_BACKEND_URL == '' || startsWith(vars.PULUMI_BACKEND_URL, 'https://')",
        {
            "organization": "${{ vars.PULUMI_ORG }}",
            "requested-token-type": "urn:pulumi:token-type:access_token:team",
            "scope": "team:${{ vars.PULUMI_TEAM }}",
            "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
        },
    ),
    VAULT_LOGIN: (
        "VAULT_TOKEN",
        "vars.VAULT_ADDR != ''",
        {
            "url": "${{ vars.VAULT_ADDR }}",
            "method": "jwt",
            "path": "${{ vars.VAULT_JWT_PATH || 'jwt' }}",
            "role": "${{ vars.VAULT_JWT_ROLE }}",
            "jwtGithubAudience": "${{ vars.VAULT_JWT_AUDIENCE || 'vault' }}",
            "caCertificate": "${{ vars.VAULT_CACERT_BASE64 }}",
            "exportToken": True,
        },
    ),
}


@pytest.mark.parametrize("action", sorted(LOGINS))
@pytest.mark.parametrize("name", sorted(CLOUD_JOBS))
def test_pulumi_and_vault_tokens_come_from_github_oidc(name: str, action: str) -> None:
    exported, condition, inputs = LOGINS[action]
    job = cloud_job(name)
    login = one_step(job, action)
    assert login["if"] == condition
    if action == PULUMI_LOGIN:  # it lives as long as the job may, no longer
        inputs = {**inputs, "token-expiration": job["timeout-minutes"] * 60}
    assert login["with"] == inputs
    assert step_index(job, action) < step_index(job, "pulumi/actions")
    assert exported not in str(job)  # only the login step exports it


def readme_rows() -> dict[str, list[str]]:
    """The secrets table of .github/workflows/README.md: name -> its cells."""
    rows: dict[str, list[str]] = {}
    for line in WORKFLOWS_README.read_text().splitlines():
        m = re.match(r"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|(.*)\|$", line)
        if m:
            rows[m.group(1)] = [cell.strip() for cell in m.group(2).split("|")]
    return rows


def jobs_using(name: str) -> set[str]:
    """The jobs whose definition names `secrets.<name>` or `vars.<name>`."""
    found = set()
    for path in (PR, DEPLOY, DRIFT):
        for job_name, job in load(path)["jobs"].items():
            if re.search(rf"\b(?:secrets|vars)\.{name}\b", yaml.safe_dump(job)):
                found.add(job_name)
    return found


# What names a job's identity or reaches its stack: set on each environment, never repository-wide.
PER_ENVIRONMENT = {"AWS_PREVIEW_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", "PULUMI_TEAM", "VAULT_ADDR", "VAULT_JWT_ROLE"}


def test_every_secret_and_variable_is_documented_with_its_jobs_and_scope() -> None:
    rows = readme_rows()
    used: set[str] = set()
    for path in (PR, DEPLOY, DRIFT):
        used |= set(re.findall(r"\b(?:secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)", path.read_text()))
    assert {"AWS_PREVIEW_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", "PULUMI_TEAM", "VAULT_JWT_ROLE"} <= used
    for name in sorted(used):
        assert name in rows, f"{name} is not in the README's table"
        kind, where, used_by, scope = rows[name][:4]
        if name in PER_ENVIRONMENT or (kind == "secret" and name != "GITHUB_TOKEN"):
            assert where == "environment", f"{name} must differ per environment, so it is set on each"
        documented = set(re.findall(r"`([a-z-]+)`", used_by))
        assert documented == jobs_using(name), f"{name}: the table says {used_by}"
        assert scope, f"{name}: no scope and reason"
    assert set(rows) <= used, "the table names something no workflow uses"


# ---------------------------------------------------------------------------- pins


def readme_pins() -> dict[str, tuple[str, str]]:
    """The pinned-actions table of .github/workflows/README.md: action -> (tag, commit)."""
    pins = {}
    for line in WORKFLOWS_README.read_text().splitlines():
        m = re.match(r"^\| `([\w.-]+/[\w.-]+)` \| `(v\d+\.\d+\.\d+)` \| `([0-9a-f]{40})` \|", line)
        if m:
            pins[m.group(1)] = (m.group(2), m.group(3))
    return pins


USES = re.compile(r"^\s*(?:- )?uses: (\S+)(.*)$", flags=re.MULTILINE)


@pytest.mark.parametrize("path", [PR, DEPLOY, DRIFT], ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_tag_beside_it(path: Path) -> None:
    """A tag can be moved to other code; a commit cannot. The tag in the comment is the release
    that commit is (README.md here: the table, and how each commit was read)."""
    pins = readme_pins()
    used = USES.findall(path.read_text())
    assert used
    for spec, comment in used:
        action, _, ref = spec.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{spec}: not pinned to a full commit SHA"
        assert action in pins, f"{action} is not in the README's table of pins"
        tag, commit = pins[action]
        assert (ref, comment.strip()) == (commit, f"# {tag}"), spec


def test_every_pin_in_the_table_is_used() -> None:
    used = {spec.partition("@")[0] for path in (PR, DEPLOY, DRIFT) for spec, _ in USES.findall(path.read_text())}
    assert set(readme_pins()) == used


def install_pulumi_pin() -> str:
    """The project's one pin of the Pulumi CLI: scripts/install-pulumi.sh's PULUMI_VERSION."""
    m = re.search(r"^PULUMI_VERSION=v(\d+\.\d+\.\d+)$", INSTALL_PULUMI.read_text(), flags=re.MULTILINE)
    assert m, "scripts/install-pulumi.sh has no PULUMI_VERSION=vX.Y.Z line"
    return m.group(1)


def installed_cli_version(job: Job, root: Path, tmp_path: Path) -> str:
    """The CLI version the job's pulumi/actions step installs, resolved as the runner would: a
    literal, or the output of the job's step that computes it (run here, in `root`)."""
    requested = str(one_step(job, "pulumi/actions")["with"]["pulumi-version"])
    m = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", requested)
    if not m:
        return requested
    step = next(s for s in job["steps"] if s.get("id") == m.group(1))
    output = tmp_path / "github-output"
    output.write_text("")
    subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output)},
        check=True,
        timeout=30,
    )
    values = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return values[m.group(2)]


def release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@pytest.mark.parametrize("name", sorted(CLOUD_JOBS))
def test_every_workflow_installs_the_cli_install_pulumi_sh_pins(name: str, tmp_path: Path) -> None:
    assert installed_cli_version(cloud_job(name), ROOT, tmp_path) == install_pulumi_pin()
    assert release(install_pulumi_pin()) >= release(pinned("pulumi"))  # a CLI runs SDKs up to its own version


def test_a_new_pin_in_install_pulumi_sh_reaches_every_workflow(tmp_path: Path) -> None:
    """Guards the test above: the workflows follow the pin, they do not repeat it."""
    (tmp_path / "scripts").mkdir()
    bumped = INSTALL_PULUMI.read_text().replace(f"PULUMI_VERSION=v{install_pulumi_pin()}", "PULUMI_VERSION=v3.999.0")
    (tmp_path / "scripts" / "install-pulumi.sh").write_text(bumped)
    for name in CLOUD_JOBS:
        assert installed_cli_version(cloud_job(name), tmp_path, tmp_path) == "3.999.0", name


# ---------------------------------------------------------------------------- preview and up


def stacks(job: Job) -> list[str]:
    matrix: list[str] = job["strategy"]["matrix"]["stack"]
    return matrix


def pulumi_step(job: Job) -> Step:
    return one_step(job, "pulumi/actions")


@pytest.mark.parametrize(("path", "job", "command"), [(PR, "preview", "preview"), (DEPLOY, "up", "up")])
def test_pulumi_runs_every_stack_with_the_policy_pack(path: Path, job: str, command: str) -> None:
    cloud = load(path)["jobs"][job]
    assert "dev" in stacks(cloud)
    for stack in stacks(cloud):
        assert (ROOT / f"Pulumi.{stack}.yaml").is_file(), stack
    step = pulumi_step(cloud)
    inputs = step["with"]
    assert inputs["command"] == command
    assert "matrix.stack" in inputs["stack-name"]
    assert inputs["policyPacks"] == "policy-pack"
    assert (ROOT / inputs["policyPacks"] / "PulumiPolicy.yaml").is_file()
    assert inputs["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    # Only a passphrase stack's passphrase is stored; it reaches the Pulumi step only.
    assert step["env"] == {"PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}
    assert [s.get("uses") for s in cloud["steps"] if "secrets.PULUMI_CONFIG_PASSPHRASE" in str(s)] == [step["uses"]]


def test_the_preview_comments_on_the_pull_request(pr: dict[str, Any]) -> None:
    preview = pr["jobs"]["preview"]
    inputs = pulumi_step(preview)["with"]
    assert inputs["comment-on-pr"] is True
    assert inputs["github-token"] == "${{ secrets.GITHUB_TOKEN }}"
    assert preview["permissions"]["pull-requests"] == "write"
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"


def test_each_stack_deploys_alone_behind_its_environment(deploy: dict[str, Any]) -> None:
    up = deploy["jobs"]["up"]
    assert up["environment"] == "${{ matrix.stack }}"
    assert "${{ matrix.stack }}" in up["concurrency"]["group"]
    assert up["concurrency"]["cancel-in-progress"] is False
    assert up["strategy"]["max-parallel"] == 1


@pytest.mark.parametrize(("path", "job"), [(PR, "preview"), (DEPLOY, "up")])
def test_the_virtualenvs_are_where_pulumi_looks(path: Path, job: str) -> None:
    cloud = load(path)["jobs"][job]
    program_venv = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]["options"]["virtualenv"]
    pack_venv = yaml.safe_load((ROOT / "policy-pack" / "PulumiPolicy.yaml").read_text())["runtime"]["options"][
        "virtualenv"
    ]
    lines = run_lines(cloud)
    assert f"python -m venv {program_venv}" in lines
    assert f"{program_venv}/bin/pip install --disable-pip-version-check -r requirements.txt" in lines
    assert f"python -m venv policy-pack/{pack_venv}" in lines
    assert (
        f"policy-pack/{pack_venv}/bin/pip install --disable-pip-version-check -r policy-pack/requirements.txt" in lines
    )
    assert one_step(cloud, "actions/setup-python")["with"]["python-version"] == "3.11"
    names = [str(s.get("name", s.get("uses"))) for s in cloud["steps"]]
    assert names.index("Virtualenvs of the program and the policy pack") < step_index(cloud, "pulumi/actions")


def test_the_offline_review_of_every_stack_is_attached_without_credentials(pr: dict[str, Any]) -> None:
    job = pr["jobs"]["review"]
    stack_files = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))
    assert sorted(stacks(job)) == stack_files and set(stacks(pr["jobs"]["preview"])) <= set(stacks(job))
    assert "permissions" not in job and "if" not in job and "needs" not in job  # forks get it too
    text = yaml.safe_dump(job)
    assert "secrets." not in text and "vars." not in text and "configure-aws-credentials" not in text
    review = next(s for s in job["steps"] if s.get("name") == "Offline review")
    assert review["run"] == '.venv/bin/python -m tooling.review --stack "$STACK" --out "review/$STACK"'
    assert review["env"] == {"STACK": "${{ matrix.stack }}"}
    upload = one_step(job, "actions/upload-artifact")["with"]
    assert upload["path"] == "review/${{ matrix.stack }}" and upload["if-no-files-found"] == "error"


# ---------------------------------------------------------------------------- drift


@pytest.fixture(scope="module")
def drift() -> dict[str, Any]:
    return load(DRIFT)


def test_drift_runs_on_a_schedule_for_every_deployed_stack(drift: dict[str, Any], deploy: dict[str, Any]) -> None:
    assert set(drift["on"]) == {"schedule", "workflow_dispatch"}
    assert drift["on"]["schedule"][0]["cron"]
    job = drift["jobs"]["drift"]
    assert stacks(job) == stacks(deploy["jobs"]["up"])
    assert job["concurrency"] == {"group": deploy["jobs"]["up"]["concurrency"]["group"], "cancel-in-progress": False}
    assert drift["permissions"] == {"contents": "read"} and job["permissions"]["id-token"] == "write"
    role = one_step(job, AWS_LOGIN)["with"]["role-to-assume"]
    assert role == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"  # the read-only role, as previews
    assert "command" not in pulumi_step(job)["with"]


def test_drift_is_told_apart_from_an_error_by_the_previews_json(drift: dict[str, Any]) -> None:
    """`--expect-no-changes` exits the same way for both (pulumi/pulumi#8992): the JSON decides."""
    job = drift["jobs"]["drift"]
    lines = run_lines(job)
    assert 'pulumi preview --refresh --json --stack "$STACK" > preview.json' in lines
    assert "--expect-no-changes" not in DRIFT.read_text().replace("`--expect-no-changes`", "")
    assert lines.index("set +e") < lines.index('echo "$?" > preview.rc')
    report = next(s for s in job["steps"] if s.get("name") == "Drift or error")
    assert report["run"].startswith('python3 scripts/drift_report.py preview.json --exit-code "$(cat preview.rc)"')
    assert report["shell"] == "bash"  # -o pipefail: the report's status survives the tee
    assert (ROOT / "scripts" / "drift_report.py").is_file()


# ---------------------------------------------------------------------------- actionlint


def actionlint() -> str:
    """The built actionlint; where build-tools.sh could not build it, a skip on a laptop and a
    failure in CI (GLOO_VAULT_IRSA_REQUIRE_ENGINES=1), where the lint must never vanish."""
    unavailable = TOOLS / "actionlint.unavailable"
    if unavailable.exists():
        engine_missing(f"actionlint is missing ({unavailable.read_text().splitlines()[0]})")
    binary = TOOLS / "actionlint"
    if not binary.exists():
        pytest.fail("actionlint is not built: run ./scripts/build-tools.sh (./scripts/test.sh does)")
    return str(binary)


def at_major_tags(text: str) -> str:
    """The workflow with each `owner/repo@<commit> # vX.Y.Z` as `owner/repo@vX`: actionlint knows
    popular actions' inputs by their major tag only, so this is how it checks them."""
    return re.sub(r"@[0-9a-f]{40} # (v\d+)\.\d+\.\d+", r"@\1", text)


def lint(tmp_path: Path, texts: dict[str, str]) -> subprocess.CompletedProcess[str]:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (workflows / name).write_text(text)
    return subprocess.run(
        [actionlint(), "-no-color", *(f".github/workflows/{name}" for name in texts)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_actionlint_finds_nothing() -> None:
    result = subprocess.run(
        [actionlint(), "-no-color", *(str(p.relative_to(ROOT)) for p in (PR, DEPLOY, DRIFT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_finds_nothing_in_the_actions_inputs(tmp_path: Path) -> None:
    result = lint(tmp_path, {p.name: at_major_tags(p.read_text()) for p in (PR, DEPLOY, DRIFT)})
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_checks_the_actions_inputs(tmp_path: Path) -> None:
    """Guards the test above: actionlint knows pulumi/actions@v6's inputs, so a typo fails."""
    broken = at_major_tags(PR.read_text()).replace("policyPacks: policy-pack", "policyPack: policy-pack")
    result = lint(tmp_path, {PR.name: broken})
    assert result.returncode == 1
    assert 'input "policyPack" is not defined in action "pulumi/actions@v6"' in result.stdout


# Inputs of the actions actionlint does not know (not in its popular-actions data), from their
# action.yml at the pinned commit (README.md here, "Pinned actions").
INPUTS = {
    PULUMI_LOGIN: {
        "organization",
        "requested-token-type",
        "scope",
        "token-expiration",
        "export-environment-variables",
        "cloud-url",
    },
    VAULT_LOGIN: {
        "url",
        "secrets",
        "pki",
        "namespace",
        "method",
        "role",
        "path",
        "token",
        "roleId",
        "secretId",
        "githubToken",
        "kubernetesTokenPath",
        "username",
        "password",
        "authPayload",
        "extraHeaders",
        "exportEnv",
        "exportToken",
        "outputToken",
        "caCertificate",
        "clientCertificate",
        "clientKey",
        "tlsSkipVerify",
        "jwtPrivateKey",
        "jwtKeyPassword",
        "jwtGithubAudience",
        "jwtTtl",
        "secretEncodingType",
        "ignoreNotFound",
    },
}


@pytest.mark.parametrize("name", sorted(CLOUD_JOBS))
def test_the_login_actions_are_given_only_inputs_they_have(name: str) -> None:
    job = cloud_job(name)
    for action, inputs in INPUTS.items():
        assert set(one_step(job, action)["with"]) <= inputs, action


def test_a_missing_actionlint_skips_on_a_laptop_and_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "actionlint.unavailable").write_text("go is not installed, so actionlint cannot be built\n")
    monkeypatch.setattr(f"{__name__}.TOOLS", tmp_path)
    monkeypatch.delenv(REQUIRE_ENGINES, raising=False)
    with pytest.raises(pytest.skip.Exception, match="go is not installed"):
        actionlint()
    monkeypatch.setenv(REQUIRE_ENGINES, "1")
    with pytest.raises((pytest.fail.Exception, pytest.skip.Exception)) as outcome:
        actionlint()
    assert outcome.type is pytest.fail.Exception, "the lint was skipped in CI"
    assert f"{REQUIRE_ENGINES}=1 but actionlint is missing (go is not installed" in str(outcome.value)


# ---------------------------------------------------------------------------- build-tools.sh

FAILING_GO = "#!/bin/sh\necho 'go: cannot build here (test stub)' >&2\nexit 1\n"


def build_tools(sandbox: Path, *, go: str | None, ci: bool) -> subprocess.CompletedProcess[str]:
    """scripts/build-tools.sh in a sandbox, with a `go` that fails every build (or none), and
    nothing else of this machine's on PATH."""
    (sandbox / "scripts").mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUILD_TOOLS, sandbox / "scripts" / "build-tools.sh")
    for module in ("gloologin", "vaultcli", "awsauthplugin"):
        (sandbox / "tests" / "engines" / module).mkdir(parents=True, exist_ok=True)
    stubs = sandbox / "stubs"
    stubs.mkdir(exist_ok=True)
    if go is not None:
        (stubs / "go").write_text(go)
        (stubs / "go").chmod(stat.S_IRWXU)
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "HOME": str(sandbox / "home")}
    if ci:
        env[REQUIRE_ENGINES] = "1"
    assert (shutil.which("go", path=env["PATH"]) is None) == (go is None)
    return subprocess.run(
        ["bash", "scripts/build-tools.sh"], cwd=sandbox, env=env, capture_output=True, text=True, timeout=120
    )


def built_tools() -> list[str]:
    return re.findall(r"^build (\S+) ", BUILD_TOOLS.read_text(), flags=re.MULTILINE)


@pytest.mark.parametrize("go", [FAILING_GO, None], ids=["failing-go", "no-go"])
def test_build_tools_fails_in_ci_when_a_tool_cannot_be_built(tmp_path: Path, go: str | None) -> None:
    result = build_tools(tmp_path, go=go, ci=True)
    assert result.returncode == 1, result.stdout + result.stderr
    tools = built_tools()
    assert "actionlint" in tools
    for tool in tools:
        assert (tmp_path / ".cache" / "tools" / f"{tool}.unavailable").is_file(), tool
    last = result.stdout.splitlines()[-1]
    assert last == f"build-tools: {REQUIRE_ENGINES}=1 but not built: {', '.join(tools)}"


@pytest.mark.parametrize("go", [FAILING_GO, None], ids=["failing-go", "no-go"])
def test_build_tools_leaves_the_reasons_to_the_tests_on_a_laptop(tmp_path: Path, go: str | None) -> None:
    result = build_tools(tmp_path, go=go, ci=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for tool in built_tools():
        reason = (tmp_path / ".cache" / "tools" / f"{tool}.unavailable").read_text()
        assert reason.strip() and "\n" not in reason.strip(), tool
