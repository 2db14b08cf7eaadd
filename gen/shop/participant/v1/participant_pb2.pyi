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

class StockLine(_message.Message):
    __slots__ = ("item_id", "quantity")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    quantity: int
    def __init__(self, item_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class StockHold(_message.Message):
    __slots__ = ("lines",)
    LINES_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[StockLine]
    def __init__(self, lines: _Optional[_Iterable[_Union[StockLine, _Mapping]]] = ...) -> None: ...

class CreditHold(_message.Message):
    __slots__ = ("user_id", "order_id", "amount")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    order_id: str
    amount: int
    def __init__(self, user_id: _Optional[str] = ..., order_id: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class Reservation(_message.Message):
    __slots__ = ("transaction_id", "stock", "credit")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    stock: StockHold
    credit: CreditHold
    def __init__(self, transaction_id: _Optional[str] = ..., stock: _Optional[_Union[StockHold, _Mapping]] = ..., credit: _Optional[_Union[CreditHold, _Mapping]] = ...) -> None: ...

class ReserveRequest(_message.Message):
    __slots__ = ("reservations",)
    RESERVATIONS_FIELD_NUMBER: _ClassVar[int]
    reservations: _containers.RepeatedCompositeFieldContainer[Reservation]
    def __init__(self, reservations: _Optional[_Iterable[_Union[Reservation, _Mapping]]] = ...) -> None: ...

class ReserveResult(_message.Message):
    __slots__ = ("transaction_id", "state", "error")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    state: ReservationState
    error: _status_pb2.Status
    def __init__(self, transaction_id: _Optional[str] = ..., state: _Optional[_Union[ReservationState, str]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class ReserveResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ReserveResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ReserveResult, _Mapping]]] = ...) -> None: ...

class Settlement(_message.Message):
    __slots__ = ("transaction_id", "decision")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    decision: SettlementDecision
    def __init__(self, transaction_id: _Optional[str] = ..., decision: _Optional[_Union[SettlementDecision, str]] = ...) -> None: ...

class SettleRequest(_message.Message):
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

class SettleResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SettlementResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SettlementResult, _Mapping]]] = ...) -> None: ...
