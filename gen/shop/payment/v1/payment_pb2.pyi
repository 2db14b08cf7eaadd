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

class ReserveCreditRequest(_message.Message):
    __slots__ = ("transaction_id", "user_id", "order_id", "amount")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    user_id: str
    order_id: str
    amount: int
    def __init__(self, transaction_id: _Optional[str] = ..., user_id: _Optional[str] = ..., order_id: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class ReserveCreditResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: ReservationState
    def __init__(self, state: _Optional[_Union[ReservationState, str]] = ...) -> None: ...

class BatchReserveCreditRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ReserveCreditRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[ReserveCreditRequest, _Mapping]]] = ...) -> None: ...

class ReserveCreditResult(_message.Message):
    __slots__ = ("transaction_id", "state", "error")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    state: ReservationState
    error: _status_pb2.Status
    def __init__(self, transaction_id: _Optional[str] = ..., state: _Optional[_Union[ReservationState, str]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class BatchReserveCreditResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ReserveCreditResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ReserveCreditResult, _Mapping]]] = ...) -> None: ...

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

class CreateUserRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateUserResponse(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class BatchInitUsersRequest(_message.Message):
    __slots__ = ("n", "starting_money")
    N_FIELD_NUMBER: _ClassVar[int]
    STARTING_MONEY_FIELD_NUMBER: _ClassVar[int]
    n: int
    starting_money: int
    def __init__(self, n: _Optional[int] = ..., starting_money: _Optional[int] = ...) -> None: ...

class BatchInitUsersResponse(_message.Message):
    __slots__ = ("msg",)
    MSG_FIELD_NUMBER: _ClassVar[int]
    msg: str
    def __init__(self, msg: _Optional[str] = ...) -> None: ...

class FindUserRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class FindUserResponse(_message.Message):
    __slots__ = ("user_id", "credit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    credit: int
    def __init__(self, user_id: _Optional[str] = ..., credit: _Optional[int] = ...) -> None: ...

class AddFundsRequest(_message.Message):
    __slots__ = ("user_id", "amount")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    amount: int
    def __init__(self, user_id: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class AddFundsResponse(_message.Message):
    __slots__ = ("done",)
    DONE_FIELD_NUMBER: _ClassVar[int]
    done: bool
    def __init__(self, done: _Optional[bool] = ...) -> None: ...

class PayRequest(_message.Message):
    __slots__ = ("user_id", "amount")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    amount: int
    def __init__(self, user_id: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class PayResponse(_message.Message):
    __slots__ = ("user_id", "credit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    credit: int
    def __init__(self, user_id: _Optional[str] = ..., credit: _Optional[int] = ...) -> None: ...

class PayOrderRequest(_message.Message):
    __slots__ = ("user_id", "order_id", "amount")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    order_id: str
    amount: int
    def __init__(self, user_id: _Optional[str] = ..., order_id: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class PayOrderResponse(_message.Message):
    __slots__ = ("user_id", "credit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    credit: int
    def __init__(self, user_id: _Optional[str] = ..., credit: _Optional[int] = ...) -> None: ...

class CancelPaymentRequest(_message.Message):
    __slots__ = ("user_id", "order_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    order_id: str
    def __init__(self, user_id: _Optional[str] = ..., order_id: _Optional[str] = ...) -> None: ...

class CancelPaymentResponse(_message.Message):
    __slots__ = ("user_id", "credit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    credit: int
    def __init__(self, user_id: _Optional[str] = ..., credit: _Optional[int] = ...) -> None: ...

class GetPaymentStatusRequest(_message.Message):
    __slots__ = ("user_id", "order_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    order_id: str
    def __init__(self, user_id: _Optional[str] = ..., order_id: _Optional[str] = ...) -> None: ...

class GetPaymentStatusResponse(_message.Message):
    __slots__ = ("paid",)
    PAID_FIELD_NUMBER: _ClassVar[int]
    paid: bool
    def __init__(self, paid: _Optional[bool] = ...) -> None: ...
