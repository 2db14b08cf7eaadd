from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckoutOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECKOUT_OUTCOME_UNSPECIFIED: _ClassVar[CheckoutOutcome]
    CHECKOUT_OUTCOME_PENDING: _ClassVar[CheckoutOutcome]
    CHECKOUT_OUTCOME_COMMITTED: _ClassVar[CheckoutOutcome]
    CHECKOUT_OUTCOME_ABORTED: _ClassVar[CheckoutOutcome]
CHECKOUT_OUTCOME_UNSPECIFIED: CheckoutOutcome
CHECKOUT_OUTCOME_PENDING: CheckoutOutcome
CHECKOUT_OUTCOME_COMMITTED: CheckoutOutcome
CHECKOUT_OUTCOME_ABORTED: CheckoutOutcome

class CheckoutRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class CheckoutResponse(_message.Message):
    __slots__ = ("order_id", "paid", "total_cost", "transaction_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    paid: bool
    total_cost: int
    transaction_id: str
    def __init__(self, order_id: _Optional[str] = ..., paid: _Optional[bool] = ..., total_cost: _Optional[int] = ..., transaction_id: _Optional[str] = ...) -> None: ...

class GetCheckoutOutcomeRequest(_message.Message):
    __slots__ = ("transaction_id",)
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    def __init__(self, transaction_id: _Optional[str] = ...) -> None: ...

class GetCheckoutOutcomeResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: CheckoutOutcome
    def __init__(self, outcome: _Optional[_Union[CheckoutOutcome, str]] = ...) -> None: ...

class CreateOrderRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class CreateOrderResponse(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class BatchInitOrdersRequest(_message.Message):
    __slots__ = ("n", "n_items", "n_users", "item_price")
    N_FIELD_NUMBER: _ClassVar[int]
    N_ITEMS_FIELD_NUMBER: _ClassVar[int]
    N_USERS_FIELD_NUMBER: _ClassVar[int]
    ITEM_PRICE_FIELD_NUMBER: _ClassVar[int]
    n: int
    n_items: int
    n_users: int
    item_price: int
    def __init__(self, n: _Optional[int] = ..., n_items: _Optional[int] = ..., n_users: _Optional[int] = ..., item_price: _Optional[int] = ...) -> None: ...

class BatchInitOrdersResponse(_message.Message):
    __slots__ = ("msg",)
    MSG_FIELD_NUMBER: _ClassVar[int]
    msg: str
    def __init__(self, msg: _Optional[str] = ...) -> None: ...

class FindOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class FindOrderResponse(_message.Message):
    __slots__ = ("order_id", "paid", "items", "user_id", "total_cost")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    paid: bool
    items: _containers.RepeatedCompositeFieldContainer[_struct_pb2.ListValue]
    user_id: str
    total_cost: int
    def __init__(self, order_id: _Optional[str] = ..., paid: _Optional[bool] = ..., items: _Optional[_Iterable[_Union[_struct_pb2.ListValue, _Mapping]]] = ..., user_id: _Optional[str] = ..., total_cost: _Optional[int] = ...) -> None: ...

class AddItemRequest(_message.Message):
    __slots__ = ("order_id", "item_id", "quantity")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    item_id: str
    quantity: int
    def __init__(self, order_id: _Optional[str] = ..., item_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class AddItemResponse(_message.Message):
    __slots__ = ("order_id", "total_cost")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    total_cost: int
    def __init__(self, order_id: _Optional[str] = ..., total_cost: _Optional[int] = ...) -> None: ...

class RemoveItemRequest(_message.Message):
    __slots__ = ("order_id", "item_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    item_id: str
    def __init__(self, order_id: _Optional[str] = ..., item_id: _Optional[str] = ...) -> None: ...

class RemoveItemResponse(_message.Message):
    __slots__ = ("order_id", "total_cost")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    total_cost: int
    def __init__(self, order_id: _Optional[str] = ..., total_cost: _Optional[int] = ...) -> None: ...

class DeleteOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class DeleteOrderResponse(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...
