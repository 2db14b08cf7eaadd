"""One simulated run: build the shop from the real classes, play the seed's workload and
faults on the virtual clock, check the invariants throughout and at the end.

`Build` names the classes the world runs (the real ones by default), so that a test can run
the simulator against a mutant without any flag in production code."""

import asyncio
import collections
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from order_svc import orders
from order_svc.api import OrderApi
from order_svc.coordinator import CheckoutCoordinator
from order_svc.orders import Line, Order
from order_svc.retry_worker import CheckoutRetryWorker
from order_svc.store.memory import open_memory_store as open_order_store
from payment_svc import accounts
from payment_svc.accounts import User
from payment_svc.api import PaymentParticipant
from payment_svc.store.memory import open_memory_store as open_payment_store
from shop.events.v1 import events_pb2
from shop.order.v1 import order_pb2
from shopmesh import ids
from shopmesh.errors import ShopError
from shopmesh.events import outbox
from shopmesh.participant.reservations import State
from shopmesh.participant.servicer import ParticipantServicer
from shopmesh.participant.stale import StaleReservationResolver
from shoptools.sim import invariants, plan
from shoptools.sim.invariants import Monitor, Snapshot, Violation
from shoptools.sim.network import Network, OrderStub, SimPeers
from shoptools.sim.processes import Incarnation, ProcessStore, Service, StoreFailure
from shoptools.sim.vloop import VirtualTimeLoop
from stock_svc import inventory
from stock_svc.api import StockParticipant
from stock_svc.inventory import Item
from stock_svc.store.memory import open_memory_store as open_stock_store

MONITOR_EVERY_S = 0.1
CLIENT_TIMEOUT_S = 10.0
# A refusal a checkout may answer in the simulated shop; anything else is a finding.
REFUSALS = {
    "INSUFFICIENT_STOCK",
    "INSUFFICIENT_CREDIT",
    "DEPENDENCY_UNAVAILABLE",
    "CHECKOUT_TIMED_OUT",
    "ORDER_NOT_FOUND",
    "ORDER_CHANGED",
    "CHECKOUT_UNDECIDED",
}


@dataclass
class Build:
    """The classes a run builds its processes from: production's, unless a test swaps one."""

    coordinator: type = CheckoutCoordinator
    resolver: type = StaleReservationResolver
    retry_worker: type = CheckoutRetryWorker


@dataclass
class Outcome:
    seed: int
    answers: collections.Counter = field(default_factory=collections.Counter)
    faults: collections.Counter = field(default_factory=collections.Counter)
    checkouts: int = 0
    violation: Violation | None = None
    trace: list[str] = field(default_factory=list)

    def minimal_trace(self) -> list[str]:
        """The steps that mention what the violation is about (all, if it names nothing)."""
        about = self.violation.about if self.violation else []
        short = [a[:8] for a in about]
        lines = [line for line in self.trace if any(a in line for a in short)] if short else []
        faults = [line for line in self.trace if " fault " in line]
        chosen = set(lines) | set(faults)
        return [line for line in self.trace if line in chosen] or self.trace[-40:]


class World:
    def __init__(self, seed: int, build: Build | None = None, trace: bool = True) -> None:
        self.seed = seed
        self.build = build or Build()
        self.rng = random.Random(seed)
        self.plan = plan.draw(self.rng)
        self.outcome = Outcome(seed)
        self._tracing = trace
        self.monitor = Monitor()
        self._paid_at: dict[str, float] = {}
        self.audit: list[tuple[str, str]] = []
        self.retries: collections.deque = collections.deque()
        self.stores = {
            "order": open_order_store(),
            "stock": open_stock_store(),
            "payment": open_payment_store(),
        }
        self.network = Network(self.rng, self.locate, self.trace)
        starters: dict[str, Callable[[Incarnation], None]] = {
            "stock": partial(self._start_participant, StockParticipant(), inventory),
            "payment": partial(self._start_participant, PaymentParticipant(), accounts),
        }
        self.services = {
            name: Service(
                name,
                self.stores[name if name in starters else "order"],
                starters.get(name, self._start_coordinator),
            )
            for name in self.plan.services
        }

    # --- the processes --------------------------------------------------------------------

    def trace(self, what: str) -> None:
        if self._tracing:
            now = asyncio.get_running_loop().time() - 1000.0
            self.outcome.trace.append(f"{now:9.4f} {what}")

    def locate(self, service: str) -> Incarnation | None:
        if service == "order":
            live = [s.current for name, s in self.services.items() if name.startswith("order-")]
            live = [inc for inc in live if inc is not None]
            return self.rng.choice(live) if live else None
        return self.services[service].current

    def _store(self, incarnation: Incarnation, service: str) -> ProcessStore:
        store = self.services[service].store
        return ProcessStore(
            store, incarnation, self.rng, plan.STORE_LATENCY_S, self.network.weather
        )

    def _start_participant(self, strategy: Any, rules: Any, incarnation: Incarnation) -> None:
        clock = asyncio.get_running_loop().time
        store = self._store(incarnation, incarnation.service)
        incarnation.handler = ParticipantServicer(
            store, strategy, domain=f"{incarnation.service}.shopmesh", clock=clock
        )
        resolver = self.build.resolver(
            store,
            rules.commit_reservation,
            rules.cancel_reservation,
            "",
            hold_timeout_s=plan.HOLD_TIMEOUT_S,
            rpc_timeout_s=plan.RPC_TIMEOUT_S,
            clock=clock,
            coordinator=OrderStub(self.network),
        )
        incarnation.spawn(resolver.run())

    def _start_coordinator(self, incarnation: Incarnation) -> None:
        clock = asyncio.get_running_loop().time
        store = self._store(incarnation, incarnation.service)
        peers = SimPeers(self.network, plan.RPC_TIMEOUT_S)
        coordinator = self.build.coordinator(
            store,
            peers,
            timeout_s=plan.CHECKOUT_TIMEOUT_S,
            lease_s=plan.LEASE_S,
            poll_s=0.05,
            clock=clock,
        )
        incarnation.handler = OrderApi(store, peers, coordinator)
        incarnation.parts["store"] = store
        worker = self.build.retry_worker(
            coordinator,
            None,  # its Kafka settings: the simulator hands it the events itself
            first_delay_s=0.2,
            max_delay_s=2.0,
            give_up_after_s=10.0,
            clock=clock,
        )
        incarnation.spawn(coordinator.run_recovery(plan.RECOVERY_INTERVAL_S))
        incarnation.spawn(self._consume_retries(worker))

    async def _consume_retries(self, worker: Any) -> None:
        """A consumer of the retry topic: an event is taken off only once it was handled
        (offsets committed after), so a crashed consumer's event goes to another."""
        while True:
            if not self.retries:
                await asyncio.sleep(0.05)
                continue
            event = self.retries.popleft()
            handled = False
            try:
                await worker.handle(event)
                handled = True
            finally:
                if not handled:
                    self.retries.appendleft(event)

    async def _relay(self) -> None:
        """The order store's outbox to the audit stream and the retry topic, in outbox order."""
        while True:
            await asyncio.sleep(0.05)
            self._relay_once()

    def _relay_once(self) -> None:
        outbox_rows = invariants.rows(self.stores["order"], "outbox")
        for row in outbox_rows.values():
            if row.topic == outbox.RETRY:
                self.retries.append(events_pb2.CheckoutRetry.FromString(row.payload))
                continue
            event = events_pb2.AuditEvent.FromString(row.payload)
            change = event.WhichOneof("change") or ""
            if change.startswith("checkout"):
                self.audit.append((change, event.transaction_id))
        # The relay owns the outbox rows it publishes; deleting them is its own commit.
        self.stores["order"]._state = {**self.stores["order"]._state, "outbox": {}}

    # --- faults -----------------------------------------------------------------------------

    async def _fault(self, fault: plan.Fault) -> None:
        await self._until(fault.at)
        service = self.services[fault.target]
        self.outcome.faults[fault.kind] += 1
        self.trace(f"fault {fault.kind} {fault.target} for {fault.duration_s}s")
        if fault.kind == "crash":
            if service.current is None:
                return
            service.crash()
            await asyncio.sleep(fault.duration_s)
            if service.current is None:
                service.boot()
                self.trace(f"fault restart {fault.target}")
        else:
            self.network.weather.partitioned.add(fault.target)
            await asyncio.sleep(fault.duration_s)
            self.network.weather.partitioned.discard(fault.target)
            self.trace(f"fault heal {fault.target}")

    def _heal(self) -> None:
        self.network.weather.drop = self.network.weather.duplicate = 0.0
        self.network.weather.store_failure = 0.0
        # Delays well inside the calls' deadlines: slower than that is a partition by another
        # name, and nothing can finish in one.
        self.network.weather.max_delay_s = min(self.network.weather.max_delay_s, 0.05)
        self.network.weather.partitioned.clear()
        for name, service in self.services.items():
            if service.current is None:
                service.boot()
                self.trace(f"fault restart {name} (healing)")

    # --- the workload -----------------------------------------------------------------------

    async def _until(self, at: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, self._start + at - loop.time()))

    async def _op(self, op: plan.Op) -> None:
        await self._until(op.at)
        if op.kind in ("checkout", "repeat"):
            copies = 2 if op.kind == "repeat" else 1
            await asyncio.gather(*(self._checkout(op.order_id) for _ in range(copies)))
        elif op.kind in ("add_item", "remove_item", "delete"):
            await self._change_order(op)
        else:
            await self._direct_payment(op)

    def _order_process(self) -> Incarnation | None:
        return self.locate("order")

    async def _checkout(self, order_id: str) -> None:
        process = self._order_process()
        self.outcome.checkouts += 1
        if process is None:
            self._answered(order_id, "503 no coordinator")
            return
        self.trace(f"client checkout {order_id} at {process.name}")
        asked_at = asyncio.get_running_loop().time()
        api = process.handler
        task = process.spawn(api.Checkout(order_pb2.CheckoutRequest(order_id=order_id), None))
        done, _ = await asyncio.wait({task}, timeout=CLIENT_TIMEOUT_S)
        if not done:
            self._answered(order_id, "504 client timeout")
        elif task.cancelled():
            self._answered(order_id, "503 coordinator crashed")
        elif isinstance(task.exception(), ShopError):
            error = task.exception()
            assert isinstance(error, ShopError)
            self._refused(order_id, error.reason, asked_at)
        elif isinstance(task.exception(), StoreFailure):
            # A store that failed before this request committed anything: nothing changed.
            self._answered(order_id, "500 store failed")
        elif task.exception() is not None:
            raise Violation(f"checkout of {order_id} answered 500: {task.exception()!r}", order_id)
        else:
            self._paid(order_id, task.result().transaction_id)

    def _answered(self, order_id: str, answer: str) -> None:
        self.outcome.answers[answer.split()[0]] += 1
        self.trace(f"client {order_id} <- {answer}")

    def _paid(self, order_id: str, txn_id: str) -> None:
        self._answered(order_id, f"200 paid by {txn_id[:8]}")
        order = invariants.rows(self.stores["order"], "orders").get(order_id)
        if order is None or not order.paid or order.checkout_txn != txn_id:
            raise Violation(f"200 for {order_id} by {txn_id}, but the order is {order}", order_id)
        self.monitor.paid[order_id] = txn_id
        self._paid_at.setdefault(order_id, asyncio.get_running_loop().time())

    def _refused(self, order_id: str, reason: str, asked_at: float) -> None:
        self._answered(order_id, f"4xx {reason}")
        if reason not in REFUSALS:
            raise Violation(f"checkout of {order_id} refused with {reason}", order_id)
        # A request that overlapped the one that paid may still answer its own attempt's
        # refusal (nothing of it was taken); one asked after a 200 must answer 200 too.
        if asked_at > self._paid_at.get(order_id, float("inf")):
            raise Violation(f"{order_id} was answered 200, now refused {reason}", order_id)

    async def _change_order(self, op: plan.Op) -> None:
        process = self._order_process()
        if process is None:
            return
        store = process.parts["store"]
        price = self.plan.items[op.item_id][1]
        works = {
            "add_item": partial(
                orders.add_item, order_id=op.order_id, line=Line(op.item_id, op.quantity, price)
            ),
            "remove_item": partial(orders.remove_item, order_id=op.order_id, item_id=op.item_id),
            "delete": partial(orders.delete_order, order_id=op.order_id),
        }
        await self._client_call(process, f"{op.kind} {op.order_id}", store.transact(works[op.kind]))

    async def _direct_payment(self, op: plan.Op) -> None:
        process = self.services["payment"].current
        if process is None:
            return
        store = self._store(process, "payment")
        user_id = self.plan.orders[op.order_id][0]
        work = (
            partial(accounts.pay_order, user_id=user_id, order_id=op.order_id, amount=op.quantity)
            if op.kind == "pay"
            else partial(accounts.cancel_payment, user_id=user_id, order_id=op.order_id)
        )
        await self._client_call(process, f"{op.kind} {op.order_id}", store.transact(work))

    async def _client_call(self, process: Incarnation, what: str, call: Any) -> None:
        task = process.spawn(call)
        await asyncio.wait({task})
        if task.cancelled():
            result = "crashed"
        elif isinstance(task.exception(), StoreFailure):
            result = "store failed"
        elif isinstance(task.exception(), ShopError):
            result = task.exception().reason  # type: ignore[union-attr]
        elif task.exception() is not None:
            raise Violation(f"{what} failed: {task.exception()!r}")
        else:
            result = "ok"
        self.trace(f"client {what} <- {result}")

    # --- the run ----------------------------------------------------------------------------

    def _seed_stores(self) -> None:
        stock = self.stores["stock"]
        state = invariants.rows
        for item_id, (units, price) in self.plan.items.items():
            state(stock, "items")[item_id] = Item(item_id, units, price)
        for user_id, credit in self.plan.users.items():
            state(self.stores["payment"], "users")[user_id] = User(user_id, credit)
        for order_id, (user_id, lines) in self.plan.orders.items():
            order_lines = [Line(i, q, self.plan.items[i][1]) for i, q in lines.items()]
            state(self.stores["order"], "orders")[order_id] = Order(
                order_id, user_id, False, order_lines
            )

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(MONITOR_EVERY_S)
            self.monitor.check(self._snapshot())

    async def _quiet(self, longest_s: float) -> None:
        """Wait until every checkout is finished and nothing is held (then nothing can change
        any more: no client is left and every process only looks for work), or `longest_s`."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + longest_s
        while loop.time() < give_up:
            await asyncio.sleep(0.5)
            now = self._snapshot()
            held = any(
                r.state is State.HELD for rs in now.reservations.values() for r in rs.values()
            )
            if not held and all(txn.finished for txn in now.txns.values()):
                return

    def _snapshot(self) -> Snapshot:
        return Snapshot.of(self.stores["order"], self.stores["stock"], self.stores["payment"])

    async def main(self) -> None:
        """The run; the first broken invariant, wherever it is found, ends it."""
        loop = asyncio.get_running_loop()
        self._start = loop.time()
        self._broken: asyncio.Future = loop.create_future()
        for store in self.stores.values():
            await store.open()
        self._seed_stores()
        weather = self.network.weather
        weather.drop, weather.duplicate = self.plan.drop, self.plan.duplicate
        weather.max_delay_s = self.plan.max_delay_s
        weather.store_failure = self.plan.store_failure
        for service in self.services.values():
            service.boot()
        tasks = [
            loop.create_task(self._guard(self._relay())),
            loop.create_task(self._guard(self._watch())),
        ]
        work = [loop.create_task(self._guard(self._op(op))) for op in self.plan.ops]
        work += [loop.create_task(self._fault(fault)) for fault in self.plan.faults]
        phases = loop.create_task(self._guard(self._phases(work)))
        try:
            await asyncio.wait({phases, self._broken}, return_when=asyncio.FIRST_COMPLETED)
            if self._broken.done():
                raise self._broken.exception()  # type: ignore[misc]
            phases.result()
        finally:
            for task in [*tasks, *work, phases]:
                task.cancel()
            for service in self.services.values():
                service.crash()

    async def _guard(self, coro: Any) -> None:
        try:
            await coro
        except Violation as violation:
            if not self._broken.done():
                self._broken.set_exception(violation)

    async def _phases(self, work: list[asyncio.Task]) -> None:
        await self._until(plan.FAULT_PHASE_S)
        # Faults that last past the phase end with it (and every op is answered by then).
        longest = max((fault.duration_s for fault in self.plan.faults), default=0.0)
        await asyncio.wait(work, timeout=longest + CLIENT_TIMEOUT_S)
        for task in work:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        self._heal()
        self.trace("healed: no more faults")
        await self._quiet(plan.SETTLE_PHASE_S)
        self._relay_once()
        self.monitor.check(self._snapshot())
        invariants.check_quiet(
            self._snapshot(),
            dict(invariants.rows(self.stores["stock"], "items")),
            dict(invariants.rows(self.stores["payment"], "users")),
            {item: units for item, (units, _) in self.plan.items.items()},
            dict(self.plan.users),
            self._direct_paid(),
            self.audit,
        )

    def _direct_paid(self) -> dict[str, int]:
        paid: collections.Counter[str] = collections.Counter()
        for payment in invariants.rows(self.stores["payment"], "direct_payments").values():
            if not payment.refunded:
                paid[payment.user_id] += payment.amount
        return dict(paid)


def run(seed: int, build: Build | None = None, trace: bool = True) -> Outcome:
    """Run one seed; a broken invariant is in `outcome.violation`, never raised."""
    world = World(seed, build, trace)
    loop = VirtualTimeLoop()
    rng = random.Random(seed ^ 0x5EED)
    saved = (uuid.uuid4, outbox.now, logging.root.manager.disable)
    uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)  # type: ignore[assignment]
    ids.restart(rng)
    outbox.now = lambda: _timestamp(loop.time())  # type: ignore[assignment]
    logging.disable(logging.CRITICAL)
    try:
        loop.run_until_complete(world.main())
    except Violation as violation:
        # The trace is filtered by these: an order's transactions are about it too.
        txns = invariants.rows(world.stores["order"], "checkouts").values()
        violation.about += [t.txn_id for t in txns if t.order_id in violation.about]
        world.outcome.violation = violation
    finally:
        uuid.uuid4, outbox.now = saved[0], saved[1]  # type: ignore[assignment]
        ids.restart()
        logging.disable(saved[2])
        _close(loop)
    return world.outcome


def _timestamp(seconds: float):
    from google.protobuf.timestamp_pb2 import Timestamp

    stamp = Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def _close(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
