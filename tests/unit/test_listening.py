"""Before `devstack up` starts anything, each of its ports must be free to listen on, with real
sockets on loopback: a port that closed client connections still hold in TIME-WAIT (the kernel
frees it within a minute) is waited for; a port something else holds is refused at once, naming
what holds it."""

import os
import socket

import pytest
from port_support import port_in_time_wait

from shoptools.listening import require_free


def test_a_free_port_passes_at_once(capsys) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    require_free(f"127.0.0.1:{port}", "the stock service")
    assert capsys.readouterr().err == ""


def test_a_port_in_time_wait_is_waited_for_then_refused_naming_it(capsys) -> None:
    port = port_in_time_wait()

    with pytest.raises(SystemExit) as refused:
        require_free(f"127.0.0.1:{port}", "the payment service", wait_s=0.3, poll_s=0.05)

    message = str(refused.value)
    assert message.startswith(f"the payment service cannot listen on 127.0.0.1:{port}:")
    assert "held by 1 TIME_WAIT" in message
    assert "still after 0.3 s" in message
    waiting = capsys.readouterr().err
    assert f"127.0.0.1:{port} (the payment service) is held by 1 closed connection(s)" in waiting
    assert "waiting" in waiting


def test_a_listening_port_is_refused_at_once_naming_its_process(capsys) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]

        with pytest.raises(SystemExit) as refused:
            require_free(f"127.0.0.1:{port}", "the order service", wait_s=30)

    message = str(refused.value)
    assert message.startswith(f"the order service cannot listen on 127.0.0.1:{port}:")
    assert "held by 1 LISTEN" in message
    assert f"pid {os.getpid()} (" in message  # this process's own socket: always visible
    assert capsys.readouterr().err == ""  # nothing to wait for
