"""Checkout benchmark: load the shop with data, drive checkouts, check the final state.

    python -m shoptools.bench                        # what `make bench` runs: a local stack
    python -m shoptools.bench --url http://host:8000 --rate 500 --duration 60
    ORDER_REPLICAS=2 python -m shoptools.bench       # two order processes, as `make up` runs them

Without --url it starts the whole stack (shoptools.devstack) on free ports in a temporary
directory and stops it at the end. It writes <out>/report.json and <out>/report.png and exits
non-zero when the final state is inconsistent or any request got a 5xx (or no answer).

Beside the checkout load it measures, against the same stack in the same run: GET /stock/find
at the same clients first (--find-duration; the ratio orders paid/s / finds/s), a quarter of
the measured rate of orders paid offered afterwards (--quarter-duration; its p99), each
process's CPU per request of each phase and its RSS at the end, and with --compare URL the same
checkout load on another gateway (the ratio of the two's orders paid/s). Absolute rates depend
on the host; these ratios less. Rates count orders paid, not checkouts of an order the run paid
already: those are answered as cheaply as a read (the summary says when there were any).
"""
