#!/usr/bin/env python3
"""Tells drift from an error in a refreshed preview (`pulumi preview --refresh --json`).

    python3 scripts/drift_report.py preview.json --exit-code "$rc"

`pulumi preview --expect-no-changes` exits non-zero both when the live estate differs from the
code and when the preview itself fails (pulumi/pulumi#8992), so the drift workflow runs the
preview without it and reads its JSON (the CLI's `PreviewDigest`: `steps` with `op`, `urn`,
`diffReasons`, `replaceReasons`; `diagnostics` with `severity` and `message`; `changeSummary`).

Exit status: 0 no drift; 1 drift (one line per resource that differs, then a summary); 2 the
preview failed or its JSON cannot be read (the reason, then whatever drift was still seen).
Standard library only: the workflow runs it with the runner's python3.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NO_DRIFT, DRIFT, ERROR = 0, 1, 2
# Steps that change nothing: unchanged, refreshed without a difference, read-only look-ups.
UNCHANGED_OPS = frozenset({"same", "refresh", "read", "discard"})
STACK_TYPE = "pulumi:pulumi:Stack"
# Resources that remove themselves, so that a refresh finds them gone and the preview creates them
# again: the login check Job (config `loginCheck`, docs/troubleshooting.md "Verify"), deleted by Kubernetes 10
# minutes after it finished (`ttlSecondsAfterFinished`). Its return is the check running again.
# Known as (the type of the component that owns it, its type), which a URN carries in its type
# chain (`<parent type>$<type>`): its name is `<cluster>-gloo-login-check` with `clusters`, and a
# Job of that name made by anything else is the estate's, whose return is drift.
SELF_DELETING = frozenset({("gloo-vault-irsa:gloo:GlooVaultLoginCheck", "kubernetes:batch/v1:Job")})


@dataclass
class Report:
    """What a refreshed preview says: the resources that differ, and why the preview failed."""

    drift: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> int:
        if self.errors:
            return ERROR
        return DRIFT if self.drift else NO_DRIFT

    def lines(self) -> list[str]:
        out = [f"error: {e}" for e in self.errors] + [f"drift: {d}" for d in self.drift]
        if self.errors:
            out.append("drift-report: the preview failed; this is an error, not (only) drift")
        elif self.drift:
            out.append(f"drift-report: {len(self.drift)} resource(s) differ from the code")
        else:
            out.append("drift-report: no drift")
        return out


def _name(urn: str) -> tuple[str, str]:
    """(type, name) of a URN `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>`."""
    parts = urn.split("::")
    if len(parts) < 4:
        return urn, ""
    return parts[2].rsplit("$", 1)[-1], "::".join(parts[3:])


def self_deleting(urn: str) -> bool:
    """Whether the URN's resource is one that removes itself: its type and its parent's, the last
    two of the URN's type chain, are a pair of `SELF_DELETING`."""
    parts = urn.split("::")
    chain = parts[2].split("$") if len(parts) >= 4 else []
    return len(chain) >= 2 and (chain[-2], chain[-1]) in SELF_DELETING


def _step_drift(step: dict[str, Any]) -> str | None:
    op = step.get("op", "")
    urn = str(step.get("urn", ""))
    type_, name = _name(urn)
    if op in UNCHANGED_OPS or type_ == STACK_TYPE:
        return None
    if op in ("delete", "create") and self_deleting(urn):
        return None
    reasons = step.get("replaceReasons") or step.get("diffReasons") or sorted(step.get("detailedDiff") or {})
    because = f" ({', '.join(map(str, reasons))})" if reasons else ""
    return f"{op} {type_} {name}{because}"


def read_report(text: str, exit_code: int = 0) -> Report:
    """The report of one preview's JSON output and the CLI's exit code."""
    report = Report()
    try:
        digest = json.loads(text) if text.strip() else None
    except json.JSONDecodeError as bad:
        digest = None
        report.errors.append(f"the preview's output is not JSON ({bad.msg} at line {bad.lineno})")
    if digest is not None and not isinstance(digest, dict):
        report.errors.append("the preview's output is not a preview digest (a JSON object)")
        digest = None
    if digest is None and not report.errors:
        report.errors.append("the preview printed nothing")
    digest = digest or {}
    for diagnostic in digest.get("diagnostics") or []:
        if diagnostic.get("severity") == "error":
            report.errors.append(" ".join(str(diagnostic.get("message", "")).split()))
    if exit_code != 0 and not report.errors:
        report.errors.append(f"pulumi preview exited {exit_code}")
    # A refresh that found a difference and the step that undoes it share a URN: the last one says
    # what `pulumi up` would do about it.
    drift: dict[str, str] = {}
    for step in digest.get("steps") or []:
        line = _step_drift(step)
        if line is not None:
            drift[str(step.get("urn"))] = line
    report.drift = list(drift.values())
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("preview", type=Path, help="the output of `pulumi preview --refresh --json`")
    parser.add_argument("--exit-code", type=int, default=0, help="pulumi preview's exit status")
    args = parser.parse_args(argv)
    text = args.preview.read_text() if args.preview.is_file() else ""
    report = read_report(text, args.exit_code)
    for line in report.lines():
        print(line)
    return report.status


if __name__ == "__main__":
    sys.exit(main())
