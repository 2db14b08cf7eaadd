"""What one client may do to the gateway, and how Envoy says no: the limits' settings, the
filters and connection-manager options that enforce them, and the JSON local replies of the
REST listener. docs/security.md lists them with their statuses; envoy/generate.py puts them
into the config.
"""

import dataclasses


def _limit(default: float, help_text: str) -> dataclasses.Field:
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one client may do to the gateway; each is a flag (`--max-in-flight`) and, for a
    local run, a GATEWAY_* variable (GATEWAY_MAX_IN_FLIGHT)."""

    max_request_bytes: int = _limit(64 * 1024, "largest request body (beyond: 413)")
    max_request_headers_kb: int = _limit(16, "largest request line + headers, KiB (beyond: 431)")
    request_headers_timeout_s: float = _limit(10.0, "time to send the headers (beyond: 408)")
    request_timeout_s: float = _limit(30.0, "time to send the whole request (beyond: 408)")
    stream_idle_timeout_s: float = _limit(60.0, "a request with no traffic either way ends")
    idle_timeout_s: float = _limit(60.0, "a connection with no request is closed")
    max_connections: int = _limit(4096, "open client connections; more are closed at once")
    max_in_flight: int = _limit(1024, "requests in flight to each service (beyond: 429)")
    rate_limit_rps: int = _limit(0, "requests per second per listener (beyond: 429); 0: off")
    rate_limit_burst: int = _limit(0, "requests at once within the rate limit; 0: the rps")


def seconds(value: float) -> str:
    return f"{value}s"


GATEWAY_DOMAIN = "gateway.shopmesh"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def refusal(reason: str, message: str) -> dict:
    """A local reply body like the services' errors (an ErrorInfo `reason` to switch on), with
    the HTTP status as `code`, as in all of Envoy's own replies."""
    return {
        "json_format": {
            "code": "%RESPONSE_CODE%",
            "message": message,
            "details": [{"@type": ERROR_INFO, "reason": reason, "domain": GATEWAY_DOMAIN}],
        }
    }


def by_flag(flag: str) -> dict:
    return {"response_flag_filter": {"flags": [flag]}}


def by_status(status: int) -> dict:
    return {
        "status_code_filter": {
            "comparison": {"op": "EQ", "value": {"default_value": status, "runtime_key": "_"}}
        }
    }


# A request whose target carries a query string (":path" is the whole target; RBAC's url_path
# is the path without it).
HAS_QUERY = {"name": ":path", "string_match": {"contains": "?"}}
# A request with a body, once the buffer filter has read it all: it sets the length of a
# chunked one (HTTP/1.1 chunks, or HTTP/2 frames without a content-length).
HAS_BODY = {"name": "content-length", "range_match": {"start": 1, "end": 2**63 - 1}}
# gRPC on the REST listener (docs/security.md) carries its messages as the body. Exactly the
# content types the transcoder passes through untranscoded (Envoy's hasGrpcContentType):
# anything else with a body, grpc-web or `application/grpc;x=1` included, is transcoded.
IS_GRPC = {
    "name": "content-type",
    "string_match": {"safe_regex": {"regex": r"application/grpc(\+.*)?"}},
}


def by_header(header: dict, *, invert: bool = False) -> dict:
    return {"header_filter": {"header": {**header, "invert_match": invert}}}


def refused_with(status: int, *filters: dict) -> dict:
    return {"and_filter": {"filters": [by_status(status), *filters]}}


_HEX = "[0-9A-F]"
_CONT = f"%[89AB]{_HEX}"  # a UTF-8 continuation byte, 80..BF
# A path whose percent-escapes decode to UTF-8 (RFC 3629: no overlong forms, no surrogates,
# nothing above U+10FFFF) and hold no escaped slash (%2F, %5C). Raw bytes above 7F never get
# here: Envoy's codec refuses them. Factored to stay under RE2's program size limit of 100.
VALID_PATH = (
    "(?i)(?:[!-$&-~]"
    f"|%(?:[013467]{_HEX}|2[0-9A-E]|5[0-9ABD-F])"
    f"|%(?:C[2-9A-F]|D{_HEX}|E0%[AB]{_HEX}|E[1-9A-CEF]{_CONT}|ED%[89]{_HEX}"
    f"|(?:F0%[9AB]{_HEX}|F[1-3]{_CONT}|F4%8{_HEX}){_CONT}){_CONT})*"
)
VALID_PATH_HEADER = {"name": ":path", "string_match": {"safe_regex": {"regex": VALID_PATH}}}


# Envoy's own replies on the REST listener are JSON like the services'. A request that never
# reached a service (shed for overload, or its service unreachable) changed nothing: a 4xx,
# never Envoy's 503, which the API keeps for "outcome unknown" (e.g. a reset mid-request).
SHED = "nothing was changed; retry later"
JSON_LOCAL_REPLIES = {
    "mappers": [
        {
            "filter": by_flag("UO"),  # circuit breaker: max_in_flight reached
            "status_code": 429,
            "body_format_override": refusal(
                "GATEWAY_OVERLOADED", f"too many requests in flight to %UPSTREAM_CLUSTER%; {SHED}"
            ),
        },
        {
            # No connection to the service (it is down or restarting), or no healthy host:
            # the request was never sent. Like the services' own answer when a peer is down.
            "filter": {"or_filter": {"filters": [by_flag("UF"), by_flag("UH")]}},
            "status_code": 409,
            "body_format_override": refusal(
                "DEPENDENCY_UNAVAILABLE", f"%UPSTREAM_CLUSTER% is unreachable; {SHED}"
            ),
        },
        {
            "filter": by_status(429),  # local rate limit, the only 429 Envoy makes itself
            "body_format_override": refusal("RATE_LIMITED", f"rate limit exceeded; {SHED}"),
        },
        # The REST listener's only 403s: path_check and body_check.
        {
            "filter": refused_with(403, by_header(HAS_QUERY)),
            "status_code": 400,
            "body_format_override": refusal(
                "QUERY_NOT_ACCEPTED",
                "the API takes its inputs from the path alone: a query string is refused",
            ),
        },
        {
            "filter": refused_with(403, by_header(VALID_PATH_HEADER, invert=True)),
            "status_code": 400,
            "body_format_override": refusal(
                "INVALID_PATH", "the path has an escaped slash or is not UTF-8 once decoded"
            ),
        },
        {
            "filter": by_status(403),
            "status_code": 400,
            "body_format_override": refusal(
                "BODY_NOT_ACCEPTED",
                "the API takes its inputs from the path alone: a request body is refused",
            ),
        },
        {
            "filter": by_status(413),
            "body_format_override": refusal("REQUEST_TOO_LARGE", "%LOCAL_REPLY_BODY%"),
        },
        {
            "filter": by_status(431),
            "body_format_override": refusal("HEADERS_TOO_LARGE", "%LOCAL_REPLY_BODY%"),
        },
        {
            "filter": by_status(408),
            "body_format_override": refusal("REQUEST_TIMEOUT", "%LOCAL_REPLY_BODY%"),
        },
    ],
    "body_format": {
        "json_format": {"code": "%RESPONSE_CODE%", "message": "%LOCAL_REPLY_BODY%"},
    },
}


def connection_limits(limits: Limits) -> dict:
    """Connection manager settings for both listeners: sizes and slow clients."""
    return {
        "max_request_headers_kb": limits.max_request_headers_kb,
        "request_headers_timeout": seconds(limits.request_headers_timeout_s),
        "request_timeout": seconds(limits.request_timeout_s),
        "stream_idle_timeout": seconds(limits.stream_idle_timeout_s),
        "common_http_protocol_options": {"idle_timeout": seconds(limits.idle_timeout_s)},
        # No path normalization: a path segment is a field's value, taken literally; `.` and
        # `..` are (unknown) ids, and never shift the segments after them into other fields.
    }


def path_check() -> dict:
    """Refuses (403, answered 400 INVALID_PATH) a REST path that is not UTF-8 once decoded:
    the transcoder would put its bytes into a protobuf string, which the service cannot
    parse (500). An id never holds a slash, so an escaped one is refused too. And refuses
    (403, answered 400 QUERY_NOT_ACCEPTED) any query string: the transcoder binds a query
    parameter to a request field by its proto name, its JSON name or either percent-encoded,
    after the path, so `?userId=` paid from another user's credit; no list of names to
    ignore covers every spelling, and the API takes nothing from the query."""
    invalid_path = {"not_rule": {"url_path": {"path": {"safe_regex": {"regex": VALID_PATH}}}}}
    return deny("path_check", [invalid_path, {"header": HAS_QUERY}])


def body_check() -> dict:
    """Refuses (403, answered 400 BODY_NOT_ACCEPTED) a REST request with a body, for the same
    reason as a query: the transcoder merges a JSON body into the request, and its collision
    check covers only the fields in the path, so `{"quantity": 7}` made the 2023
    `addItem/{order}/{item}` (one unit) add seven. After the buffer filter, which sets the
    length of a chunked body. gRPC, which the REST listener also takes, is let through."""
    with_body = {"and_rules": {"rules": [{"header": HAS_BODY}, {"not_rule": {"header": IS_GRPC}}]}}
    return deny("body_check", [with_body])


def deny(name: str, permissions: list[dict]) -> dict:
    """An RBAC filter refusing (403) every request that matches one of `permissions`."""
    return {
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "rules_stat_prefix": f"{name}.",
            "rules": {
                "action": "DENY",
                "policies": {name: {"permissions": permissions, "principals": [{"any": True}]}},
            },
        },
    }


def body_limit(limits: Limits) -> dict:
    return {
        "name": "envoy.filters.http.buffer",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer",
            "max_request_bytes": limits.max_request_bytes,
        },
    }


def rate_limit(limits: Limits) -> list[dict]:
    """A token bucket per listener, shared by Envoy's worker threads; none if rps is 0."""
    if limits.rate_limit_rps <= 0:
        return []
    everyone = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}, "runtime_key": "_"}
    return [
        {
            "name": "envoy.filters.http.local_ratelimit",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3."
                "LocalRateLimit",
                "stat_prefix": "rate_limit",
                "token_bucket": {
                    "max_tokens": limits.rate_limit_burst or limits.rate_limit_rps,
                    "tokens_per_fill": limits.rate_limit_rps,
                    "fill_interval": "1s",
                },
                "filter_enabled": everyone,
                "filter_enforced": everyone,
                # Native gRPC clients: RESOURCE_EXHAUSTED rather than UNAVAILABLE.
                "rate_limited_as_resource_exhausted": True,
            },
        }
    ]


def circuit_breakers(limits: Limits) -> dict:
    """Beyond max_in_flight requests to one service, more are refused at once (flag UO,
    answered 429 on the REST listener) instead of queueing in front of a saturated service."""
    return {
        "thresholds": [
            {
                "priority": "DEFAULT",
                "max_requests": limits.max_in_flight,
                "max_pending_requests": limits.max_in_flight,
                # Retries in flight: Envoy's default of 3 would refuse the retries of a
                # restarting service's requests (issue 16; envoy/resilience.py).
                "max_retries": limits.max_in_flight,
            }
        ]
    }


def overload_manager(limits: Limits) -> dict:
    return {
        "resource_monitors": [
            {
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.resource_monitors."
                    "downstream_connections.v3.DownstreamConnectionsConfig",
                    "max_active_downstream_connections": limits.max_connections,
                },
            }
        ]
    }
