"""The simulated network between the simulated processes: every call and every answer is a
message that may be delayed (and so reordered), dropped or duplicated, and none passes to or
from a partitioned service. Callers use stubs shaped like grpc.aio's, so the real clients
(`order_svc.peers.Peers`, `shopmesh.rpc.clients.call`) run unchanged on top."""

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from order_svc.peers import Peers
from shopmesh.errors import ShopError
from shoptools.sim.vloop import PROCESS


@dataclass
class Weather:
    """How bad the network is now; the world changes it during the run and heals it after."""

    drop: float = 0.0
    duplicate: float = 0.0
    max_delay_s: float = 0.002
    # How often a store transaction fails before it commits (a disk or connection error).
    store_failure: float = 0.0
    partitioned: set[str] = field(default_factory=set)  # service names cut off from all


def _rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


class Network:
    def __init__(
        self,
        rng: random.Random,
        locate: Callable[[str], Any],
        trace: Callable[[str], None],
    ) -> None:
        self._rng = rng
        # Service name -> a live incarnation serving it (one at random among replicas), or None.
        self._locate = locate
        self._trace = trace
        self.weather = Weather()

    def _delay(self) -> float:
        return self._rng.uniform(0.0, self.weather.max_delay_s)

    def _lost(self, *services: str) -> bool:
        cut = any(service in self.weather.partitioned for service in services)
        return cut or self._rng.random() < self.weather.drop

    async def call(self, service: str, method: str, request: Any, deadline_s: float | None) -> Any:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future = loop.create_future()
        caller = PROCESS.get()
        copies = 2 if self._rng.random() < self.weather.duplicate else 1
        for _ in range(copies):
            loop.call_later(self._delay(), self._arrive, caller, service, method, request, answer)
        try:
            return await asyncio.wait_for(answer, deadline_s)
        except TimeoutError:
            raise _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded") from None

    def _arrive(self, caller, service: str, method: str, request: Any, answer) -> None:
        what = f"{method} {caller.name if caller else 'client'}->{service} {summary(request)}"
        server = self._locate(service)
        if server is None or self._lost(server.service, caller.service if caller else ""):
            self._trace(f"lost {what}")
            return
        self._trace(f"deliver {what} to {server.name}")
        server.spawn(self._serve(caller, server, method, request, answer))

    async def _serve(self, caller, server, method: str, request: Any, answer) -> None:
        outcome: tuple[bool, Any]
        try:
            outcome = (True, await getattr(server.handler, method)(request, None))
        except ShopError as refusal:  # what ErrorTranslator and `call` make of it, end to end
            outcome = (False, refusal)
        except Exception as error:  # noqa: BLE001 - the caller sees INTERNAL, as over gRPC
            outcome = (False, _rpc_error(grpc.StatusCode.INTERNAL, repr(error)))
        asyncio.get_running_loop().call_later(
            self._delay(), self._reply, caller, server, method, answer, outcome
        )

    def _reply(self, caller, server, method: str, answer, outcome: tuple[bool, Any]) -> None:
        alive = caller is None or caller.alive
        if not alive or self._lost(server.service, caller.service if caller else ""):
            self._trace(f"lost answer of {method} {server.name}->{caller and caller.name}")
            return
        if answer.done():
            return  # the caller gave up (deadline), or a duplicate answered first
        ok, value = outcome
        answer.set_result(value) if ok else answer.set_exception(value)


def summary(request: Any) -> str:
    """The transactions a protocol message is about, for the trace."""
    if hasattr(request, "reservations"):
        return "reserve " + ",".join(r.transaction_id[:8] for r in request.reservations)
    if hasattr(request, "settlements"):
        marks = {1: "commit", 2: "cancel"}
        return "settle " + ",".join(
            f"{s.transaction_id[:8]}:{marks.get(s.decision, '?')}" for s in request.settlements
        )
    if hasattr(request, "transaction_id"):
        return f"outcome? {request.transaction_id[:8]}"
    return type(request).__name__


class _Method:
    """One RPC of a simulated stub, called as a grpc.aio multicallable is."""

    def __init__(self, network: Network, service: str, name: str) -> None:
        self._network = network
        self._service = service
        self._name = name

    # grpc.aio's signature, which `shopmesh.rpc.clients.call` calls.
    async def __call__(self, request, timeout=None, wait_for_ready=None, metadata=None):  # noqa: ASYNC109
        return await self._network.call(self._service, self._name, request, timeout)


class ParticipantStub:
    def __init__(self, network: Network, service: str) -> None:
        self.Reserve = _Method(network, service, "Reserve")
        self.Settle = _Method(network, service, "Settle")


class OrderStub:
    def __init__(self, network: Network) -> None:
        self.GetCheckoutOutcome = _Method(network, "order", "GetCheckoutOutcome")


class SimPeers(Peers):
    """The real gRPC client of the participants, its stubs on the simulated network."""

    def __init__(self, network: Network, timeout_s: float) -> None:
        self.participants = {
            "stock": ParticipantStub(network, "stock"),
            "payment": ParticipantStub(network, "payment"),
        }
        self.timeout_s = timeout_s

    async def close(self) -> None:
        pass
