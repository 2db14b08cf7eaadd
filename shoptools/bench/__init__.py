"""Checkout benchmark: load the shop with data, drive checkouts, check the final state.

    python -m shoptools.bench                        # what `make bench` runs: a local stack
    python -m shoptools.bench --url http://host:8000 --rate 500 --duration 60

Without --url it starts the whole stack (shoptools.devstack) on free ports in a temporary
directory and stops it at the end. It writes <out>/report.json and <out>/report.png and exits
non-zero when the final state is inconsistent or any request got a 5xx (or no answer).
"""
