"""The stack's config: its keys, checks, rules and cluster targets, and the start-up checks
against AWS and the clusters' stacks. Read only by `components/stack.py` and the tooling: no
layer imports it (tests/test_layout.py).
"""
