import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditEvent(_message.Message):
    __slots__ = ("event_id", "occurred_at", "entity_key", "service", "transaction_id", "request_id", "trace_id", "item_created", "stock_added", "stock_subtracted", "stock_reserved", "stock_committed", "stock_cancelled", "user_created", "funds_added", "credit_paid", "credit_refunded", "credit_reserved", "credit_committed", "credit_cancelled", "order_created", "order_item_added", "order_item_removed", "order_deleted", "checkout_started", "checkout_committed", "checkout_aborted")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ENTITY_KEY_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_CREATED_FIELD_NUMBER: _ClassVar[int]
    STOCK_ADDED_FIELD_NUMBER: _ClassVar[int]
    STOCK_SUBTRACTED_FIELD_NUMBER: _ClassVar[int]
    STOCK_RESERVED_FIELD_NUMBER: _ClassVar[int]
    STOCK_COMMITTED_FIELD_NUMBER: _ClassVar[int]
    STOCK_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    USER_CREATED_FIELD_NUMBER: _ClassVar[int]
    FUNDS_ADDED_FIELD_NUMBER: _ClassVar[int]
    CREDIT_PAID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_REFUNDED_FIELD_NUMBER: _ClassVar[int]
    CREDIT_RESERVED_FIELD_NUMBER: _ClassVar[int]
    CREDIT_COMMITTED_FIELD_NUMBER: _ClassVar[int]
    CREDIT_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    ORDER_CREATED_FIELD_NUMBER: _ClassVar[int]
    ORDER_ITEM_ADDED_FIELD_NUMBER: _ClassVar[int]
    ORDER_ITEM_REMOVED_FIELD_NUMBER: _ClassVar[int]
    ORDER_DELETED_FIELD_NUMBER: _ClassVar[int]
    CHECKOUT_STARTED_FIELD_NUMBER: _ClassVar[int]
    CHECKOUT_COMMITTED_FIELD_NUMBER: _ClassVar[int]
    CHECKOUT_ABORTED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    entity_key: str
    service: str
    transaction_id: str
    request_id: str
    trace_id: str
    item_created: ItemCreated
    stock_added: StockAdded
    stock_subtracted: StockSubtracted
    stock_reserved: StockReserved
    stock_committed: StockReservationCommitted
    stock_cancelled: StockReservationCancelled
    user_created: UserCreated
    funds_added: FundsAdded
    credit_paid: CreditPaid
    credit_refunded: CreditRefunded
    credit_reserved: CreditReserved
    credit_committed: CreditReservationCommitted
    credit_cancelled: CreditReservationCancelled
    order_created: OrderCreated
    order_item_added: OrderItemAdded
    order_item_removed: OrderItemRemoved
    order_deleted: OrderDeleted
    checkout_started: CheckoutStarted
    checkout_committed: CheckoutCommitted
    checkout_aborted: CheckoutAborted
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., entity_key: _Optional[str] = ..., service: _Optional[str] = ..., transaction_id: _Optional[str] = ..., request_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., item_created: _Optional[_Union[ItemCreated, _Mapping]] = ..., stock_added: _Optional[_Union[StockAdded, _Mapping]] = ..., stock_subtracted: _Optional[_Union[StockSubtracted, _Mapping]] = ..., stock_reserved: _Optional[_Union[StockReserved, _Mapping]] = ..., stock_committed: _Optional[_Union[StockReservationCommitted, _Mapping]] = ..., stock_cancelled: _Optional[_Union[StockReservationCancelled, _Mapping]] = ..., user_created: _Optional[_Union[UserCreated, _Mapping]] = ..., funds_added: _Optional[_Union[FundsAdded, _Mapping]] = ..., credit_paid: _Optional[_Union[CreditPaid, _Mapping]] = ..., credit_refunded: _Optional[_Union[CreditRefunded, _Mapping]] = ..., credit_reserved: _Optional[_Union[CreditReserved, _Mapping]] = ..., credit_committed: _Optional[_Union[CreditReservationCommitted, _Mapping]] = ..., credit_cancelled: _Optional[_Union[CreditReservationCancelled, _Mapping]] = ..., order_created: _Optional[_Union[OrderCreated, _Mapping]] = ..., order_item_added: _Optional[_Union[OrderItemAdded, _Mapping]] = ..., order_item_removed: _Optional[_Union[OrderItemRemoved, _Mapping]] = ..., order_deleted: _Optional[_Union[OrderDeleted, _Mapping]] = ..., checkout_started: _Optional[_Union[CheckoutStarted, _Mapping]] = ..., checkout_committed: _Optional[_Union[CheckoutCommitted, _Mapping]] = ..., checkout_aborted: _Optional[_Union[CheckoutAborted, _Mapping]] = ...) -> None: ...

class ItemCreated(_message.Message):
    __slots__ = ("price", "stock")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    price: int
    stock: int
    def __init__(self, price: _Optional[int] = ..., stock: _Optional[int] = ...) -> None: ...

class StockAdded(_message.Message):
    __slots__ = ("amount", "stock")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    amount: int
    stock: int
    def __init__(self, amount: _Optional[int] = ..., stock: _Optional[int] = ...) -> None: ...

class StockSubtracted(_message.Message):
    __slots__ = ("amount", "stock")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    amount: int
    stock: int
    def __init__(self, amount: _Optional[int] = ..., stock: _Optional[int] = ...) -> None: ...

class StockReserved(_message.Message):
    __slots__ = ("quantity", "stock")
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    quantity: int
    stock: int
    def __init__(self, quantity: _Optional[int] = ..., stock: _Optional[int] = ...) -> None: ...

class StockReservationCommitted(_message.Message):
    __slots__ = ("quantity",)
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    quantity: int
    def __init__(self, quantity: _Optional[int] = ...) -> None: ...

class StockReservationCancelled(_message.Message):
    __slots__ = ("quantity", "stock")
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    quantity: int
    stock: int
    def __init__(self, quantity: _Optional[int] = ..., stock: _Optional[int] = ...) -> None: ...

class UserCreated(_message.Message):
    __slots__ = ("credit",)
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    credit: int
    def __init__(self, credit: _Optional[int] = ...) -> None: ...

class FundsAdded(_message.Message):
    __slots__ = ("amount", "credit")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    amount: int
    credit: int
    def __init__(self, amount: _Optional[int] = ..., credit: _Optional[int] = ...) -> None: ...

class CreditPaid(_message.Message):
    __slots__ = ("amount", "credit", "order_id")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    amount: int
    credit: int
    order_id: str
    def __init__(self, amount: _Optional[int] = ..., credit: _Optional[int] = ..., order_id: _Optional[str] = ...) -> None: ...

class CreditRefunded(_message.Message):
    __slots__ = ("amount", "credit", "order_id")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    amount: int
    credit: int
    order_id: str
    def __init__(self, amount: _Optional[int] = ..., credit: _Optional[int] = ..., order_id: _Optional[str] = ...) -> None: ...

class CreditReserved(_message.Message):
    __slots__ = ("amount", "credit", "order_id")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    amount: int
    credit: int
    order_id: str
    def __init__(self, amount: _Optional[int] = ..., credit: _Optional[int] = ..., order_id: _Optional[str] = ...) -> None: ...

class CreditReservationCommitted(_message.Message):
    __slots__ = ("amount",)
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    amount: int
    def __init__(self, amount: _Optional[int] = ...) -> None: ...

class CreditReservationCancelled(_message.Message):
    __slots__ = ("amount", "credit")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    amount: int
    credit: int
    def __init__(self, amount: _Optional[int] = ..., credit: _Optional[int] = ...) -> None: ...

class OrderCreated(_message.Message):
    __slots__ = ("user_id", "total_cost")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    total_cost: int
    def __init__(self, user_id: _Optional[str] = ..., total_cost: _Optional[int] = ...) -> None: ...

class OrderItemAdded(_message.Message):
    __slots__ = ("item_id", "quantity", "unit_price", "total_cost")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    quantity: int
    unit_price: int
    total_cost: int
    def __init__(self, item_id: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[int] = ..., total_cost: _Optional[int] = ...) -> None: ...

class OrderItemRemoved(_message.Message):
    __slots__ = ("item_id", "total_cost")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    total_cost: int
    def __init__(self, item_id: _Optional[str] = ..., total_cost: _Optional[int] = ...) -> None: ...

class OrderDeleted(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckoutStarted(_message.Message):
    __slots__ = ("user_id", "total_cost")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    total_cost: int
    def __init__(self, user_id: _Optional[str] = ..., total_cost: _Optional[int] = ...) -> None: ...

class CheckoutCommitted(_message.Message):
    __slots__ = ("user_id", "total_cost", "units")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    total_cost: int
    units: int
    def __init__(self, user_id: _Optional[str] = ..., total_cost: _Optional[int] = ..., units: _Optional[int] = ...) -> None: ...

class CheckoutAborted(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class CheckoutRetry(_message.Message):
    __slots__ = ("event_id", "transaction_id", "requested_at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    transaction_id: str
    requested_at: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., transaction_id: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
