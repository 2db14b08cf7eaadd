"""`make chaos`: the checkout load at a fixed rate on a fresh local stack under its supervisor,
while a nemesis kills (SIGKILL) and pauses (SIGSTOP ... SIGCONT) the stack's processes.

    python -m shoptools.chaos                                # 200/s, 60 s, a kill every 10 s
    python -m shoptools.chaos --replicas 2 --duration 30     # two processes of each service
    python -m shoptools.chaos --pause payment --pause-s 5    # and one 5 s pause of payment
    python -m shoptools.chaos --partition stock              # and one 5 s network partition

Victims are taken in turn: each service (one process of it at a time) and Envoy. At the end it
prints each second's status counts with the faults marked, the availability, how long each
killed process took to serve again, the bench's consistency check (stock, credit and paid
orders agree exactly, nothing held) and the auditor's verdict; build/chaos/report.{json,png}.
Exits non-zero on any violation or any 5xx.

A partition needs Linux and root: the named process (stock, payment, order, stock-2, ...) then
runs in a network namespace the command makes (shoptools/chaos/netns.py), listening on its veth
address, and is cut off by DROP rules inside that namespace for --partition-s seconds, half way
through. The namespace and its veth are removed on every exit. Where namespaces cannot be made,
it says why and pauses the process (SIGSTOP) instead.
"""
