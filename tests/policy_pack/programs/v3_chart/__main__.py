"""A chart given as `pulumi_kubernetes.helm.v3.Chart`: what the policy pack sees of
one. The chart's name, version and values come from config (`chart`, `version`, `values` as
JSON); the objects Helm renders come from the mocks' answer to `kubernetes:helm:template`."""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
k8s.helm.v3.Chart(
    config.require("chart"),
    k8s.helm.v3.ChartOpts(
        chart=config.require("chart"),
        version=config.require("version"),
        fetch_opts=k8s.helm.v3.FetchOpts(repo="https://helm.releases.hashicorp.com"),
        namespace="vault",
        values=json.loads(config.get("values") or "{}"),
    ),
)
