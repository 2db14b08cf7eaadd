"""A plain TCP relay, for a process in a network namespace of `make chaos` (netns.py): it
reaches the rest of the stack, which listens on the host's loopback, only through its veth.

    python -m shoptools.chaos.relay LISTEN=TARGET ...    # e.g. 127.0.0.1:9092=10.213.0.1:9092

Each LISTEN address (HOST:PORT) is served in the namespace the relay runs in, and every
connection to it is joined to a new one to TARGET. Two relays make the path: one inside the
namespace (its loopback -> the host's veth address), one on the host (the veth address ->
the host's loopback), so that all of it crosses the veth and a partition cuts it.
"""

import asyncio
import contextlib
import signal
import sys


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then pass the end on (a half close stays a half close)."""
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def join(target: tuple[str, int], reader, writer) -> None:
    try:
        far_reader, far_writer = await asyncio.open_connection(*target)
    except OSError:
        writer.close()  # the caller sees the connection refused or reset, as it would be
        return
    try:
        await asyncio.gather(pipe(reader, far_writer), pipe(far_reader, writer))
    finally:
        far_writer.close()
        writer.close()


async def serve(pairs: list[tuple[tuple[str, int], tuple[str, int]]]) -> None:
    servers = [
        await asyncio.start_server(lambda r, w, t=target: join(t, r, w), *listen)
        for listen, target in pairs
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("relaying " + ", ".join(f"{a[0]}:{a[1]} -> {b[0]}:{b[1]}" for a, b in pairs), flush=True)
    await stop.wait()
    for server in servers:
        server.close()


def main(argv: list[str]) -> int:
    pairs = []
    for arg in argv:
        listen, _, target = arg.partition("=")
        pairs.append((address(listen), address(target)))
    asyncio.run(serve(pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
