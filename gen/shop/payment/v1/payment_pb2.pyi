from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReservationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESERVATION_STATE_UNSPECIFIED: _ClassVar[ReservationState]
    RESERVATION_STATE_HELD: _ClassVar[ReservationState]
    RESERVATION_STATE_COMMITTED: _ClassVar[ReservationState]
    RESERVATION_STATE_CANCELLED: _ClassVar[ReservationState]
RESERVATION_STATE_UNSPECIFIED: ReservationState
RESERVATION_STATE_HELD: ReservationState
RESERVATION_STATE_COMMITTED: ReservationState
RESERVATION_STATE_CANCELLED: ReservationState

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
