"""Run the ASGI app in N uvicorn processes, each with its own SO_REUSEPORT socket.

uvicorn's own multi-worker mode hands one listening socket to every worker, and whichever
process wins accept() takes the connection: long-lived keep-alive connections then pile up
on one process while another idles. With a socket per process and SO_REUSEPORT the kernel
spreads connections over the processes by hash.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import signal
import socket
import threading
from typing import Any

log = logging.getLogger(__name__)
RESPAWN_PAUSE = 1.0


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve_one(config: dict[str, Any]) -> None:
    """One worker process: its own socket, one uvicorn server (a spawn target)."""
    import uvicorn

    sock = listening_socket(config["host"], config["port"])
    uvicorn.Server(uvicorn.Config(**config)).run(sockets=[sock])


def serve_many(config: dict[str, Any], workers: int) -> None:
    """Start `workers` processes, respawn one that dies, stop them all on SIGTERM/SIGINT."""
    # fail early and clearly when the address is taken, before any worker starts
    listening_socket(config["host"], config["port"]).close()
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=serve_one, args=(config,), name="lading-worker")
        process.start()
        return process

    def stop(signum: int, _frame: object) -> None:
        stopping.set()
        for process in processes:
            if process.is_alive():
                process.terminate()

    processes = [start() for _ in range(workers)]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping.is_set():
        multiprocessing.connection.wait([p.sentinel for p in processes])
        for index, process in enumerate(processes):
            if process.is_alive() or stopping.is_set():
                continue
            log.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
            if stopping.wait(RESPAWN_PAUSE):  # a stop during the pause wins
                break
            processes[index] = start()
    for process in processes:  # also one started just before a stop arrived
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=30)
