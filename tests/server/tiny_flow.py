"""A flow with no bantin dependency, to prove the server/worker harness on its own."""

from __future__ import annotations

import os
from pathlib import Path

from prefect import flow, get_run_logger


@flow(name="write-file", flow_run_name="write {label}")
def write_file(label: str = "hello", delay_s: float = 0.0) -> str:
    import socket
    import time

    time.sleep(delay_s)
    out_dir = Path(os.environ["BANTIN_DATA_DIR"])
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{label}.txt"
    target.write_text(f"{label} {socket.gethostname()} {os.getpid()} {os.getcwd()}\n")
    get_run_logger().info("wrote %s", target)
    return str(target)
