"""Sets through momento 1.29.1: add, fetch and remove elements; contains, length, sample and pop on the wire.

See collections_wire.py for the general notes (what `Wire` sends below the SDK).
"""

from __future__ import annotations

from momento.responses import (
    CacheSetAddElement,
    CacheSetAddElements,
    CacheSetFetch,
    CacheSetRemoveElement,
    CacheSetRemoveElements,
)

from collections_wire import MISSING, Wire
from sg_harness import CACHE, assert_ok, unique


# ============================================================================
# Sets
# ============================================================================


def test_set_add_fetch_remove_and_removing_the_last_element_deletes_the_set(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    s = unique("set")
    assert_ok(c.set_fetch(CACHE, s), CacheSetFetch.Miss)
    assert_ok(c.set_add_element(CACHE, s, "a"), CacheSetAddElement.Success)
    assert_ok(c.set_add_elements(CACHE, s, ["b", "c", "a", b"\xff\x00"]), CacheSetAddElements.Success)
    got = c.set_fetch(CACHE, s)
    assert_ok(got, CacheSetFetch.Hit)
    assert got.value_set_bytes == {b"a", b"b", b"c", b"\xff\x00"}  # "a" once
    assert_ok(c.set_remove_element(CACHE, s, "a"), CacheSetRemoveElement.Success)
    assert_ok(c.set_remove_elements(CACHE, s, ["b", "absent"]), CacheSetRemoveElements.Success)
    assert c.set_fetch(CACHE, s).value_set_bytes == {b"c", b"\xff\x00"}
    assert_ok(c.set_remove_elements(CACHE, s, ["c", b"\xff\x00"]), CacheSetRemoveElements.Success)
    assert_ok(c.set_fetch(CACHE, s), CacheSetFetch.Miss)
    assert w.item_type(s) is MISSING
    assert_ok(c.set_remove_element(CACHE, s, "c"), CacheSetRemoveElement.Success)
    assert_ok(c.set_remove_elements(CACHE, s, ["c"]), CacheSetRemoveElements.Success)
    assert_ok(c.set_fetch(CACHE, s), CacheSetFetch.Miss)


def test_set_contains_length_sample_and_pop_on_the_wire(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    s = unique("set")
    for probe in (w.set_contains(s, ["a"]), w.set_length(s), w.set_sample(s, 3), w.set_pop(s, 1)):
        assert probe is MISSING
    everything = {b"a", b"b", b"c", b"d", b"e"}
    c.set_add_elements(CACHE, s, sorted(everything))
    assert w.set_contains(s, ["a", "absent", "e"]) == [True, False, True]
    assert w.set_length(s) == 5

    sample = w.set_sample(s, 2)
    assert len(sample) == 2 and len(set(sample)) == 2 and set(sample) <= everything
    assert set(w.set_sample(s, 10)) == everything and len(w.set_sample(s, 10)) == 5
    assert w.set_length(s) == 5  # sampling removes nothing

    popped = w.set_pop(s, 2)
    assert len(popped) == 2 and len(set(popped)) == 2 and set(popped) <= everything
    rest = everything - set(popped)
    assert c.set_fetch(CACHE, s).value_set_bytes == rest
    assert w.set_length(s) == 3
    assert set(w.set_pop(s, 10)) == rest
    assert_ok(c.set_fetch(CACHE, s), CacheSetFetch.Miss)  # popping the last deletes the set
    assert w.set_pop(s, 1) is MISSING
