"""Operating bantin on Prefect: start/stop a Prefect server and workers as child
processes (for tests, docs and a one-box setup), register deployments, wait for runs."""
