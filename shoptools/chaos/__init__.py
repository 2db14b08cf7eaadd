"""`make chaos`: the checkout load at a fixed rate on a fresh local stack under its supervisor,
while a nemesis kills (SIGKILL) and pauses (SIGSTOP ... SIGCONT) the stack's processes.

    python -m shoptools.chaos                                # 200/s, 60 s, a kill every 10 s
    python -m shoptools.chaos --replicas 2 --duration 30     # two processes of each service
    python -m shoptools.chaos --pause payment --pause-s 5    # and one 5 s pause of payment

Victims are taken in turn: each service (one process of it at a time) and Envoy. At the end it
prints each second's status counts with the faults marked, the availability, how long each
killed process took to serve again, the bench's consistency check (stock, credit and paid
orders agree exactly, nothing held) and the auditor's verdict; build/chaos/report.{json,png}.
Exits non-zero on any violation or any 5xx.

Network partitions (namespaces + veth) are not made by this version: the services listen on
the host's loopback, so cutting one off needs it started inside a namespace of its own, which
the local stack does not do yet. `--partition` says so and uses a pause (SIGSTOP) instead.
"""
