from google.api import annotations_pb2 as _annotations_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReservationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESERVATION_STATE_UNSPECIFIED: _ClassVar[ReservationState]
    RESERVATION_STATE_HELD: _ClassVar[ReservationState]
    RESERVATION_STATE_COMMITTED: _ClassVar[ReservationState]
    RESERVATION_STATE_CANCELLED: _ClassVar[ReservationState]

class SettlementDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SETTLEMENT_DECISION_UNSPECIFIED: _ClassVar[SettlementDecision]
    SETTLEMENT_DECISION_COMMIT: _ClassVar[SettlementDecision]
    SETTLEMENT_DECISION_CANCEL: _ClassVar[SettlementDecision]
RESERVATION_STATE_UNSPECIFIED: ReservationState
RESERVATION_STATE_HELD: ReservationState
RESERVATION_STATE_COMMITTED: ReservationState
RESERVATION_STATE_CANCELLED: ReservationState
SETTLEMENT_DECISION_UNSPECIFIED: SettlementDecision
SETTLEMENT_DECISION_COMMIT: SettlementDecision
SETTLEMENT_DECISION_CANCEL: SettlementDecision

class ReservationLine(_message.Message):
    __slots__ = ("item_id", "quantity")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    quantity: int
    def __init__(self, item_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class ReserveStockRequest(_message.Message):
    __slots__ = ("transaction_id", "lines")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    lines: _containers.RepeatedCompositeFieldContainer[ReservationLine]
    def __init__(self, transaction_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReservationLine, _Mapping]]] = ...) -> None: ...

class ReserveStockResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: ReservationState
    def __init__(self, state: _Optional[_Union[ReservationState, str]] = ...) -> None: ...

class BatchReserveStockRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ReserveStockRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[ReserveStockRequest, _Mapping]]] = ...) -> None: ...

class ReserveStockResult(_message.Message):
    __slots__ = ("transaction_id", "state", "error")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    state: ReservationState
    error: _status_pb2.Status
    def __init__(self, transaction_id: _Optional[str] = ..., state: _Optional[_Union[ReservationState, str]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class BatchReserveStockResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ReserveStockResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ReserveStockResult, _Mapping]]] = ...) -> None: ...

class CommitReservationRequest(_message.Message):
    __slots__ = ("transaction_id",)
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    def __init__(self, transaction_id: _Optional[str] = ...) -> None: ...

class CommitReservationResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: ReservationState
    def __init__(self, state: _Optional[_Union[ReservationState, str]] = ...) -> None: ...

class CancelReservationRequest(_message.Message):
    __slots__ = ("transaction_id",)
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    def __init__(self, transaction_id: _Optional[str] = ...) -> None: ...

class CancelReservationResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: ReservationState
    def __init__(self, state: _Optional[_Union[ReservationState, str]] = ...) -> None: ...

class Settlement(_message.Message):
    __slots__ = ("transaction_id", "decision")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    decision: SettlementDecision
    def __init__(self, transaction_id: _Optional[str] = ..., decision: _Optional[_Union[SettlementDecision, str]] = ...) -> None: ...

class SettleReservationsRequest(_message.Message):
    __slots__ = ("settlements",)
    SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    settlements: _containers.RepeatedCompositeFieldContainer[Settlement]
    def __init__(self, settlements: _Optional[_Iterable[_Union[Settlement, _Mapping]]] = ...) -> None: ...

class SettlementResult(_message.Message):
    __slots__ = ("transaction_id", "state", "refusal_reason")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_REASON_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    state: ReservationState
    refusal_reason: str
    def __init__(self, transaction_id: _Optional[str] = ..., state: _Optional[_Union[ReservationState, str]] = ..., refusal_reason: _Optional[str] = ...) -> None: ...

class SettleReservationsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SettlementResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SettlementResult, _Mapping]]] = ...) -> None: ...

class CreateItemRequest(_message.Message):
    __slots__ = ("price",)
    PRICE_FIELD_NUMBER: _ClassVar[int]
    price: int
    def __init__(self, price: _Optional[int] = ...) -> None: ...

class CreateItemResponse(_message.Message):
    __slots__ = ("item_id",)
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    def __init__(self, item_id: _Optional[str] = ...) -> None: ...

class BatchInitItemsRequest(_message.Message):
    __slots__ = ("n", "starting_stock", "item_price")
    N_FIELD_NUMBER: _ClassVar[int]
    STARTING_STOCK_FIELD_NUMBER: _ClassVar[int]
    ITEM_PRICE_FIELD_NUMBER: _ClassVar[int]
    n: int
    starting_stock: int
    item_price: int
    def __init__(self, n: _Optional[int] = ..., starting_stock: _Optional[int] = ..., item_price: _Optional[int] = ...) -> None: ...

class BatchInitItemsResponse(_message.Message):
    __slots__ = ("msg",)
    MSG_FIELD_NUMBER: _ClassVar[int]
    msg: str
    def __init__(self, msg: _Optional[str] = ...) -> None: ...

class FindItemRequest(_message.Message):
    __slots__ = ("item_id",)
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    def __init__(self, item_id: _Optional[str] = ...) -> None: ...

class FindItemResponse(_message.Message):
    __slots__ = ("stock", "price")
    STOCK_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    stock: int
    price: int
    def __init__(self, stock: _Optional[int] = ..., price: _Optional[int] = ...) -> None: ...

class AddStockRequest(_message.Message):
    __slots__ = ("item_id", "amount")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    amount: int
    def __init__(self, item_id: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class AddStockResponse(_message.Message):
    __slots__ = ("item_id", "stock")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    stock: int
    def __init__(self, item_id: _Optional[str] = ..., stock: _Optional[int] = ...) -> None: ...

class SubtractStockRequest(_message.Message):
    __slots__ = ("item_id", "amount")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    amount: int
    def __init__(self, item_id: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class SubtractStockResponse(_message.Message):
    __slots__ = ("item_id", "stock")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    stock: int
    def __init__(self, item_id: _Optional[str] = ..., stock: _Optional[int] = ...) -> None: ...
