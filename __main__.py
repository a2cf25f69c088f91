"""gloo-vault-irsa: read config, build the graph, export the contract."""

import gc

import pulumi

from components.config.load import load_settings
from components.stack import build

# The graph's objects (resources, outputs and their asyncio futures) live until the program exits,
# so CPython's cyclic collector only rescans them: at its default thresholds that is 40% of the
# evaluation of 100 clusters (scripts/bench_scale.py). Young objects are collected less often.
gc.set_threshold(200_000, 20, 20)

for name, value in build(load_settings()).items():
    pulumi.export(name, value)
