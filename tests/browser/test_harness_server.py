"""The Lab server's start survives a port that something else took in the meantime.

CI once failed both link tests' setup with ``http.client.BadStatusLine``: between
``free_port()`` and the server's bind, another program took the port, answered the status poll
with bytes that were not HTTP, and the poll let that exception through. Another time the server
itself could not bind and the retry never happened: jupyter_server 2 logs "The port N is already
in use.", and the harness looked for the OS's "Address already in use".
"""

from __future__ import annotations

import socket
import threading

import pytest

from . import harness


@pytest.fixture
def squatter():
    """A loopback port held by a program that answers every connection with non-HTTP bytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"\xff\x00\x00\x00\x00\x00\x00\x00\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    sock.close()
    thread.join(timeout=5)


def test_free_port_is_below_the_ephemeral_range():
    low = harness._ephemeral_low()
    ports = {harness.free_port() for _ in range(20)}
    assert all(1024 <= p < low for p in ports), (low, sorted(ports))
    assert len(ports) > 1  # drawn at random: two workers do not walk the same sequence


def test_a_taken_port_is_retried_on_another(squatter, monkeypatch, tmp_path):
    ports = iter([squatter])
    real_free_port = harness.free_port
    monkeypatch.setattr(harness, "free_port", lambda: next(ports, None) or real_free_port())
    root = tmp_path / "root"
    root.mkdir()
    server = harness.start_lab_server(root, tmp_path / "state")
    try:
        assert server.port != squatter
        assert "already in use" in (tmp_path / "state" / "server-0.log").read_text().lower()
        assert server.api("GET", "/api/status")["started"]
    finally:
        server.stop()
