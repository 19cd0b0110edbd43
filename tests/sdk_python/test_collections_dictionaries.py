"""Dictionaries through momento 1.29.1: set, fetch, get, increment and remove fields.

See collections_wire.py for the general notes (what `Wire` sends below the SDK).
"""

from __future__ import annotations

from momento.responses import (
    CacheDictionaryFetch,
    CacheDictionaryGetField,
    CacheDictionaryGetFields,
    CacheDictionaryIncrement,
    CacheDictionaryRemoveField,
    CacheDictionaryRemoveFields,
    CacheDictionarySetField,
    CacheDictionarySetFields,
)

from collections_wire import MISSING, PRECONDITION, Wire
from sg_harness import CACHE, OTHER_CACHE, assert_error, assert_ok, unique


# ============================================================================
# Dictionaries
# ============================================================================


def test_dictionary_set_fetch_and_get_fields_hit_and_a_missing_dictionary_misses(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    d = unique("dict")
    assert_ok(c.dictionary_fetch(CACHE, d), CacheDictionaryFetch.Miss)
    assert_ok(c.dictionary_get_field(CACHE, d, "a"), CacheDictionaryGetField.Miss)
    assert_ok(c.dictionary_get_fields(CACHE, d, ["a", "b"]), CacheDictionaryGetFields.Miss)
    assert w.dictionary_length(d) is MISSING

    assert_ok(c.dictionary_set_fields(CACHE, d, {"a": "1", "b": "2"}), CacheDictionarySetFields.Success)
    assert_ok(c.dictionary_set_field(CACHE, d, b"\x00bin", b"\xff\x00"), CacheDictionarySetField.Success)
    assert_ok(c.dictionary_set_field(CACHE, d, "a", "one"), CacheDictionarySetField.Success)  # overwrites

    got = c.dictionary_fetch(CACHE, d)
    assert_ok(got, CacheDictionaryFetch.Hit)
    assert got.value_dictionary_bytes_bytes == {b"a": b"one", b"b": b"2", b"\x00bin": b"\xff\x00"}

    one = c.dictionary_get_field(CACHE, d, "b")
    assert_ok(one, CacheDictionaryGetField.Hit)
    assert (one.field_string, one.value_string) == ("b", "2")
    assert_ok(c.dictionary_get_field(CACHE, d, "absent"), CacheDictionaryGetField.Miss)

    many = c.dictionary_get_fields(CACHE, d, ["b", "absent", "a", b"\x00bin"])
    assert_ok(many, CacheDictionaryGetFields.Hit)
    assert [type(r) for r in many.responses] == [
        CacheDictionaryGetField.Hit,
        CacheDictionaryGetField.Miss,
        CacheDictionaryGetField.Hit,
        CacheDictionaryGetField.Hit,
    ]
    assert many.value_dictionary_bytes_bytes == {b"b": b"2", b"a": b"one", b"\x00bin": b"\xff\x00"}
    assert w.dictionary_length(d) == 3

    # Caches are separate namespaces for collections too.
    assert_ok(c.dictionary_fetch(OTHER_CACHE, d), CacheDictionaryFetch.Miss)


def test_dictionary_increment_counts_from_zero_and_stores_decimal_text(sg):
    c = sg.cache(sg.superuser)
    d = unique("dict")
    r = c.dictionary_increment(CACHE, d, "n")  # creates the dictionary and the field
    assert_ok(r, CacheDictionaryIncrement.Success)
    assert r.value == 1
    assert c.dictionary_increment(CACHE, d, "n", 41).value == 42
    assert c.dictionary_increment(CACHE, d, "n", -50).value == -8
    assert c.dictionary_increment(CACHE, d, "n", 0).value == -8
    assert c.dictionary_get_field(CACHE, d, "n").value_string == "-8"
    c.dictionary_set_field(CACHE, d, "t", "10")
    assert c.dictionary_increment(CACHE, d, "t", 5).value == 15
    assert c.dictionary_fetch(CACHE, d).value_dictionary_string_string == {"n": "-8", "t": "15"}


def test_dictionary_increment_of_a_non_integer_field_is_failed_precondition(sg):
    c = sg.cache(sg.superuser)
    d = unique("dict")
    c.dictionary_set_fields(CACHE, d, {"s": "not a number", "f": "1.5"})
    assert_error(c.dictionary_increment(CACHE, d, "s", 1), PRECONDITION)
    assert_error(c.dictionary_increment(CACHE, d, "f", 1), PRECONDITION)
    assert c.dictionary_fetch(CACHE, d).value_dictionary_string_string == {"s": "not a number", "f": "1.5"}


def test_dictionary_remove_fields_and_removing_the_last_field_deletes_the_dictionary(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    d = unique("dict")
    c.dictionary_set_fields(CACHE, d, {"a": "1", "b": "2", "c": "3"})
    assert_ok(c.dictionary_remove_field(CACHE, d, "a"), CacheDictionaryRemoveField.Success)
    assert c.dictionary_fetch(CACHE, d).value_dictionary_string_string == {"b": "2", "c": "3"}
    assert_ok(c.dictionary_remove_fields(CACHE, d, ["b", "absent"]), CacheDictionaryRemoveFields.Success)
    assert c.dictionary_fetch(CACHE, d).value_dictionary_string_string == {"c": "3"}
    assert_ok(c.dictionary_remove_field(CACHE, d, "c"), CacheDictionaryRemoveField.Success)
    assert_ok(c.dictionary_fetch(CACHE, d), CacheDictionaryFetch.Miss)
    assert w.dictionary_length(d) is MISSING
    assert w.item_type(d) is MISSING
    # Removing from a missing dictionary succeeds and creates nothing.
    assert_ok(c.dictionary_remove_fields(CACHE, d, ["x"]), CacheDictionaryRemoveFields.Success)
    assert_ok(c.dictionary_remove_field(CACHE, d, "x"), CacheDictionaryRemoveField.Success)
    assert w.item_type(d) is MISSING
