"""Tooling around the program: the offline runtime, the review and the doc generators. It imports
the program; the program never imports it (tests/test_layout.py).
"""
