"""gloo-vault-irsa: read config, build the graph, export the contract."""

import pulumi

from components.config import load_settings
from components.stack import build

for name, value in build(load_settings()).items():
    pulumi.export(name, value)
