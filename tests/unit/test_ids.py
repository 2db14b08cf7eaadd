"""Hot-path identifiers (shopmesh.ids): valid UUIDs, never repeated, replayable in the
simulator, and a forked child never repeats its parent's."""

import os
import random
import uuid

from shopmesh import ids


def test_an_id_is_a_uuid_of_version_8_and_the_rfc_variant() -> None:
    parsed = uuid.UUID(ids.new_id())
    assert parsed.version == 8
    assert parsed.variant == uuid.RFC_4122


def test_ids_do_not_repeat() -> None:
    made = [ids.new_id() for _ in range(100_000)]
    assert len(set(made)) == len(made)


def test_a_restart_from_the_same_random_state_replays_the_same_ids() -> None:
    try:
        ids.restart(random.Random(7))
        first = [ids.new_id() for _ in range(3)]
        ids.restart(random.Random(7))
        assert [ids.new_id() for _ in range(3)] == first
        ids.restart(random.Random(8))
        assert ids.new_id() not in first
    finally:
        ids.restart()


def test_a_forked_child_makes_other_ids_than_its_parent() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write, ids.new_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    parent = ids.new_id()
    assert uuid.UUID(child).version == 8
    assert child[:18] != parent[:18], "the child kept its parent's random half"
