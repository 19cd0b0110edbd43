"""Lists through momento 1.29.1: push, concatenate, fetch, pop, remove, ranges, retain and truncation.

See collections_wire.py for the general notes (what `Wire` sends below the SDK).
"""

from __future__ import annotations

from momento.responses import (
    CacheListConcatenateBack,
    CacheListConcatenateFront,
    CacheListFetch,
    CacheListLength,
    CacheListPopBack,
    CacheListPopFront,
    CacheListPushBack,
    CacheListPushFront,
    CacheListRemoveValue,
)

from collections_wire import MISSING, Wire
from sg_harness import CACHE, assert_ok, unique


# ============================================================================
# Lists
# ============================================================================


def test_list_push_concatenate_fetch_length_pop_and_remove(sg):
    c = sg.cache(sg.superuser)
    lst = unique("list")
    assert_ok(c.list_fetch(CACHE, lst), CacheListFetch.Miss)
    assert_ok(c.list_length(CACHE, lst), CacheListLength.Miss)
    assert_ok(c.list_pop_back(CACHE, lst), CacheListPopBack.Miss)
    assert_ok(c.list_pop_front(CACHE, lst), CacheListPopFront.Miss)

    r = c.list_concatenate_back(CACHE, lst, ["c", "d"])
    assert_ok(r, CacheListConcatenateBack.Success)
    assert r.list_length == 2
    r = c.list_concatenate_front(CACHE, lst, ["a", "b"])
    assert_ok(r, CacheListConcatenateFront.Success)
    assert r.list_length == 4
    r = c.list_push_back(CACHE, lst, "e")
    assert_ok(r, CacheListPushBack.Success)
    assert r.list_length == 5
    r = c.list_push_front(CACHE, lst, b"\x00_")
    assert_ok(r, CacheListPushFront.Success)
    assert r.list_length == 6

    got = c.list_fetch(CACHE, lst)
    assert_ok(got, CacheListFetch.Hit)
    assert got.value_list_bytes == [b"\x00_", b"a", b"b", b"c", b"d", b"e"]
    length = c.list_length(CACHE, lst)
    assert_ok(length, CacheListLength.Hit)
    assert length.length == 6

    front = c.list_pop_front(CACHE, lst)
    assert_ok(front, CacheListPopFront.Hit)
    assert front.value_bytes == b"\x00_"
    back = c.list_pop_back(CACHE, lst)
    assert_ok(back, CacheListPopBack.Hit)
    assert back.value_string == "e"

    c.list_concatenate_back(CACHE, lst, ["a", "b", "a"])
    assert c.list_fetch(CACHE, lst).value_list_string == ["a", "b", "c", "d", "a", "b", "a"]
    assert_ok(c.list_remove_value(CACHE, lst, "a"), CacheListRemoveValue.Success)  # every occurrence
    assert c.list_fetch(CACHE, lst).value_list_string == ["b", "c", "d", "b"]
    assert_ok(c.list_remove_value(CACHE, lst, "absent"), CacheListRemoveValue.Success)
    assert c.list_length(CACHE, lst).length == 4


def test_removing_or_popping_a_lists_last_values_deletes_the_list(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    popped, removed = unique("list"), unique("list")
    c.list_concatenate_back(CACHE, popped, ["x", "y"])
    assert c.list_pop_back(CACHE, popped).value_string == "y"
    assert c.list_pop_front(CACHE, popped).value_string == "x"
    assert_ok(c.list_pop_front(CACHE, popped), CacheListPopFront.Miss)
    assert_ok(c.list_fetch(CACHE, popped), CacheListFetch.Miss)
    assert_ok(c.list_length(CACHE, popped), CacheListLength.Miss)
    assert w.item_type(popped) is MISSING

    c.list_concatenate_back(CACHE, removed, ["v", "v", "v"])
    assert_ok(c.list_remove_value(CACHE, removed, "v"), CacheListRemoveValue.Success)
    assert_ok(c.list_fetch(CACHE, removed), CacheListFetch.Miss)
    assert w.item_type(removed) is MISSING
    assert_ok(c.list_remove_value(CACHE, removed, "v"), CacheListRemoveValue.Success)  # on a missing list
    assert w.item_type(removed) is MISSING


def test_list_ranges_are_start_inclusive_end_exclusive_and_negative_from_the_end(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    lst = unique("list")
    assert w.list_fetch(lst, 0, 2) is MISSING
    c.list_concatenate_back(CACHE, lst, list("abcdef"))

    def fetch(start, end):
        got = w.list_fetch(lst, start, end)
        assert isinstance(got, list), got
        return b"".join(got).decode()

    assert fetch(None, None) == "abcdef"
    assert fetch(0, 1) == "a"
    assert fetch(1, 4) == "bcd"
    assert fetch(-3, None) == "def"
    assert fetch(None, -2) == "abcd"
    assert fetch(-4, -1) == "cde"
    assert fetch(2, 100) == "cdef"  # clamped to the list
    assert fetch(-100, 2) == "ab"


def test_list_retain_keeps_a_range_and_an_empty_range_deletes_the_list(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    lst = unique("list")
    assert w.list_retain(lst, 0, 1) is MISSING
    assert w.item_type(lst) is MISSING  # retain creates nothing
    c.list_concatenate_back(CACHE, lst, list("abcdef"))
    assert w.list_retain(lst, 1, -1) == 4
    assert c.list_fetch(CACHE, lst).value_list_string == list("bcde")
    assert w.list_retain(lst, -2, None) == 2
    assert c.list_fetch(CACHE, lst).value_list_string == list("de")
    assert w.list_retain(lst, 5, None) == 0
    assert_ok(c.list_fetch(CACHE, lst), CacheListFetch.Miss)
    assert w.item_type(lst) is MISSING


def test_list_truncation_drops_from_the_opposite_end(sg):
    c = sg.cache(sg.superuser)
    lst = unique("list")
    c.list_concatenate_back(CACHE, lst, ["a", "b", "c"])
    r = c.list_push_back(CACHE, lst, "d", truncate_front_to_size=3)
    assert r.list_length == 3
    assert c.list_fetch(CACHE, lst).value_list_string == ["b", "c", "d"]
    r = c.list_push_front(CACHE, lst, "z", truncate_back_to_size=3)
    assert r.list_length == 3
    assert c.list_fetch(CACHE, lst).value_list_string == ["z", "b", "c"]
    r = c.list_concatenate_back(CACHE, lst, ["x", "y"], truncate_front_to_size=4)
    assert r.list_length == 4
    assert c.list_fetch(CACHE, lst).value_list_string == ["b", "c", "x", "y"]
    r = c.list_concatenate_front(CACHE, lst, ["p", "q"], truncate_back_to_size=3)
    assert r.list_length == 3
    assert c.list_fetch(CACHE, lst).value_list_string == ["p", "q", "b"]
    # A size the list is within changes nothing.
    r = c.list_push_back(CACHE, lst, "r", truncate_front_to_size=10)
    assert r.list_length == 4
    assert c.list_fetch(CACHE, lst).value_list_string == ["p", "q", "b", "r"]
    # Truncation on a new list: the pushed values are trimmed too.
    fresh = unique("list")
    r = c.list_concatenate_back(CACHE, fresh, ["1", "2", "3", "4"], truncate_front_to_size=2)
    assert r.list_length == 2
    assert c.list_fetch(CACHE, fresh).value_list_string == ["3", "4"]
