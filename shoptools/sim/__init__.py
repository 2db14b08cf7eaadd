"""A deterministic simulator of checkout: the real coordinator, settler, recovery, retry worker
and participant engines in one process, on a virtual clock, over a simulated network that
delays, drops, duplicates and partitions, with processes that crash and restart; one seed
drives every choice, so one seed replays one run exactly (`python -m shoptools.sim`)."""
