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
TOOLS = ROOT / ".cache" / "tools"
BUILD_TOOLS = ROOT / "scripts" / "build-tools.sh"
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


@pytest.mark.parametrize("path", [PR, DEPLOY, DRIFT], ids=lambda p: p.name)
def test_no_long_lived_aws_keys(path: Path) -> None:
    text = path.read_text().lower()
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "aws_access_key_id", "aws_secret_access_key"):
        assert forbidden not in text, forbidden


@pytest.mark.parametrize(
    ("path", "job", "variable"), [(PR, "preview", "AWS_PREVIEW_ROLE_ARN"), (DEPLOY, "up", "AWS_DEPLOY_ROLE_ARN")]
)
def test_aws_credentials_come_from_github_oidc(path: Path, job: str, variable: str) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}  # nothing more by default
    cloud_job = workflow["jobs"][job]
    assert cloud_job["permissions"]["id-token"] == "write"
    step = one_step(cloud_job, "aws-actions/configure-aws-credentials")
    assert step["uses"] == "aws-actions/configure-aws-credentials@v4"
    assert step["with"]["role-to-assume"] == f"${{{{ vars.{variable} }}}}"
    assert "id-token" not in workflow["jobs"]["checks"].get("permissions", {})


def test_every_secret_and_variable_is_documented() -> None:
    readme = (WORKFLOWS / "README.md").read_text()
    used: set[str] = set()
    for path in (PR, DEPLOY, DRIFT):
        used |= set(re.findall(r"\b(?:secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)", path.read_text()))
    assert {"AWS_PREVIEW_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", "PULUMI_ACCESS_TOKEN", "VAULT_TOKEN"} <= used
    for name in sorted(used):
        assert re.search(rf"^\| `{name}` \|", readme, flags=re.MULTILINE), f"{name} is not in the README's table"


# ---------------------------------------------------------------------------- preview and up


def stacks(job: Job) -> list[str]:
    matrix: list[str] = job["strategy"]["matrix"]["stack"]
    return matrix


def pulumi_step(job: Job) -> Step:
    step = one_step(job, "pulumi/actions")
    assert step["uses"] == "pulumi/actions@v6"
    return step


@pytest.mark.parametrize(("path", "job", "command"), [(PR, "preview", "preview"), (DEPLOY, "up", "up")])
def test_pulumi_runs_every_stack_with_the_policy_pack(path: Path, job: str, command: str) -> None:
    cloud_job = load(path)["jobs"][job]
    assert "dev" in stacks(cloud_job)
    for stack in stacks(cloud_job):
        assert (ROOT / f"Pulumi.{stack}.yaml").is_file(), stack
    step = pulumi_step(cloud_job)
    inputs = step["with"]
    assert inputs["command"] == command
    assert "matrix.stack" in inputs["stack-name"]
    assert inputs["policyPacks"] == "policy-pack"
    assert (ROOT / inputs["policyPacks"] / "PulumiPolicy.yaml").is_file()
    assert inputs["pulumi-version"] == pinned("pulumi")  # the CLI matches the SDK
    assert inputs["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    assert step["env"]["VAULT_TOKEN"] == "${{ secrets.VAULT_TOKEN }}"
    # The Vault token reaches the Pulumi step only.
    assert [s.get("name", s.get("uses")) for s in cloud_job["steps"] if "VAULT_TOKEN" in str(s)] == [step["uses"]]


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
    cloud_job = load(path)["jobs"][job]
    program_venv = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]["options"]["virtualenv"]
    pack_venv = yaml.safe_load((ROOT / "policy-pack" / "PulumiPolicy.yaml").read_text())["runtime"]["options"][
        "virtualenv"
    ]
    lines = run_lines(cloud_job)
    assert f"python -m venv {program_venv}" in lines
    assert f"{program_venv}/bin/pip install --disable-pip-version-check -r requirements.txt" in lines
    assert f"python -m venv policy-pack/{pack_venv}" in lines
    assert (
        f"policy-pack/{pack_venv}/bin/pip install --disable-pip-version-check -r policy-pack/requirements.txt" in lines
    )
    assert one_step(cloud_job, "actions/setup-python")["with"]["python-version"] == "3.11"
    names = [str(s.get("uses", s.get("name"))) for s in cloud_job["steps"]]
    assert names.index("Virtualenvs of the program and the policy pack") < names.index("pulumi/actions@v6")


def test_the_offline_review_of_every_stack_is_attached_without_credentials(pr: dict[str, Any]) -> None:
    job = pr["jobs"]["review"]
    stack_files = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))
    assert sorted(stacks(job)) == stack_files and set(stacks(pr["jobs"]["preview"])) <= set(stacks(job))
    assert "permissions" not in job and "if" not in job and "needs" not in job  # forks get it too
    text = yaml.safe_dump(job)
    assert "secrets." not in text and "vars." not in text and "configure-aws-credentials" not in text
    review = next(s for s in job["steps"] if s.get("name") == "Offline review")
    assert review["run"] == '.venv/bin/python -m components.review --stack "$STACK" --out "review/$STACK"'
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
    role = one_step(job, "aws-actions/configure-aws-credentials")["with"]["role-to-assume"]
    assert role == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"  # the read-only role, as previews
    assert pulumi_step(job)["with"]["pulumi-version"] == pinned("pulumi")
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


def test_actionlint_finds_nothing() -> None:
    result = subprocess.run(
        [actionlint(), "-no-color", *(str(p.relative_to(ROOT)) for p in (PR, DEPLOY, DRIFT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_checks_the_actions_inputs(tmp_path: Path) -> None:
    """Guards the test above: actionlint knows pulumi/actions@v6's inputs, so a typo fails."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    shutil.copy(PR, workflows / PR.name)
    broken = workflows / PR.name
    broken.write_text(broken.read_text().replace("policyPacks: policy-pack", "policyPack: policy-pack"))
    result = subprocess.run(
        [actionlint(), "-no-color", f".github/workflows/{PR.name}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert 'input "policyPack" is not defined in action "pulumi/actions@v6"' in result.stdout


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
