"""TopicClient / TopicClientAsync: subscribe, publish, publisher id, resume, heartbeats.

The SDK's subscribe() reads the first stream message (it must be a heartbeat)
before it returns the subscription, so "subscribe returned" means "the gateway
sent its first heartbeat".
"""

from __future__ import annotations

import asyncio
import time

import pytest
from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes
from momento.errors import MomentoErrorCode
from momento.responses import TopicPublish, TopicSubscribe, TopicSubscriptionItem

from sg_harness import (
    CACHE,
    HEARTBEAT_SECONDS,
    assert_error,
    assert_ok,
    next_item,
    raw_next,
    unique,
)


def subscribe(topics, topic, **resume):
    sub = topics.subscribe(CACHE, topic, **resume)
    assert_ok(sub, TopicSubscribe.Subscription)
    return sub


def test_subscribe_opens_promptly_with_the_first_heartbeat(sg):
    t = sg.topics(sg.superuser)
    t0 = time.monotonic()
    sub = t.subscribe(CACHE, unique("topic"))
    elapsed = time.monotonic() - t0
    assert_ok(sub, TopicSubscribe.Subscription)
    assert elapsed < 1.0, f"subscribe took {elapsed:.2f}s (the first heartbeat must be sent at once)"
    sub.unsubscribe()


def test_text_and_binary_messages_arrive_in_order_with_sequence_numbers(sg):
    t = sg.topics(sg.superuser)
    topic = unique("topic")
    sub = subscribe(t, topic)
    assert_ok(t.publish(CACHE, topic, "hello"), TopicPublish.Success)
    assert_ok(t.publish(CACHE, topic, b"\x00\x01\xff"), TopicPublish.Success)
    first = next_item(sub)
    second = next_item(sub)
    assert isinstance(first, TopicSubscriptionItem.Text), first
    assert first.value == "hello"
    assert isinstance(second, TopicSubscriptionItem.Binary), second
    assert second.value == b"\x00\x01\xff"
    assert first.sequence_number >= 1
    assert second.sequence_number == first.sequence_number + 1
    assert second.sequence_page == first.sequence_page
    sub.unsubscribe()


def test_a_message_reaches_every_subscriber_and_only_its_topic(sg):
    t = sg.topics(sg.superuser)
    topic, other = unique("topic"), unique("topic")
    a, b, c = subscribe(t, topic), subscribe(t, topic), subscribe(t, other)
    t.publish(CACHE, topic, "fan-out")
    t.publish(CACHE, other, "for-c")
    assert next_item(a).value == "fan-out"
    assert next_item(b).value == "fan-out"
    assert next_item(c).value == "for-c"
    for s in (a, b, c):
        s.unsubscribe()


def test_the_publishers_token_id_is_the_publisher_id(sg):
    """The SDK's items do not expose publisher_id, so this reads the raw stream."""
    topic = unique("topic")
    publisher = sg.mint(DisposableTokenScopes.topic_publish_subscribe(CACHE, topic), token_id="alice-42")
    sub = subscribe(sg.topics(sg.superuser), topic)
    assert_ok(sg.topics(publisher).publish(CACHE, topic, "from alice"), TopicPublish.Success)
    raw = raw_next(sub)
    while raw.WhichOneof("kind") == "heartbeat":
        raw = raw_next(sub)
    assert raw.WhichOneof("kind") == "item"
    assert raw.item.value.text == "from alice"
    assert raw.item.publisher_id == "alice-42"
    # An API key has no token id: the publisher id is empty.
    sg.topics(sg.superuser).publish(CACHE, topic, "from the superuser")
    raw = raw_next(sub)
    while raw.WhichOneof("kind") == "heartbeat":
        raw = raw_next(sub)
    assert raw.item.value.text == "from the superuser"
    assert raw.item.publisher_id == ""
    sub.unsubscribe()


def test_resume_from_a_sequence_number_replays_from_there(sg):
    t = sg.topics(sg.superuser)
    topic = unique("topic")
    live = subscribe(t, topic)
    for i in range(3):
        t.publish(CACHE, topic, f"m{i}")
    got = [next_item(live) for _ in range(3)]
    assert [g.value for g in got] == ["m0", "m1", "m2"]
    live.unsubscribe()
    second = got[1]
    resumed = subscribe(
        t,
        topic,
        resume_at_topic_sequence_number=second.sequence_number,
        resume_at_topic_sequence_page=second.sequence_page,
    )
    a, b = next_item(resumed), next_item(resumed)
    assert (a.value, a.sequence_number) == ("m1", second.sequence_number)
    assert (b.value, b.sequence_number) == ("m2", second.sequence_number + 1)
    t.publish(CACHE, topic, "m3")
    c = next_item(resumed)
    assert (c.value, c.sequence_number) == ("m3", second.sequence_number + 2)
    resumed.unsubscribe()


def test_a_resume_point_from_another_sequence_page_yields_a_discontinuity_first(sg):
    """The SDK hides discontinuities (its iterator skips them): read the raw stream."""
    t = sg.topics(sg.superuser)
    topic = unique("topic")
    live = subscribe(t, topic)
    t.publish(CACHE, topic, "m0")
    m0 = next_item(live)
    live.unsubscribe()
    resumed = subscribe(
        t, topic, resume_at_topic_sequence_number=m0.sequence_number, resume_at_topic_sequence_page=m0.sequence_page + 1
    )
    raw = raw_next(resumed)
    while raw.WhichOneof("kind") == "heartbeat":
        raw = raw_next(resumed)
    assert raw.WhichOneof("kind") == "discontinuity", raw
    t.publish(CACHE, topic, "m1")
    got = next_item(resumed)
    assert got.value in ("m0", "m1")  # replayed from the current page, or the next new one
    resumed.unsubscribe()


def test_a_large_binary_message_arrives_intact(sg):
    t = sg.topics(sg.superuser)
    topic = unique("topic")
    sub = subscribe(t, topic)
    payload = bytes(range(256)) * 400  # 100 KiB
    assert_ok(t.publish(CACHE, topic, payload), TopicPublish.Success)
    got = next_item(sub)
    assert isinstance(got, TopicSubscriptionItem.Binary) and got.value == payload
    sub.unsubscribe()


def test_without_a_resume_point_a_subscription_starts_at_new_messages(sg):
    t = sg.topics(sg.superuser)
    topic = unique("topic")
    t.publish(CACHE, topic, "old")
    sub = subscribe(t, topic)
    t.publish(CACHE, topic, "new")
    assert next_item(sub).value == "new"
    sub.unsubscribe()


def test_an_idle_subscription_outlives_several_heartbeats_then_receives(sg):
    t = sg.topics(sg.superuser)
    topic = unique("topic")
    sub = subscribe(t, topic)
    time.sleep(3.5 * HEARTBEAT_SECONDS)  # idle: only heartbeats flow
    assert not sub._client_stream.done(), "the stream ended while idle"
    assert_ok(t.publish(CACHE, topic, "after the wait"), TopicPublish.Success)
    got = next_item(sub, timeout=5)
    assert isinstance(got, TopicSubscriptionItem.Text), got
    assert got.value == "after the wait"
    sub.unsubscribe()


def test_an_idle_stream_carries_a_heartbeat_every_interval(sg):
    t = sg.topics(sg.superuser)
    topic = unique("topic")
    sub = subscribe(t, topic)
    t0 = time.monotonic()
    kinds = []
    while time.monotonic() - t0 < 3.5 * HEARTBEAT_SECONDS:
        kinds.append(raw_next(sub, timeout=2.5 * HEARTBEAT_SECONDS).WhichOneof("kind"))
    assert kinds and set(kinds) == {"heartbeat"}, kinds
    assert len(kinds) >= 3, f"{len(kinds)} heartbeats in 3.5 intervals"
    t.publish(CACHE, topic, "still open")
    raw = raw_next(sub)
    while raw.WhichOneof("kind") == "heartbeat":
        raw = raw_next(sub)
    assert raw.item.value.text == "still open"
    sub.unsubscribe()


def test_subscribe_and_publish_to_a_missing_cache_are_not_found(sg):
    t = sg.topics(sg.superuser)
    missing = unique("no-such-cache")
    assert_error(t.subscribe(missing, "t"), MomentoErrorCode.NOT_FOUND_ERROR)
    assert_error(t.publish(missing, "t", "x"), MomentoErrorCode.NOT_FOUND_ERROR)


def test_empty_topic_and_cache_names_are_refused_by_the_sdk(sg):
    t = sg.topics(sg.superuser)
    assert_error(t.publish(CACHE, "", "x"), MomentoErrorCode.INVALID_ARGUMENT_ERROR)
    assert_error(t.subscribe(CACHE, ""), MomentoErrorCode.INVALID_ARGUMENT_ERROR)
    assert_error(t.publish("", "t", "x"), MomentoErrorCode.INVALID_ARGUMENT_ERROR)


@pytest.mark.asyncio
async def test_the_asyncio_topic_client_subscribes_and_receives(sga):
    t = sga.topics_async(sga.superuser)
    topic = unique("topic")
    t0 = time.monotonic()
    sub = await asyncio.wait_for(t.subscribe(CACHE, topic), 5)
    assert time.monotonic() - t0 < 1.0
    assert_ok(sub, TopicSubscribe.SubscriptionAsync)
    assert_ok(await t.publish(CACHE, topic, "async text"), TopicPublish.Success)
    assert_ok(await t.publish(CACHE, topic, b"\xffasync"), TopicPublish.Success)
    a = await asyncio.wait_for(sub.__anext__(), 5)
    b = await asyncio.wait_for(sub.__anext__(), 5)
    assert isinstance(a, TopicSubscriptionItem.Text) and a.value == "async text"
    assert isinstance(b, TopicSubscriptionItem.Binary) and b.value == b"\xffasync"
    assert b.sequence_number == a.sequence_number + 1
    sub.unsubscribe()
