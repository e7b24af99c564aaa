"""The tests' Prefect harness: a real Prefect server and process workers as child
processes (`procs`), and small synchronous reads of its REST API (`api`).

Only tests use it (tests/conftest.py starts one server per pytest session); the product
never imports it.
"""
