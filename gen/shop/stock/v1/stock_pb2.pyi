from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

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
