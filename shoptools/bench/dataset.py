"""The benchmark's data, created through the public batch_init endpoints."""

import json
import time
import urllib.error
import urllib.request

INIT_TIMEOUT_S = 600


def post(url: str) -> dict:
    request = urllib.request.Request(url, data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=INIT_TIMEOUT_S) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")[:500]
        raise SystemExit(f"POST {url} -> {error.code} {body}") from None


def initialise(base_url: str, settings) -> dict[str, float]:
    """Users, items and orders "0".."n-1"; returns how long each batch_init took (s)."""
    paths = {
        "users": f"/payment/batch_init/{settings.users}/{settings.credit}",
        "items": f"/stock/batch_init/{settings.items}/{settings.stock}/{settings.price}",
        "orders": (
            f"/orders/batch_init/{settings.orders}/{settings.items}"
            f"/{settings.users}/{settings.price}"
        ),
    }
    seconds = {}
    for what, path in paths.items():
        started = time.monotonic()
        post(base_url + path)
        seconds[what] = round(time.monotonic() - started, 3)
        print(f"init: {getattr(settings, what)} {what} in {seconds[what]:.2f} s", flush=True)
    return seconds
