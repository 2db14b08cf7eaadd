"""A loopback port held the way a load test leaves its client ports: by a closed connection in
TIME-WAIT, which refuses a listener's bind (even with SO_REUSEADDR) until the kernel frees it,
a minute later."""

import socket
import time

import pytest

from shoptools.listening import bind_error


def port_in_time_wait() -> int:
    """The client bound the port, connected and closed first: its side keeps TIME-WAIT."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client = socket.socket()
        client.bind(("127.0.0.1", 0))
        port = client.getsockname()[1]
        client.connect(server.getsockname())
        accepted, _ = server.accept()
        client.close()
        accepted.recv(1)  # the client's FIN arrived
        accepted.close()
    for _ in range(100):  # the client's side passes FIN-WAIT on the server's FIN
        if bind_refused(port):
            return port
        time.sleep(0.01)
    pytest.skip("this kernel let a listener bind over a TIME-WAIT port")


def bind_refused(port: int) -> bool:
    """Whether a listener, binding as the services' do (SO_REUSEADDR), is refused the port."""
    return bind_error("127.0.0.1", port) is not None
