'use strict';
// TopicClient: subscribe (opens at once on the first heartbeat), publish text
// and binary, the publisher's token id, heartbeats on an idle stream, the
// SDK's resume after a dropped stream, and a subscription that ends with its
// token.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  sdk,
  CACHE,
  HEARTBEAT_MS,
  startGateway,
  expectType,
  expectError,
  uniqueName,
  sleep,
  recordingSubscribe,
  isItem,
  isError,
} = require('./harness');
const { MomentoErrorCode, TokenScopes, ExpiresIn } = sdk;

describe('topics', () => {
  let gw;
  let topics;
  const subscriptions = [];
  const subscribe = async (client, topic, cache = CACHE) => {
    const sub = await recordingSubscribe(client, cache, topic);
    if (sub.resp.type === 'Subscription') subscriptions.push(sub.resp);
    return sub;
  };

  before(async () => {
    gw = await startGateway();
    topics = gw.topicClient();
  });
  after(async () => {
    for (const s of subscriptions) s.unsubscribe();
    await gw?.stop();
  });

  it('subscribe resolves well within a second, on the first heartbeat', async () => {
    const sub = await subscribe(topics, uniqueName('prompt'));
    expectType(sub.resp, 'Subscription', 'subscribe');
    assert.ok(sub.subscribedAfterMs < 1000, `subscribe took ${sub.subscribedAfterMs} ms`);
    assert.equal(sub.events[0]?.kind, 'heartbeat', 'the first message of the stream is a heartbeat');
  });

  it('publishes text and binary and receives them in order with sequence numbers', async () => {
    const topic = uniqueName('chat');
    const sub = await subscribe(topics, topic);
    expectType(sub.resp, 'Subscription', 'subscribe');
    expectType(await topics.publish(CACHE, topic, 'hello'), 'Success', 'publish text');
    const bytes = Uint8Array.from([0, 0xff, 0x10, 0x80]);
    expectType(await topics.publish(CACHE, topic, bytes), 'Success', 'publish binary');

    const first = (await sub.next(isItem, 3000, 'text item')).item;
    assert.equal(first.value(), 'hello');
    assert.equal(typeof first.value(), 'string', 'text arrives as text');
    const second = (await sub.next(isItem, 3000, 'binary item')).item;
    assert.ok(second.value() instanceof Uint8Array, 'binary arrives as binary');
    assert.deepEqual([...second.valueUint8Array()], [...bytes]);
    assert.equal(second.sequenceNumber(), first.sequenceNumber() + 1, 'sequence numbers grow by one');
    assert.ok(!first.tokenId(), `an API key publishes with no publisher id, got ${first.tokenId()}`);
    assert.equal(sub.events.filter(isError).length, 0);
  });

  it("the publisher's token id arrives with each item", async () => {
    const topic = uniqueName('ids');
    const alice = await gw.mintDisposable(
      TokenScopes.topicPublishSubscribe(CACHE, topic),
      ExpiresIn.minutes(5),
      { tokenId: 'alice' },
    );
    const sub = await subscribe(topics, topic);
    expectType(sub.resp, 'Subscription', 'subscribe');
    expectType(await gw.topicClient(alice).publish(CACHE, topic, 'from alice'), 'Success', 'publish as alice');
    const item = (await sub.next(isItem, 3000, 'item from alice')).item;
    assert.equal(item.valueString(), 'from alice');
    assert.equal(item.tokenId(), 'alice');
  });

  it('an idle subscription stays open across heartbeats, then still receives', async () => {
    const topic = uniqueName('idle');
    const sub = await subscribe(topics, topic);
    expectType(sub.resp, 'Subscription', 'subscribe');
    await sleep(3.5 * HEARTBEAT_MS);
    const heartbeats = sub.events.filter(e => e.kind === 'heartbeat').length;
    assert.ok(heartbeats >= 3, `${heartbeats} heartbeats in 3.5 heartbeat intervals`);
    const trouble = sub.events.filter(e => ['error', 'connectionLost', 'end'].includes(e.kind));
    assert.deepEqual(trouble.map(e => e.kind), [], 'no error, no lost connection, no end');
    expectType(await topics.publish(CACHE, topic, 'still here'), 'Success', 'publish');
    assert.equal((await sub.next(isItem, 3000, 'item after idling')).item.valueString(), 'still here');
  });

  it('after its stream is dropped the SDK resumes from the next sequence number', async () => {
    // The SDK puts its request timeout on the first Subscribe call as a
    // deadline for the whole stream: with 2 s the stream ends with
    // DEADLINE_EXCEEDED after 2 s and the SDK resubscribes 0.5 s later with
    // resume_at_topic_sequence_number = last + 1 and the last sequence_page.
    const client = gw.topicClient(undefined, { configure: c => c.withClientTimeoutMillis(2000) });
    const topic = uniqueName('resume');
    const sub = await subscribe(client, topic);
    expectType(sub.resp, 'Subscription', 'subscribe');
    await topics.publish(CACHE, topic, 'm1');
    await topics.publish(CACHE, topic, 'm2');
    const m1 = (await sub.next(isItem, 3000, 'm1')).item;
    assert.equal(m1.valueString(), 'm1');
    assert.equal((await sub.next(isItem, 3000, 'm2')).item.valueString(), 'm2');

    await sub.next(e => e.kind === 'connectionLost', 4000, 'the stream dropped at its deadline');
    // Published while the SDK waits to resubscribe: only a resume delivers
    // both (a fresh subscription would start at the newest message at best).
    expectType(await topics.publish(CACHE, topic, 'm3'), 'Success', 'publish m3 during the gap');
    expectType(await topics.publish(CACHE, topic, 'm4'), 'Success', 'publish m4 during the gap');
    const m3 = (await sub.next(isItem, 4000, 'm3 after the resubscribe')).item;
    assert.equal(m3.valueString(), 'm3');
    assert.equal(m3.sequenceNumber(), m1.sequenceNumber() + 2);
    assert.equal((await sub.next(isItem, 3000, 'm4')).item.valueString(), 'm4');
    await sleep(300);
    const values = sub.events.filter(isItem).map(e => e.item.valueString());
    assert.deepEqual(values, ['m1', 'm2', 'm3', 'm4'], 'nothing lost, nothing repeated');
    assert.equal(sub.events.filter(e => e.kind === 'discontinuity').length, 0, 'no discontinuity');
  });

  it('a subscription ends with AUTHENTICATION_ERROR when its token expires', async () => {
    const topic = uniqueName('expiring');
    const token = await gw.mintDisposable(TokenScopes.topicSubscribeOnly(CACHE, topic), ExpiresIn.seconds(3));
    const started = Date.now();
    const sub = await subscribe(gw.topicClient(token), topic);
    expectType(sub.resp, 'Subscription', 'subscribe with a 3 s token');
    const ev = await sub.next(isError, 7000, 'an error when the token expires');
    const elapsed = Date.now() - started;
    assert.equal(ev.err.errorCode(), MomentoErrorCode.AUTHENTICATION_ERROR, ev.err.message());
    assert.ok(elapsed >= 2000 && elapsed < 5500, `the subscription ended ${elapsed} ms after start (token: 3 s)`);
    assert.equal(sub.resp.isSubscribed, false, 'the SDK does not resubscribe after an authentication error');
    // And no item was delivered to the expired subscriber afterwards.
    await topics.publish(CACHE, topic, 'too late');
    await sleep(300);
    assert.equal(sub.events.filter(isItem).length, 0);
  });

  it('subscribing or publishing to a missing cache is NOT_FOUND', async () => {
    const sub = await recordingSubscribe(topics, 'no-such-cache', 't');
    expectError(sub.resp, MomentoErrorCode.CACHE_NOT_FOUND_ERROR, 'subscribe to a missing cache');
    expectError(await topics.publish('no-such-cache', 't', 'x'), MomentoErrorCode.CACHE_NOT_FOUND_ERROR, 'publish');
  });
});
