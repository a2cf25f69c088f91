"""The policy pack (policy-pack/), without the Pulumi CLI, one test module per rule module.

The checks in `guardrails/` run on the program's real graph (tests/harness.py, with the real
Pulumi.dev.yaml and the other topologies), seen as the engine shows it to a policy pack
(`engine.py`). The real graph must pass; for every policy and every way to break it, a twin of
the real properties broken that one way must fail with that policy's message.
"""
