"""Start a built app on a free 127.0.0.1 port in this process (server thread) and stop it after."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from ui.app import launch_options


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(demo: gr.Blocks) -> Iterator[str]:
    """Launch ``demo`` with the production launch options and yield its base URL."""
    opts = launch_options("127.0.0.1", free_port())
    demo.launch(prevent_thread_lock=True, **opts)
    try:
        yield f"http://127.0.0.1:{opts['server_port']}/"
    finally:
        demo.close()
