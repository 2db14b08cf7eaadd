"""The load generator: asyncio + aiohttp over a keep-alive connection pool, in one process.

Every request becomes a sample `(t, latency, status, order)`: `t` is when it was due, in
seconds since the common start time; `latency` runs from `t` to the end of the answer, so in
the open loop a request that had to wait (for a connection, or for the server) is charged for
the wait and a slow server cannot slow the offered load down (no coordinated omission).
`status` is the HTTP status, or 0 when no answer came (timeout, connection error).

Ids are drawn without replacement: each process walks its own share of the ids (every
`id_stride`-th from `id_offset`) in a random order, and only starts over, in a new order, once
every id of its share has been used. So a checkout benchmark pays a new order with every
request until the orders run out, instead of re-checking-out already paid orders (cheap
answers that would flatter the figures); the report counts the repeats.
"""

import asyncio
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

Sample = tuple[float, float, int, int]
Sink = Callable[[list[Sample]], None]
FLUSH_EVERY_S = 0.25
NO_ANSWER = 0


@dataclass(frozen=True)
class LoadSpec:
    """What one generator process does. `rate` and `clients` are this process's share."""

    base_url: str
    method: str
    path: str  # "{}" is replaced by a random id in id_start..ids-1
    ids: int
    rate: float | None  # open loop: requests due per second
    phase: float  # open loop: this process's offset of its schedule, in seconds
    clients: int  # closed loop: concurrent clients
    connections: int
    seconds: float
    start_at: float  # time.time() of t = 0, shared by all processes
    seed: int
    timeout_s: float
    id_offset: int = 0  # this process's share of the ids: id_offset, id_offset + id_stride, ...
    id_stride: int = 1
    id_start: int = 0  # ids below this are left to another phase (its share starts here)


class Generator:
    """Sends requests, records samples and hands them to `sink` every FLUSH_EVERY_S."""

    def __init__(self, spec: LoadSpec, session: aiohttp.ClientSession, sink: Sink) -> None:
        self.spec = spec
        self.session = session
        self.sink = sink
        self.rng = random.Random(spec.seed)
        first = spec.id_start + spec.id_offset
        self.ids = IdPicker(range(first, spec.ids, spec.id_stride), self.rng)
        self.buffer: list[Sample] = []
        # Not loop.time(): uvloop's clock has millisecond steps and is read once per iteration.
        self.origin = time.perf_counter() + (spec.start_at - time.time())

    def now(self) -> float:
        return time.perf_counter() - self.origin

    async def send(self, due: float) -> None:
        order = self.ids.next()
        url = self.spec.base_url + self.spec.path.format(order)
        try:
            async with self.session.request(self.spec.method, url) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = NO_ANSWER
        self.buffer.append((due, self.now() - due, status, order))

    async def flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            batch, self.buffer = self.buffer, []
            self.sink(batch)


class IdPicker:
    """The ids of `share` in a random order; a new random order each time round."""

    def __init__(self, share: range, rng: random.Random) -> None:
        self.share = share if len(share) else range(1)
        self.rng = rng
        self.order: list[int] = []

    def next(self) -> int:
        if not self.order:
            self.order = list(self.share)
            self.rng.shuffle(self.order)
        return self.order.pop()


async def open_loop(gen: Generator) -> None:
    """Fire every request at its due time, whether or not earlier ones have answered."""
    spec = gen.spec
    total = math.ceil((spec.seconds - spec.phase) * spec.rate - 1e-9)
    in_flight: set[asyncio.Task] = set()
    sent = 0
    while sent < total:
        now = gen.now()
        while sent < total and spec.phase + sent / spec.rate <= now:
            task = asyncio.create_task(gen.send(spec.phase + sent / spec.rate))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            sent += 1
        await asyncio.sleep(max(0.0, spec.phase + sent / spec.rate - gen.now()))
    await asyncio.gather(*in_flight)


async def closed_loop(gen: Generator) -> None:
    """`clients` clients, each sending its next request as soon as the last one answered."""

    async def client() -> None:
        while (now := gen.now()) < gen.spec.seconds:
            await gen.send(now)

    await asyncio.sleep(max(0.0, -gen.now()))
    await asyncio.gather(*(client() for _ in range(gen.spec.clients)))


async def generate(spec: LoadSpec, sink: Sink) -> None:
    connector = aiohttp.TCPConnector(limit=spec.connections, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=spec.timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        gen = Generator(spec, session, sink)
        flusher = asyncio.create_task(gen.flush_periodically())
        try:
            await (open_loop(gen) if spec.rate else closed_loop(gen))
        finally:
            flusher.cancel()
            gen.flush()


def run_async(coroutine) -> object:
    """Run on uvloop when it is installed: it roughly halves the event loop's overhead."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def event_loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"
