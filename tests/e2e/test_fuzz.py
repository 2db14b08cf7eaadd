"""Hostile requests through the real gateway, generated: numbers out of range or not numbers at
all, unicode, path-traversal and overlong ids, query parameters and JSON bodies that try to
override the path, wrong methods, oversized bodies and headers. Every answer is a 4xx with a
JSON body, within the client's timeout, and nothing changes anywhere.

The property-based complement of test_bad_input.py, whose fixed cases it reuses as templates.
SQLite only: what is under test is the gateway and the services' input checks, which are the
same code on both stores, and the Spanner emulator would make the suite several times slower
for no more coverage (test_bad_input.py runs on both)."""

import string
from collections.abc import Callable, Iterator
from urllib.parse import quote

import httpx
import pytest
import yaml
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoptools.devstack import ROOT, Stack

from .bad_input import NUMERIC_SEGMENTS, UNKNOWN_IDS, snapshot
from .helpers import Shop, assert_refused, describe, missing_id

# SQLite only (see above): the session's SQLite stack, and the Spanner one is not started.
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack", ["sqlite"], indirect=True)]

FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
CLIENT_TIMEOUT_S = 20  # a hang fails the test instead of blocking it


@pytest.fixture
def fuzz_shop(stack: Stack) -> Iterator[Shop]:
    with httpx.Client(base_url=stack.config.rest_url, timeout=CLIENT_TIMEOUT_S) as client:
        yield Shop(client)


@pytest.fixture
def world(fuzz_shop: Shop) -> dict[str, str]:
    """As in test_bad_input: an item (price 3, stock 10), a user (credit 100), an unpaid order
    of that user with two units of the item, and an order id with no payment."""
    item, user = fuzz_shop.create_item(price=3, stock=10), fuzz_shop.create_user(credit=100)
    order = fuzz_shop.create_order(user)
    fuzz_shop.add_item(order, item, 2)
    return {"item": item, "user": user, "order": order, "unpaid": missing_id()}


@pytest.fixture
def unchanged(fuzz_shop: Shop, world: dict[str, str]) -> Callable[[httpx.Response], None]:
    """`unchanged(response)` fails if anything in the world differs from before the test's
    first example: no example may change anything, so one snapshot serves them all."""
    before = snapshot(fuzz_shop, world)

    def check(response: httpx.Response) -> None:
        assert snapshot(fuzz_shop, world) == before, describe(response)

    return check


def refused_without_effect(shop: Shop, unchanged, method: str, path: str, **request) -> None:
    response = shop.http.request(method, path, **request)
    if method == "HEAD":  # no body to check
        assert 400 <= response.status_code < 500, describe(response)
    else:
        assert_refused(response)
    unchanged(response)


def segment(value: str) -> str:
    """`value` as one path segment, percent-encoded."""
    return quote(value, safe="")


# --- numbers -----------------------------------------------------------------------------------


def might_be_valid(text: str) -> bool:
    """An ASCII integer, which the gateway may accept (and then the call may succeed)."""
    stripped = text.strip().lstrip("+-")
    return stripped.isascii() and stripped.isdigit()


def bad_numbers(zero_ok: bool) -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(max_value=-1 if zero_ok else 0).map(str),
        st.integers(min_value=2**31).map(str),
        st.floats().map(repr),  # 1.0, 1e+300, nan, inf, -0.0
        st.decimals(allow_nan=False, places=2).map(str),
        st.text(min_size=1, max_size=30).filter(lambda text: not might_be_valid(text)),
    )


@FUZZ
@given(template=st.sampled_from(NUMERIC_SEGMENTS), data=st.data())
def test_a_bad_number_anywhere_in_a_path_is_refused(fuzz_shop, world, unchanged, template, data):
    path, zero_ok = template
    value = data.draw(bad_numbers(zero_ok), label="value")
    path = path.replace("{v}", segment(value)).format(**world)
    refused_without_effect(fuzz_shop, unchanged, "POST", path)


# --- ids ---------------------------------------------------------------------------------------

# Already percent-encoded segments: traversal in its usual disguises, bytes that are no UTF-8.
RAW_SEGMENTS = [
    ".",
    "..",
    "...",
    "%2e%2e",
    "..%2F..%2Fetc%2Fpasswd",
    "..%5C..%5Cwindows",
    "%252e%252e%252f",
    "..;",
    "%c0%ae%c0%ae%c0%af",
    "%ff%fe",
    "%C3%28",
    "%ED%A0%80",
    "%F4%90%80%80",
    "%00",
    "%0D%0ASet-Cookie:x",
    "%",
    "%zz",
    "*",
    "~root",
]


def not_a_batch_id(text: str) -> bool:
    """batch_init creates the ids "0", "1", ...: a fuzzed id must not name one of them."""
    return not (text.isascii() and text.isdigit())


HOSTILE_IDS = st.one_of(
    st.sampled_from(RAW_SEGMENTS),
    st.text(max_size=40).filter(not_a_batch_id).map(segment),
    st.text(alphabet=string.printable, min_size=1, max_size=40).filter(not_a_batch_id).map(segment),
    st.text(min_size=129, max_size=3000).map(segment),  # over the id limit, or the header limit
)
ID_CALLS = [call for call, _ in UNKNOWN_IDS]


@FUZZ
@given(call=st.sampled_from(ID_CALLS), hostile=HOSTILE_IDS)
def test_a_hostile_id_is_refused(fuzz_shop, world, unchanged, call, hostile):
    method, template = call.split(" ")
    path = template.format(**world, missing=hostile)
    refused_without_effect(fuzz_shop, unchanged, method, path)


# --- query parameters and JSON bodies ----------------------------------------------------------

# Calls the world refuses; neither query parameters nor a body may turn them into a success.
REFUSED_CALLS = [
    "POST /stock/subtract/{item}/11",
    "POST /payment/pay/{user}/101",
    "POST /payment/pay/{user}/{unpaid}/101",
    "POST /stock/add/{missing}/1",
    "POST /payment/add_funds/{missing}/1",
    "POST /orders/addItem/{order}/{missing}/1",
    "POST /orders/addItem/{order}/{missing}",
    "POST /orders/checkout/{missing}",
    "DELETE /orders/remove/{missing}",
]
FIELDS = ["item_id", "user_id", "order_id", "amount", "quantity", "n", "price", "starting_stock"]
SCALARS = st.one_of(
    st.integers(),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)


@FUZZ
@given(
    call=st.sampled_from(REFUSED_CALLS),
    via=st.sampled_from(["query", "json", "both"]),
    data=st.data(),
)
def test_query_and_body_cannot_override_the_path(fuzz_shop, world, unchanged, call, via, data):
    world_ids = st.sampled_from(["item", "user", "order"]).map(world.__getitem__)
    values = st.one_of(world_ids, st.integers(1, 100), SCALARS, st.lists(SCALARS, max_size=3))
    keys = st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=10))
    fields = data.draw(st.dictionaries(keys, values, max_size=5), label="fields")
    request = {}
    if via in ("query", "both"):
        request["params"] = {
            k: v if isinstance(v, str | int) else str(v) for k, v in fields.items()
        }
    if via in ("json", "both"):
        request["json"] = fields
    method, template = call.split(" ")
    path = template.format(**world, missing=missing_id())
    refused_without_effect(fuzz_shop, unchanged, method, path, **request)


# --- methods -----------------------------------------------------------------------------------


def rest_bindings() -> dict[str, set[str]]:
    """Every REST path template of the API with the methods it answers, from the protos."""
    descriptor = (ROOT / "gen" / "shop" / "shop.protoset").read_bytes()
    bindings: dict[str, set[str]] = {}
    for file in descriptor_pb2.FileDescriptorSet.FromString(descriptor).file:
        for service in file.service:
            for method in service.method:
                if not method.options.HasExtension(annotations_pb2.http):
                    continue
                rule = method.options.Extensions[annotations_pb2.http]
                for binding in [rule, *rule.additional_bindings]:
                    verb = binding.WhichOneof("pattern")
                    bindings.setdefault(getattr(binding, verb), set()).add(verb.upper())
    return bindings


BINDINGS = rest_bindings()
METHODS = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]),
    st.from_regex(r"\A[A-Z]{3,10}\Z"),
)


def concrete(template: str, world: dict[str, str]) -> str:
    """The template with the world's ids, and 1 for every number."""
    ids = {"item_id": world["item"], "user_id": world["user"], "order_id": world["order"]}
    fields = [part.strip("{}") for part in template.split("/") if part.startswith("{")]
    return template.format(**{name: ids.get(name, "1") for name in fields})


@FUZZ
@given(template=st.sampled_from(sorted(BINDINGS)), data=st.data())
def test_a_wrong_method_is_refused(fuzz_shop, world, unchanged, template, data):
    method = data.draw(METHODS.filter(lambda m: m not in BINDINGS[template]), label="method")
    refused_without_effect(fuzz_shop, unchanged, method, concrete(template, world))


# --- sizes -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limits(stack: Stack) -> dict[str, int]:
    """The REST listener's size limits, from the config the stack's Envoy runs."""
    config = yaml.safe_load(stack.envoy_config.read_text())
    [rest] = [x for x in config["static_resources"]["listeners"] if x["name"] == "rest"]
    manager = rest["filter_chains"][0]["filters"][0]["typed_config"]
    [buffer] = [f for f in manager["http_filters"] if f["name"] == "envoy.filters.http.buffer"]
    return {
        "body_bytes": buffer["typed_config"]["max_request_bytes"],
        "header_bytes": manager["max_request_headers_kb"] * 1024,
    }


# Calls that would succeed: only the size of the request may stop them.
VALID_MUTATIONS = [
    "POST /stock/add/{item}/1",
    "POST /payment/add_funds/{user}/1",
    "POST /orders/checkout/{order}",
]
SIZES = settings(FUZZ, max_examples=15)


@SIZES
@given(
    call=st.sampled_from(VALID_MUTATIONS),
    excess=st.integers(1, 3 * 64 * 1024),
    chunked=st.booleans(),
)
def test_an_oversized_body_is_refused(fuzz_shop, world, unchanged, limits, call, excess, chunked):
    method, template = call.split(" ")
    body = b"{" + b" " * (limits["body_bytes"] + excess) + b"}"
    content = iter([body[:1000], body[1000:]]) if chunked else body
    response = fuzz_shop.http.request(method, template.format(**world), content=content)
    assert_refused(response, 413, "REQUEST_TOO_LARGE")
    unchanged(response)


@SIZES
@given(
    call=st.sampled_from(VALID_MUTATIONS),
    excess=st.integers(1, 3 * 16 * 1024),
    many=st.booleans(),
)
def test_oversized_headers_are_refused(fuzz_shop, world, unchanged, limits, call, excess, many):
    method, template = call.split(" ")
    size = limits["header_bytes"] + excess
    if many:  # as many headers of 100 bytes as it takes
        headers = {f"x-fuzz-{i}": "v" * 90 for i in range(size // 100 + 1)}
    else:
        headers = {"x-fuzz": "v" * size}
    response = fuzz_shop.http.request(method, template.format(**world), headers=headers)
    assert_refused(response, 431, "HEADERS_TOO_LARGE")
    unchanged(response)
