'use strict';
// Every collection method of the Node SDK (dictionaries, sets, lists, sorted
// sets) against one gateway: hits, misses, the collection semantics the
// gateway promises (TTL refresh, deletion of an emptied collection, list
// ranges and truncation, sorted-set order and score bounds, wrong types),
// denials by scope, and bad input.
//
// A few checks go below the SDK's public methods, to reach the gateway with
// what the SDK cannot express or refuses itself: exclusive score bounds (the
// SDK only sends inclusive ones) and empty collection names (the SDK refuses
// them before sending). They use the SDK's own data client and generated
// protobuf types, so the request still carries the SDK's headers.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  sdk,
  CACHE,
  startGateway,
  expectType,
  expectError,
  describe: describeResponse,
  uniqueName,
  sleep,
} = require('./harness');
const {
  MomentoErrorCode,
  ItemType,
  CollectionTtl,
  SortedSetOrder,
  SortedSetAggregate,
  TokenScopes,
  DisposableTokenScopes,
  ExpiresIn,
} = sdk;
const grpcCache = require('@gomomento/generated-types').cache.cache_client;

const DENIED = MomentoErrorCode.PERMISSION_ERROR;
const WRONG_TYPE = MomentoErrorCode.FAILED_PRECONDITION_ERROR;
const INVALID = MomentoErrorCode.INVALID_ARGUMENT_ERROR;
const { Ascending, Descending } = SortedSetOrder;

/** A sorted-set fetch hit as [value, score] pairs. */
const pairs = hit => hit.valueArrayStringElements().map(e => [e.value, e.score]);
/** A sorted-set fetch hit's values only. */
const values = hit => hit.valueArrayStringElements().map(e => e.value);
/** A set response's elements, sorted (sets have no order). */
const sorted = strings => [...strings].sort();
/** The gRPC status code an SDK error carries. */
const grpcCode = resp => resp.innerException().transportDetails().grpc.code;

/** The remaining TTL of `name` in ms (asserting a hit). */
async function ttlOf(c, name, what) {
  return expectType(await c.itemGetTtl(CACHE, name), 'Hit', `itemGetTtl ${what}`).remainingTtlMillis();
}

/** Asserts `lo < ttl <= hi` (ms) with a message naming the case. */
function assertTtlWithin(ttl, lo, hi, what) {
  assert.ok(ttl > lo && ttl <= hi, `${what}: remaining TTL ${ttl} ms, expected in (${lo}, ${hi}]`);
}

/**
 * Sends one unary Scs RPC through `client`'s first data client (its channel,
 * headers and credential) and resolves with `{ err, resp }`.
 */
function rawScs(client, method, request) {
  const dc = client.dataClients[0];
  return new Promise(resolve => {
    dc.clientWrapper
      .getClient()
      [method](request, dc.createMetadata(CACHE), { interceptors: dc.interceptors }, (err, resp) => resolve({ err, resp }));
  });
}

describe('collections', () => {
  let gw;
  let c;
  const name = prefix => uniqueName(prefix);

  before(async () => {
    gw = await startGateway();
    c = gw.cacheClient();
  });
  after(() => gw?.stop());

  // --- dictionaries ---------------------------------------------------------

  it('dictionary: a missing dictionary misses for every read', async () => {
    const d = name('dict-missing');
    expectType(await c.dictionaryFetch(CACHE, d), 'Miss', 'dictionaryFetch');
    const miss = expectType(await c.dictionaryGetField(CACHE, d, 'f'), 'Miss', 'dictionaryGetField');
    assert.equal(miss.fieldString(), 'f');
    expectType(await c.dictionaryGetFields(CACHE, d, ['f', 'g']), 'Miss', 'dictionaryGetFields');
    expectType(await c.dictionaryLength(CACHE, d), 'Miss', 'dictionaryLength');
    expectType(await c.dictionaryRemoveField(CACHE, d, 'f'), 'Success', 'dictionaryRemoveField (missing dictionary)');
    expectType(await c.dictionaryRemoveFields(CACHE, d, ['f', 'g']), 'Success', 'dictionaryRemoveFields (missing dictionary)');
    expectType(await c.dictionaryFetch(CACHE, d), 'Miss', 'a removal does not create the dictionary');
    expectType(await c.itemGetType(CACHE, d), 'Miss', 'itemGetType');
  });

  it('dictionary: setField/setFields (record, Map, array), fetch, getField(s), length', async () => {
    const d = name('dict');
    expectType(await c.dictionarySetField(CACHE, d, 'a', '1'), 'Success', 'dictionarySetField');
    expectType(await c.dictionarySetFields(CACHE, d, { b: '2', c: '3' }), 'Success', 'dictionarySetFields (record)');
    expectType(await c.dictionarySetFields(CACHE, d, new Map([['d', '4']])), 'Success', 'dictionarySetFields (Map)');
    expectType(await c.dictionarySetFields(CACHE, d, [['e', '5']]), 'Success', 'dictionarySetFields (array)');

    const all = expectType(await c.dictionaryFetch(CACHE, d), 'Hit', 'dictionaryFetch');
    assert.deepEqual(all.valueRecord(), { a: '1', b: '2', c: '3', d: '4', e: '5' });
    assert.equal(expectType(await c.dictionaryLength(CACHE, d), 'Hit', 'dictionaryLength').length(), 5);

    const hit = expectType(await c.dictionaryGetField(CACHE, d, 'b'), 'Hit', 'dictionaryGetField');
    assert.equal(hit.valueString(), '2');
    assert.equal(hit.fieldString(), 'b');
    const absent = expectType(await c.dictionaryGetField(CACHE, d, 'zz'), 'Miss', 'dictionaryGetField (absent field)');
    assert.equal(absent.fieldString(), 'zz');

    const some = expectType(await c.dictionaryGetFields(CACHE, d, ['a', 'zz', 'c']), 'Hit', 'dictionaryGetFields');
    assert.deepEqual(some.responses.map(r => r.type), ['Hit', 'Miss', 'Hit']);
    assert.deepEqual(some.valueRecord(), { a: '1', c: '3' });

    // An overwrite replaces the value and keeps the length.
    expectType(await c.dictionarySetField(CACHE, d, 'a', 'one'), 'Success', 'overwrite');
    assert.equal((await c.dictionaryGetField(CACHE, d, 'a')).valueString(), 'one');
    assert.equal((await c.dictionaryLength(CACHE, d)).length(), 5);
  });

  it('dictionary: binary fields and values round-trip byte for byte', async () => {
    const d = name('dict-bin');
    const f1 = Uint8Array.from([0xff, 0x00]);
    const f2 = Uint8Array.from([0xff, 0x01]);
    const v1 = Uint8Array.from([0, 1, 254, 255]);
    expectType(await c.dictionarySetFields(CACHE, d, new Map([[f1, v1], [f2, Uint8Array.from([7])]])), 'Success', 'set binary');
    const hit = expectType(await c.dictionaryGetField(CACHE, d, f1), 'Hit', 'get binary field');
    assert.deepEqual(Buffer.from(hit.valueUint8Array()), Buffer.from(v1));
    const all = expectType(await c.dictionaryFetch(CACHE, d), 'Hit', 'fetch binary');
    const got = [...all.valueMapStringUint8Array().values()].map(v => Buffer.from(v).toString('hex')).sort();
    assert.deepEqual(got, ['0001feff', '07']);
    expectType(await c.dictionaryGetField(CACHE, d, Uint8Array.from([0xff, 0x02])), 'Miss', 'another binary field');
  });

  it('dictionary: increment counts from absent and refuses a non-integer field', async () => {
    const d = name('dict-incr');
    const first = expectType(await c.dictionaryIncrement(CACHE, d, 'n', 5), 'Success', 'increment (missing dictionary)');
    assert.equal(first.value(), 5);
    assert.equal(expectType(await c.dictionaryIncrement(CACHE, d, 'n', -7), 'Success', 'increment').value(), -2);
    assert.equal((await c.dictionaryIncrement(CACHE, d, 'n')).value(), -1, 'the default amount is 1');
    assert.equal((await c.dictionaryGetField(CACHE, d, 'n')).valueString(), '-1', 'stored as decimal text');
    assert.equal((await c.dictionaryIncrement(CACHE, d, 'other', 3)).value(), 3, 'an absent field counts from 0');
    await c.dictionarySetField(CACHE, d, 'text-int', '41');
    assert.equal((await c.dictionaryIncrement(CACHE, d, 'text-int', 1)).value(), 42, 'a field set to an integer');

    await c.dictionarySetField(CACHE, d, 'word', 'not a number');
    const err = expectError(await c.dictionaryIncrement(CACHE, d, 'word', 1), WRONG_TYPE, 'increment of a non-integer field');
    assert.ok(err.message().length > 0);
    assert.equal((await c.dictionaryGetField(CACHE, d, 'word')).valueString(), 'not a number', 'the field is untouched');
  });

  it('dictionary: removeField(s); removing the last field deletes the dictionary', async () => {
    const d = name('dict-rm');
    await c.dictionarySetFields(CACHE, d, { a: '1', b: '2', c: '3', e: '5' });
    expectType(await c.dictionaryRemoveField(CACHE, d, 'a'), 'Success', 'dictionaryRemoveField');
    expectType(await c.dictionaryRemoveField(CACHE, d, 'zz'), 'Success', 'dictionaryRemoveField (absent field)');
    expectType(await c.dictionaryGetField(CACHE, d, 'a'), 'Miss', 'the removed field');
    expectType(await c.dictionaryRemoveFields(CACHE, d, ['b', 'zz']), 'Success', 'dictionaryRemoveFields');
    assert.deepEqual((await c.dictionaryFetch(CACHE, d)).valueRecord(), { c: '3', e: '5' });
    assert.equal((await c.dictionaryLength(CACHE, d)).length(), 2);

    expectType(await c.dictionaryRemoveFields(CACHE, d, ['c', 'e']), 'Success', 'remove the last fields');
    expectType(await c.dictionaryFetch(CACHE, d), 'Miss', 'dictionaryFetch after the last field went');
    expectType(await c.dictionaryLength(CACHE, d), 'Miss', 'dictionaryLength after the last field went');
    expectType(await c.itemGetType(CACHE, d), 'Miss', 'itemGetType after the last field went');
    expectType(await c.itemGetTtl(CACHE, d), 'Miss', 'itemGetTtl after the last field went');
  });

  // --- sets -----------------------------------------------------------------

  it('set: a missing set misses for every read', async () => {
    const s = name('set-missing');
    expectType(await c.setFetch(CACHE, s), 'Miss', 'setFetch');
    expectType(await c.setContainsElement(CACHE, s, 'a'), 'Miss', 'setContainsElement');
    expectType(await c.setContainsElements(CACHE, s, ['a', 'b']), 'Miss', 'setContainsElements');
    expectType(await c.setLength(CACHE, s), 'Miss', 'setLength');
    expectType(await c.setSample(CACHE, s, 3), 'Miss', 'setSample');
    expectType(await c.setPop(CACHE, s, 1), 'Miss', 'setPop');
    expectType(await c.setRemoveElement(CACHE, s, 'a'), 'Success', 'setRemoveElement (missing set)');
    expectType(await c.setRemoveElements(CACHE, s, ['a', 'b']), 'Success', 'setRemoveElements (missing set)');
    expectType(await c.setFetch(CACHE, s), 'Miss', 'a removal does not create the set');
  });

  it('set: addElement(s) deduplicates; fetch, containsElement(s), length', async () => {
    const s = name('set');
    expectType(await c.setAddElement(CACHE, s, 'a'), 'Success', 'setAddElement');
    expectType(await c.setAddElements(CACHE, s, ['b', 'c', 'a']), 'Success', 'setAddElements');
    expectType(await c.setAddElement(CACHE, s, 'b'), 'Success', 'setAddElement (present)');
    const all = expectType(await c.setFetch(CACHE, s), 'Hit', 'setFetch');
    assert.deepEqual(sorted(all.valueArrayString()), ['a', 'b', 'c']);
    assert.deepEqual(all.valueSetString(), new Set(['a', 'b', 'c']));
    assert.equal(expectType(await c.setLength(CACHE, s), 'Hit', 'setLength').length(), 3);

    assert.equal(expectType(await c.setContainsElement(CACHE, s, 'a'), 'Hit', 'contains a').containsElement(), true);
    assert.equal(expectType(await c.setContainsElement(CACHE, s, 'z'), 'Hit', 'contains z').containsElement(), false);
    const many = expectType(await c.setContainsElements(CACHE, s, ['c', 'z', 'a']), 'Hit', 'setContainsElements');
    assert.deepEqual(many.containsElements(), { c: true, z: false, a: true });

    const bin = name('set-bin');
    await c.setAddElements(CACHE, bin, [Uint8Array.from([0xff, 0]), Uint8Array.from([0xff, 1])]);
    const got = (await c.setFetch(CACHE, bin)).valueArrayUint8Array().map(e => Buffer.from(e).toString('hex'));
    assert.deepEqual(sorted(got), ['ff00', 'ff01']);
    assert.equal((await c.setContainsElement(CACHE, bin, Uint8Array.from([0xff, 2]))).containsElement(), false);
  });

  it('set: sample leaves the set alone; pop removes what it returns and the last pop deletes the set', async () => {
    const s = name('set-sample');
    const members = ['a', 'b', 'c', 'd', 'e'];
    await c.setAddElements(CACHE, s, members);
    const three = expectType(await c.setSample(CACHE, s, 3), 'Hit', 'setSample 3').valueArrayString();
    assert.equal(three.length, 3, `sample of 3: ${three}`);
    assert.equal(new Set(three).size, 3, 'distinct elements');
    for (const e of three) assert.ok(members.includes(e), `sampled ${e} is a member`);
    const more = expectType(await c.setSample(CACHE, s, 10), 'Hit', 'setSample 10').valueArrayString();
    assert.deepEqual(sorted(more), members, 'a limit over the size samples everything');
    assert.equal((await c.setLength(CACHE, s)).length(), 5, 'sampling removes nothing');

    const popped = expectType(await c.setPop(CACHE, s, 2), 'Hit', 'setPop 2').valueArrayString();
    assert.equal(new Set(popped).size, 2, `two distinct popped: ${popped}`);
    for (const e of popped) {
      assert.ok(members.includes(e), `popped ${e} is a member`);
      assert.equal((await c.setContainsElement(CACHE, s, e)).containsElement(), false, `popped ${e} is gone`);
    }
    assert.equal((await c.setLength(CACHE, s)).length(), 3);
    const rest = expectType(await c.setPop(CACHE, s, 10), 'Hit', 'setPop more than there is').valueArrayString();
    assert.deepEqual(sorted([...popped, ...rest]), members, 'every member popped exactly once');
    expectType(await c.setFetch(CACHE, s), 'Miss', 'setFetch after the last pop');
    expectType(await c.setPop(CACHE, s, 1), 'Miss', 'setPop after the last pop');
  });

  it('set: removeElement(s); removing the last element deletes the set', async () => {
    const s = name('set-rm');
    await c.setAddElements(CACHE, s, ['a', 'b', 'c', 'd']);
    expectType(await c.setRemoveElement(CACHE, s, 'a'), 'Success', 'setRemoveElement');
    expectType(await c.setRemoveElement(CACHE, s, 'zz'), 'Success', 'setRemoveElement (absent element)');
    expectType(await c.setRemoveElements(CACHE, s, ['b', 'zz']), 'Success', 'setRemoveElements');
    assert.deepEqual(sorted((await c.setFetch(CACHE, s)).valueArrayString()), ['c', 'd']);
    expectType(await c.setRemoveElements(CACHE, s, ['c', 'd']), 'Success', 'remove the last elements');
    expectType(await c.setFetch(CACHE, s), 'Miss', 'setFetch after the last element went');
    expectType(await c.setLength(CACHE, s), 'Miss', 'setLength after the last element went');
    expectType(await c.itemGetType(CACHE, s), 'Miss', 'itemGetType after the last element went');
  });

  // --- lists ----------------------------------------------------------------

  it('list: a missing list misses for every read and pop', async () => {
    const l = name('list-missing');
    expectType(await c.listFetch(CACHE, l), 'Miss', 'listFetch');
    expectType(await c.listFetch(CACHE, l, { startIndex: 1, endIndex: 3 }), 'Miss', 'listFetch with a range');
    expectType(await c.listLength(CACHE, l), 'Miss', 'listLength');
    expectType(await c.listPopBack(CACHE, l), 'Miss', 'listPopBack');
    expectType(await c.listPopFront(CACHE, l), 'Miss', 'listPopFront');
    expectType(await c.listRemoveValue(CACHE, l, 'x'), 'Success', 'listRemoveValue (missing list)');
    expectType(await c.listRetain(CACHE, l, { startIndex: 1, endIndex: 2 }), 'Success', 'listRetain (missing list)');
    expectType(await c.listFetch(CACHE, l), 'Miss', 'neither creates the list');
  });

  it('list: push and concatenate at both ends, fetch, length, pop', async () => {
    const l = name('list');
    assert.equal(expectType(await c.listPushBack(CACHE, l, 'b'), 'Success', 'listPushBack').listLength(), 1);
    assert.equal(expectType(await c.listPushFront(CACHE, l, 'a'), 'Success', 'listPushFront').listLength(), 2);
    assert.equal(expectType(await c.listConcatenateBack(CACHE, l, ['c', 'd']), 'Success', 'listConcatenateBack').listLength(), 4);
    assert.equal(expectType(await c.listConcatenateFront(CACHE, l, ['y', 'z']), 'Success', 'listConcatenateFront').listLength(), 6);
    assert.deepEqual(expectType(await c.listFetch(CACHE, l), 'Hit', 'listFetch').valueListString(), ['y', 'z', 'a', 'b', 'c', 'd']);
    assert.equal(expectType(await c.listLength(CACHE, l), 'Hit', 'listLength').length(), 6);

    assert.equal(expectType(await c.listPopFront(CACHE, l), 'Hit', 'listPopFront').valueString(), 'y');
    assert.equal(expectType(await c.listPopBack(CACHE, l), 'Hit', 'listPopBack').valueString(), 'd');
    assert.deepEqual((await c.listFetch(CACHE, l)).valueListString(), ['z', 'a', 'b', 'c']);

    // Duplicates are kept; binary values round-trip.
    await c.listPushBack(CACHE, l, 'z');
    await c.listPushBack(CACHE, l, Uint8Array.from([0xff, 0x00]));
    const hit = await c.listFetch(CACHE, l);
    assert.deepEqual(hit.valueListString().slice(0, 5), ['z', 'a', 'b', 'c', 'z']);
    assert.equal(Buffer.from(hit.valueListUint8Array()[5]).toString('hex'), 'ff00');
    assert.equal(Buffer.from((await c.listPopBack(CACHE, l)).valueUint8Array()).toString('hex'), 'ff00');

    // Popping every element deletes the list.
    for (const expected of ['z', 'a', 'b', 'c']) {
      assert.equal((await c.listPopFront(CACHE, l)).valueString(), expected);
    }
    assert.equal(expectType(await c.listPopBack(CACHE, l), 'Hit', 'the last pop').valueString(), 'z');
    expectType(await c.listFetch(CACHE, l), 'Miss', 'listFetch after the last pop');
    expectType(await c.listLength(CACHE, l), 'Miss', 'listLength after the last pop');
    expectType(await c.listPopFront(CACHE, l), 'Miss', 'listPopFront after the last pop');
    expectType(await c.itemGetType(CACHE, l), 'Miss', 'itemGetType after the last pop');
  });

  it('list: fetch ranges are start-inclusive, end-exclusive, negative from the end', async () => {
    const l = name('list-range');
    const ten = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
    await c.listConcatenateBack(CACHE, l, ten);
    const fetch = async opts => expectType(await c.listFetch(CACHE, l, opts), 'Hit', `listFetch ${JSON.stringify(opts)}`).valueListString();
    assert.deepEqual(await fetch({ startIndex: 2, endIndex: 5 }), ['2', '3', '4']);
    assert.deepEqual(await fetch({ startIndex: 1 }), ten.slice(1));
    assert.deepEqual(await fetch({ endIndex: 3 }), ['0', '1', '2']);
    assert.deepEqual(await fetch({ startIndex: -3 }), ['7', '8', '9']);
    assert.deepEqual(await fetch({ endIndex: -7 }), ['0', '1', '2']);
    assert.deepEqual(await fetch({ startIndex: -4, endIndex: -1 }), ['6', '7', '8']);
    assert.deepEqual(await fetch({ startIndex: 3, endIndex: -5 }), ['3', '4']);
    assert.deepEqual(await fetch({ startIndex: -12, endIndex: 2 }), ['0', '1'], 'a start before the front is clamped');
    assert.deepEqual(await fetch({ startIndex: 8, endIndex: 100 }), ['8', '9'], 'an end past the back is clamped');
    assert.deepEqual(await fetch({}), ten);
    assert.equal((await c.listLength(CACHE, l)).length(), 10, 'fetching changes nothing');
  });

  it('list: truncation drops from the opposite end; the reported length is after truncation', async () => {
    const l = name('list-trunc');
    await c.listConcatenateBack(CACHE, l, ['1', '2', '3', '4', '5']);
    const back = expectType(await c.listPushBack(CACHE, l, '6', { truncateFrontToSize: 4 }), 'Success', 'listPushBack truncating');
    assert.equal(back.listLength(), 4);
    assert.deepEqual((await c.listFetch(CACHE, l)).valueListString(), ['3', '4', '5', '6'], 'pushBack drops from the front');

    const front = expectType(await c.listPushFront(CACHE, l, '0', { truncateBackToSize: 3 }), 'Success', 'listPushFront truncating');
    assert.equal(front.listLength(), 3);
    assert.deepEqual((await c.listFetch(CACHE, l)).valueListString(), ['0', '3', '4'], 'pushFront drops from the back');

    const cb = expectType(await c.listConcatenateBack(CACHE, l, ['a', 'b'], { truncateFrontToSize: 3 }), 'Success', 'listConcatenateBack truncating');
    assert.equal(cb.listLength(), 3);
    assert.deepEqual((await c.listFetch(CACHE, l)).valueListString(), ['4', 'a', 'b'], 'concatenateBack drops from the front');

    const cf = expectType(await c.listConcatenateFront(CACHE, l, ['x', 'y'], { truncateBackToSize: 4 }), 'Success', 'listConcatenateFront truncating');
    assert.equal(cf.listLength(), 4);
    assert.deepEqual((await c.listFetch(CACHE, l)).valueListString(), ['x', 'y', '4', 'a'], 'concatenateFront drops from the back');

    // A limit the list does not reach drops nothing.
    const roomy = await c.listPushBack(CACHE, l, 'z', { truncateFrontToSize: 100 });
    assert.equal(roomy.listLength(), 5);
    assert.deepEqual((await c.listFetch(CACHE, l)).valueListString(), ['x', 'y', '4', 'a', 'z']);
  });

  it('list: removeValue removes every occurrence; retain keeps a range; emptied lists are deleted', async () => {
    const l = name('list-rm');
    await c.listConcatenateBack(CACHE, l, ['a', 'b', 'a', 'c', 'a']);
    expectType(await c.listRemoveValue(CACHE, l, 'a'), 'Success', 'listRemoveValue');
    assert.deepEqual((await c.listFetch(CACHE, l)).valueListString(), ['b', 'c']);
    expectType(await c.listRemoveValue(CACHE, l, 'zz'), 'Success', 'listRemoveValue (absent value)');
    assert.deepEqual((await c.listFetch(CACHE, l)).valueListString(), ['b', 'c']);
    await c.listRemoveValue(CACHE, l, 'b');
    await c.listRemoveValue(CACHE, l, 'c');
    expectType(await c.listFetch(CACHE, l), 'Miss', 'listFetch after removing every value');

    const r = name('list-retain');
    await c.listConcatenateBack(CACHE, r, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expectType(await c.listRetain(CACHE, r, { startIndex: 2, endIndex: 7 }), 'Success', 'listRetain [2, 7)');
    assert.deepEqual((await c.listFetch(CACHE, r)).valueListString(), ['2', '3', '4', '5', '6']);
    expectType(await c.listRetain(CACHE, r, { startIndex: -3 }), 'Success', 'listRetain [-3, end)');
    assert.deepEqual((await c.listFetch(CACHE, r)).valueListString(), ['4', '5', '6']);
    expectType(await c.listRetain(CACHE, r, { endIndex: -1 }), 'Success', 'listRetain [start, -1)');
    assert.deepEqual((await c.listFetch(CACHE, r)).valueListString(), ['4', '5']);
    expectType(await c.listRetain(CACHE, r, { startIndex: 5, endIndex: 9 }), 'Success', 'listRetain past the end');
    expectType(await c.listFetch(CACHE, r), 'Miss', 'a retain that keeps nothing deletes the list');
  });

  // --- sorted sets ----------------------------------------------------------

  it('sorted set: a missing sorted set misses for every read', async () => {
    const z = name('zset-missing');
    expectType(await c.sortedSetFetchByRank(CACHE, z), 'Miss', 'sortedSetFetchByRank');
    expectType(await c.sortedSetFetchByScore(CACHE, z, { minScore: 0, maxScore: 10 }), 'Miss', 'sortedSetFetchByScore');
    expectType(await c.sortedSetGetRank(CACHE, z, 'a'), 'Miss', 'sortedSetGetRank');
    expectType(await c.sortedSetGetScore(CACHE, z, 'a'), 'Miss', 'sortedSetGetScore');
    expectType(await c.sortedSetGetScores(CACHE, z, ['a', 'b']), 'Miss', 'sortedSetGetScores');
    expectType(await c.sortedSetLength(CACHE, z), 'Miss', 'sortedSetLength');
    expectType(await c.sortedSetLengthByScore(CACHE, z, { minScore: 0 }), 'Miss', 'sortedSetLengthByScore');
    expectType(await c.sortedSetRemoveElement(CACHE, z, 'a'), 'Success', 'sortedSetRemoveElement (missing)');
    expectType(await c.sortedSetRemoveElements(CACHE, z, ['a', 'b']), 'Success', 'sortedSetRemoveElements (missing)');
    expectType(await c.sortedSetFetchByRank(CACHE, z), 'Miss', 'a removal does not create the sorted set');
  });

  it('sorted set: fetch by rank orders by score then value bytes; descending is the exact reverse', async () => {
    const z = name('zset-order');
    // Five ties at score 1, chosen so byte order differs from locale order and
    // from JavaScript's UTF-16 order: 'A' < 'B' < 'a' < 'ab' < 'b' <
    // U+FFFD (EF BF BD) < U+1F600 (F0 9F 98 80), while in UTF-16 U+1F600
    // (D83D DE00) sorts before U+FFFD.
    const ties = ['b', 'ab', '\u{1F600}', 'A', '\uFFFD', 'a', 'B'];
    expectType(await c.sortedSetPutElements(CACHE, z, Object.fromEntries(ties.map(v => [v, 1]))), 'Success', 'put the ties');
    expectType(await c.sortedSetPutElement(CACHE, z, 'low', -3.5), 'Success', 'sortedSetPutElement');
    expectType(await c.sortedSetPutElements(CACHE, z, new Map([['mid', 0.25]])), 'Success', 'sortedSetPutElements (Map)');
    expectType(await c.sortedSetPutElements(CACHE, z, [['high', 2]]), 'Success', 'sortedSetPutElements (array)');

    const ascending = ['low', 'mid', 'A', 'B', 'a', 'ab', 'b', '\uFFFD', '\u{1F600}', 'high'];
    const asc = expectType(await c.sortedSetFetchByRank(CACHE, z), 'Hit', 'sortedSetFetchByRank');
    assert.deepEqual(values(asc), ascending);
    assert.deepEqual(pairs(asc).slice(0, 3), [['low', -3.5], ['mid', 0.25], ['A', 1]]);
    const desc = expectType(await c.sortedSetFetchByRank(CACHE, z, { order: Descending }), 'Hit', 'fetchByRank descending');
    assert.deepEqual(values(desc), [...ascending].reverse(), 'descending is the exact reverse of ascending');
    assert.equal((await c.sortedSetLength(CACHE, z)).length(), 10);

    // Ranks: start inclusive, end exclusive, negative from the end; descending
    // ranks count from the highest.
    const byRank = async opts => values(expectType(await c.sortedSetFetchByRank(CACHE, z, opts), 'Hit', `fetchByRank ${JSON.stringify(opts)}`));
    assert.deepEqual(await byRank({ startRank: 1, endRank: 4 }), ['mid', 'A', 'B']);
    assert.deepEqual(await byRank({ startRank: -2 }), ['\u{1F600}', 'high']);
    assert.deepEqual(await byRank({ startRank: 2, endRank: -6 }), ['A', 'B']);
    assert.deepEqual(await byRank({ startRank: 1, endRank: 3, order: Descending }), ['\u{1F600}', '\uFFFD']);
    assert.deepEqual(await byRank({ startRank: -2, order: Descending }), ['mid', 'low']);
    assert.deepEqual(await byRank({ startRank: 8, endRank: 50 }), ['\u{1F600}', 'high'], 'an end past the last rank is clamped');

    // Re-putting an element moves it (its new score), it is not duplicated.
    await c.sortedSetPutElement(CACHE, z, 'low', 5);
    assert.deepEqual(await byRank({ startRank: -2 }), ['high', 'low']);
    assert.equal((await c.sortedSetLength(CACHE, z)).length(), 10);
  });

  it('sorted set: fetch by score bounds are inclusive through the SDK, with offset, count and order', async () => {
    const z = name('zset-score');
    await c.sortedSetPutElements(CACHE, z, { a: 1, b: 2, c: 3, d: 4, e: 5 });
    const byScore = async opts => values(expectType(await c.sortedSetFetchByScore(CACHE, z, opts), 'Hit', `fetchByScore ${JSON.stringify(opts)}`));
    assert.deepEqual(await byScore({ minScore: 2, maxScore: 4 }), ['b', 'c', 'd'], 'both bounds inclusive');
    assert.deepEqual(await byScore({ minScore: 2, maxScore: 4, order: Descending }), ['d', 'c', 'b']);
    assert.deepEqual(await byScore({ minScore: 4 }), ['d', 'e']);
    assert.deepEqual(await byScore({ maxScore: 1 }), ['a']);
    assert.deepEqual(await byScore({ minScore: 1.5, maxScore: 3.5 }), ['b', 'c']);
    assert.deepEqual(await byScore({}), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(await byScore({ offset: 1, count: 2 }), ['b', 'c']);
    assert.deepEqual(await byScore({ minScore: 2, offset: 1, count: 10 }), ['c', 'd', 'e']);
    assert.deepEqual(await byScore({ order: Descending, offset: 1, count: 2 }), ['d', 'c'], 'offset counts in the requested order');
    assert.deepEqual(await byScore({ minScore: 3, maxScore: 3 }), ['c']);

    const len = async opts => expectType(await c.sortedSetLengthByScore(CACHE, z, opts), 'Hit', `lengthByScore ${JSON.stringify(opts)}`).length();
    assert.equal(await len({ minScore: 2, maxScore: 4 }), 3);
    assert.equal(await len({ minScore: 4 }), 2);
    assert.equal(await len({ maxScore: 2 }), 2);
    assert.equal(await len({}), 5);
  });

  it('sorted set: exclusive score bounds (sent below the SDK, which has no option for them)', async () => {
    const z = name('zset-excl');
    await c.sortedSetPutElements(CACHE, z, { a: 1, b: 2, c: 3, d: 4, e: 5 });
    const Score = grpcCache._SortedSetFetchRequest._ByScore._Score;
    const fetch = async (min, max) => {
      const by_score = new grpcCache._SortedSetFetchRequest._ByScore({
        min_score: new Score(min),
        max_score: new Score(max),
        offset: 0,
        count: -1,
      });
      const request = new grpcCache._SortedSetFetchRequest({
        set_name: Buffer.from(z),
        order: grpcCache._SortedSetFetchRequest.Order.ASCENDING,
        with_scores: true,
        by_score,
      });
      const { err, resp } = await rawScs(c, 'SortedSetFetch', request);
      assert.equal(err, null, `SortedSetFetch ${JSON.stringify([min, max])}: ${err && err.message}`);
      assert.ok(resp.has_found, 'found');
      return resp.found.values_with_scores.elements.map(e => Buffer.from(e.value).toString());
    };
    assert.deepEqual(await fetch({ score: 2, exclusive: true }, { score: 4, exclusive: true }), ['c']);
    assert.deepEqual(await fetch({ score: 2, exclusive: true }, { score: 4, exclusive: false }), ['c', 'd']);
    assert.deepEqual(await fetch({ score: 2, exclusive: false }, { score: 4, exclusive: true }), ['b', 'c']);
    assert.deepEqual(await fetch({ score: 2, exclusive: false }, { score: 4, exclusive: false }), ['b', 'c', 'd']);

    const length = async fields => {
      const { err, resp } = await rawScs(c, 'SortedSetLengthByScore', new grpcCache._SortedSetLengthByScoreRequest({ set_name: Buffer.from(z), ...fields }));
      assert.equal(err, null, `SortedSetLengthByScore ${JSON.stringify(fields)}: ${err && err.message}`);
      assert.ok(resp.has_found, 'found');
      return resp.found.length;
    };
    assert.equal(await length({ exclusive_min: 1, exclusive_max: 5 }), 3);
    assert.equal(await length({ exclusive_min: 1, inclusive_max: 5 }), 4);
    assert.equal(await length({ inclusive_min: 1, exclusive_max: 5 }), 4);
  });

  it('sorted set: getRank, getScore(s), incrementScore', async () => {
    const z = name('zset-rank');
    await c.sortedSetPutElements(CACHE, z, { a: 1, b: 2, c: 3 });
    assert.equal(expectType(await c.sortedSetGetRank(CACHE, z, 'a'), 'Hit', 'getRank a').rank(), 0);
    assert.equal((await c.sortedSetGetRank(CACHE, z, 'c')).rank(), 2);
    assert.equal((await c.sortedSetGetRank(CACHE, z, 'c', { order: Ascending })).rank(), 2);
    assert.equal(expectType(await c.sortedSetGetRank(CACHE, z, 'c', { order: Descending }), 'Hit', 'getRank desc').rank(), 0);
    assert.equal((await c.sortedSetGetRank(CACHE, z, 'a', { order: Descending })).rank(), 2);
    expectType(await c.sortedSetGetRank(CACHE, z, 'zz'), 'Miss', 'getRank of an absent value');

    const score = expectType(await c.sortedSetGetScore(CACHE, z, 'b'), 'Hit', 'getScore');
    assert.equal(score.score(), 2);
    assert.equal(score.valueString(), 'b');
    expectType(await c.sortedSetGetScore(CACHE, z, 'zz'), 'Miss', 'getScore of an absent value');
    const scores = expectType(await c.sortedSetGetScores(CACHE, z, ['a', 'zz', 'c']), 'Hit', 'getScores');
    assert.deepEqual(scores.responses().map(r => r.type), ['Hit', 'Miss', 'Hit']);
    assert.deepEqual(scores.valueRecord(), { a: 1, c: 3 });

    assert.equal(expectType(await c.sortedSetIncrementScore(CACHE, z, 'a', 10), 'Success', 'incrementScore').score(), 11);
    assert.equal((await c.sortedSetGetRank(CACHE, z, 'a')).rank(), 2, 'the increment moved it');
    assert.equal((await c.sortedSetIncrementScore(CACHE, z, 'b')).score(), 3, 'the default amount is 1');
    assert.equal((await c.sortedSetIncrementScore(CACHE, z, 'new', -2.5)).score(), -2.5, 'an absent value counts from 0');

    const fresh = name('zset-incr');
    assert.equal(expectType(await c.sortedSetIncrementScore(CACHE, fresh, 'x', 1.5), 'Success', 'incrementScore (missing set)').score(), 1.5);
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, fresh)), [['x', 1.5]]);
  });

  it('sorted set: removeElement(s); removing the last element deletes the sorted set', async () => {
    const z = name('zset-rm');
    await c.sortedSetPutElements(CACHE, z, { a: 1, b: 2, c: 3, d: 4 });
    expectType(await c.sortedSetRemoveElement(CACHE, z, 'a'), 'Success', 'sortedSetRemoveElement');
    expectType(await c.sortedSetRemoveElement(CACHE, z, 'zz'), 'Success', 'sortedSetRemoveElement (absent value)');
    expectType(await c.sortedSetRemoveElements(CACHE, z, ['b', 'zz']), 'Success', 'sortedSetRemoveElements');
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, z)), [['c', 3], ['d', 4]]);
    assert.equal((await c.sortedSetLength(CACHE, z)).length(), 2);
    expectType(await c.sortedSetRemoveElements(CACHE, z, ['c', 'd']), 'Success', 'remove the last elements');
    expectType(await c.sortedSetFetchByRank(CACHE, z), 'Miss', 'fetchByRank after the last element went');
    expectType(await c.sortedSetLength(CACHE, z), 'Miss', 'sortedSetLength after the last element went');
    expectType(await c.itemGetType(CACHE, z), 'Miss', 'itemGetType after the last element went');
  });

  it('sorted set: unionStore combines weighted sources (SUM, MIN, MAX) and replaces the destination', async () => {
    const [a, b, missing] = [name('zu-a'), name('zu-b'), name('zu-missing')];
    await c.sortedSetPutElements(CACHE, a, { x: 1, y: 2 });
    await c.sortedSetPutElements(CACHE, b, { y: 10, z: 5 });
    const sources = [
      { sortedSetName: a, weight: 1 },
      { sortedSetName: b, weight: 2 },
      { sortedSetName: missing, weight: 3 },
    ];
    const dest = name('zu-dest');
    await c.sortedSetPutElements(CACHE, dest, { old: 100 });

    const sum = expectType(await c.sortedSetUnionStore(CACHE, dest, sources), 'Success', 'unionStore (default SUM)');
    assert.equal(sum.length(), 3);
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, dest)), [['x', 1], ['z', 10], ['y', 22]], 'the old contents are replaced');

    const min = await c.sortedSetUnionStore(CACHE, dest, sources, { aggregate: SortedSetAggregate.MIN });
    assert.equal(expectType(min, 'Success', 'unionStore MIN').length(), 3);
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, dest)), [['x', 1], ['y', 2], ['z', 10]]);

    const max = await c.sortedSetUnionStore(CACHE, dest, sources, { aggregate: SortedSetAggregate.MAX });
    assert.equal(expectType(max, 'Success', 'unionStore MAX').length(), 3);
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, dest)), [['x', 1], ['z', 10], ['y', 20]]);

    // The sources are untouched.
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, a)), [['x', 1], ['y', 2]]);
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, b)), [['z', 5], ['y', 10]]);
    expectType(await c.sortedSetFetchByRank(CACHE, missing), 'Miss', 'a missing source is not created');
  });

  // --- types, TTLs ----------------------------------------------------------

  it('itemGetType answers DICTIONARY, SET, LIST, SORTED_SET and SCALAR', async () => {
    const [d, s, l, z, k] = [name('type-d'), name('type-s'), name('type-l'), name('type-z'), name('type-k')];
    await c.dictionarySetField(CACHE, d, 'f', 'v');
    await c.setAddElement(CACHE, s, 'e');
    await c.listPushBack(CACHE, l, 'v');
    await c.sortedSetPutElement(CACHE, z, 'v', 1);
    await c.set(CACHE, k, 'v');
    for (const [key, type] of [[d, ItemType.DICTIONARY], [s, ItemType.SET], [l, ItemType.LIST], [z, ItemType.SORTED_SET], [k, ItemType.SCALAR]]) {
      const hit = expectType(await c.itemGetType(CACHE, key), 'Hit', `itemGetType ${ItemType[type]}`);
      assert.equal(hit.itemType(), type, `${key}: expected ${ItemType[type]}, got ${ItemType[hit.itemType()]}`);
    }
    expectType(await c.itemGetType(CACHE, name('type-none')), 'Miss', 'itemGetType (absent)');

    // keyExists and delete see collections like any item.
    assert.deepEqual((await c.keysExist(CACHE, [d, s, l, z, name('type-none')])).exists(), [true, true, true, true, false]);
    for (const key of [d, s, l, z]) expectType(await c.delete(CACHE, key), 'Success', `delete ${key}`);
    for (const key of [d, s, l, z]) expectType(await c.itemGetType(CACHE, key), 'Miss', `itemGetType after delete ${key}`);
    expectType(await c.dictionaryFetch(CACHE, d), 'Miss', 'dictionaryFetch after delete');
  });

  it('FAILED_PRECONDITION: an operation on a key holding another type', async () => {
    const [d, s, l, z, k] = [name('wt-d'), name('wt-s'), name('wt-l'), name('wt-z'), name('wt-k')];
    await c.dictionarySetField(CACHE, d, 'f', 'v');
    await c.setAddElement(CACHE, s, 'e');
    await c.listPushBack(CACHE, l, 'v');
    await c.sortedSetPutElement(CACHE, z, 'v', 1);
    await c.set(CACHE, k, '1');
    const cases = [
      ['setFetch on a list', () => c.setFetch(CACHE, l)],
      ['setAddElement on a list', () => c.setAddElement(CACHE, l, 'x')],
      ['dictionaryFetch on a list', () => c.dictionaryFetch(CACHE, l)],
      ['sortedSetFetchByRank on a list', () => c.sortedSetFetchByRank(CACHE, l)],
      ['get on a dictionary', () => c.get(CACHE, d)],
      ['increment on a dictionary', () => c.increment(CACHE, d, 1)],
      ['listPushBack on a dictionary', () => c.listPushBack(CACHE, d, 'x')],
      ['setContainsElement on a dictionary', () => c.setContainsElement(CACHE, d, 'x')],
      ['listFetch on a set', () => c.listFetch(CACHE, s)],
      ['dictionarySetField on a set', () => c.dictionarySetField(CACHE, s, 'f', 'v')],
      ['sortedSetPutElement on a set', () => c.sortedSetPutElement(CACHE, s, 'v', 1)],
      ['setContainsElement on a sorted set', () => c.setContainsElement(CACHE, z, 'v')],
      ['dictionaryIncrement on a sorted set', () => c.dictionaryIncrement(CACHE, z, 'f', 1)],
      ['listPopFront on a sorted set', () => c.listPopFront(CACHE, z)],
      ['get on a sorted set', () => c.get(CACHE, z)],
      ['listFetch on a scalar', () => c.listFetch(CACHE, k)],
      ['dictionaryGetField on a scalar', () => c.dictionaryGetField(CACHE, k, 'f')],
      ['setAddElement on a scalar', () => c.setAddElement(CACHE, k, 'x')],
      ['sortedSetIncrementScore on a scalar', () => c.sortedSetIncrementScore(CACHE, k, 'v', 1)],
      ['sortedSetUnionStore from a list', () => c.sortedSetUnionStore(CACHE, name('wt-dest'), [{ sortedSetName: l, weight: 1 }])],
    ];
    const wrong = [];
    for (const [what, run] of cases) {
      const resp = await run();
      if (resp.type !== 'Error' || resp.errorCode() !== WRONG_TYPE) wrong.push(`${what}: ${describeResponse(resp)}`);
    }
    assert.deepEqual(wrong, [], 'each is FAILED_PRECONDITION');

    // Nothing was changed.
    assert.deepEqual((await c.listFetch(CACHE, l)).valueListString(), ['v']);
    assert.deepEqual((await c.dictionaryFetch(CACHE, d)).valueRecord(), { f: 'v' });
    assert.deepEqual((await c.setFetch(CACHE, s)).valueArrayString(), ['e']);
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, z)), [['v', 1]]);
    assert.equal((await c.get(CACHE, k)).valueString(), '1');
  });

  it('collection TTL: refresh=false keeps the TTL set at creation; refresh=true resets it', async () => {
    const writers = {
      dictionary: (n, ttl) => c.dictionarySetField(CACHE, n, 'f', 'v', { ttl }),
      'dictionary increment': (n, ttl) => c.dictionaryIncrement(CACHE, n, 'n', 1, { ttl }),
      set: (n, ttl) => c.setAddElement(CACHE, n, 'e', { ttl }),
      list: (n, ttl) => c.listPushBack(CACHE, n, 'v', { ttl }),
      'list concatenate': (n, ttl) => c.listConcatenateFront(CACHE, n, ['v'], { ttl }),
      'sorted set': (n, ttl) => c.sortedSetPutElement(CACHE, n, 'v', 1, { ttl }),
      'sorted set increment': (n, ttl) => c.sortedSetIncrementScore(CACHE, n, 'v', 1, { ttl }),
    };
    for (const [kind, write] of Object.entries(writers)) {
      const n = name('ttl');
      expectType(await write(n, CollectionTtl.of(60)), 'Success', `${kind}: create with 60 s`);
      assertTtlWithin(await ttlOf(c, n, kind), 55000, 60000, `${kind}: created with 60 s`);

      expectType(await write(n, new CollectionTtl(300, false)), 'Success', `${kind}: write 300 s, no refresh`);
      assertTtlWithin(await ttlOf(c, n, kind), 55000, 60000, `${kind}: a no-refresh write keeps the creation TTL`);
      expectType(await write(n, CollectionTtl.of(300).withNoRefreshTtlOnUpdates()), 'Success', `${kind}: withNoRefreshTtlOnUpdates`);
      assertTtlWithin(await ttlOf(c, n, kind), 55000, 60000, `${kind}: withNoRefreshTtlOnUpdates keeps it too`);

      expectType(await write(n, CollectionTtl.of(300)), 'Success', `${kind}: write 300 s, refresh`);
      assertTtlWithin(await ttlOf(c, n, kind), 295000, 300000, `${kind}: a refresh write resets the TTL`);
      expectType(await write(n, new CollectionTtl(20, true)), 'Success', `${kind}: write 20 s, refresh`);
      assertTtlWithin(await ttlOf(c, n, kind), 15000, 20000, `${kind}: a refresh resets to a shorter TTL too`);

      // A write that creates the collection sets its TTL even without refresh.
      const created = name('ttl-create');
      expectType(await write(created, new CollectionTtl(45, false)), 'Success', `${kind}: create with 45 s, no refresh`);
      assertTtlWithin(await ttlOf(c, created, kind), 40000, 45000, `${kind}: a no-refresh write that creates sets the TTL`);
    }

    // No CollectionTtl: the client's default TTL (60 s), refreshed.
    const d = name('ttl-default');
    await c.dictionarySetField(CACHE, d, 'f', 'v', { ttl: CollectionTtl.of(10) });
    await c.dictionarySetField(CACHE, d, 'g', 'v');
    assertTtlWithin(await ttlOf(c, d, 'default'), 55000, 60000, 'a write without a TTL refreshes to the client default');
    expectType(await c.itemGetTtl(CACHE, name('ttl-absent')), 'Miss', 'itemGetTtl of a missing collection');
  });

  it('collection TTL: a collection expires at its TTL; a no-refresh write does not extend it', async () => {
    const [kept, refreshed, list] = [name('exp-kept'), name('exp-refreshed'), name('exp-list')];
    await c.dictionarySetField(CACHE, kept, 'f', 'v', { ttl: CollectionTtl.of(1) });
    await c.dictionarySetField(CACHE, refreshed, 'f', 'v', { ttl: CollectionTtl.of(1) });
    await c.listPushBack(CACHE, list, 'v', { ttl: CollectionTtl.of(1) });
    await sleep(400);
    expectType(await c.dictionarySetField(CACHE, kept, 'g', 'v', { ttl: new CollectionTtl(60, false) }), 'Success', 'no-refresh write');
    expectType(await c.dictionarySetField(CACHE, refreshed, 'g', 'v', { ttl: CollectionTtl.of(60) }), 'Success', 'refresh write');
    expectType(await c.listPushBack(CACHE, list, 'w', { ttl: new CollectionTtl(60, false) }), 'Success', 'no-refresh push');
    expectType(await c.dictionaryFetch(CACHE, kept), 'Hit', 'before expiry');
    await sleep(1000);
    expectType(await c.dictionaryFetch(CACHE, kept), 'Miss', 'the no-refresh dictionary expired at its creation TTL');
    expectType(await c.dictionaryGetField(CACHE, kept, 'g'), 'Miss', 'with the field written later');
    expectType(await c.listFetch(CACHE, list), 'Miss', 'the no-refresh list expired at its creation TTL');
    expectType(await c.itemGetType(CACHE, list), 'Miss', 'itemGetType of the expired list');
    const hit = expectType(await c.dictionaryFetch(CACHE, refreshed), 'Hit', 'the refreshed dictionary lives on');
    assert.deepEqual(hit.valueRecord(), { f: 'v', g: 'v' });
  });

  // --- denials --------------------------------------------------------------

  /** Runs each `[what, fn]`, collecting those that are not PERMISSION_ERROR. */
  async function notDenied(client, cases) {
    const wrong = [];
    for (const [what, run] of cases) {
      const resp = await run(client);
      if (resp.type !== 'Error' || resp.errorCode() !== DENIED) wrong.push(`${what}: ${describeResponse(resp)}`);
    }
    return wrong;
  }

  /** Runs each `[what, fn, okTypes]`, collecting those not answered with one of okTypes. */
  async function notAllowed(client, cases) {
    const wrong = [];
    for (const [what, run, ok] of cases) {
      const resp = await run(client);
      if (!ok.includes(resp.type)) wrong.push(`${what}: expected ${ok.join('|')}, got ${describeResponse(resp)}`);
    }
    return wrong;
  }

  /** One collection of each kind, made with the superuser. */
  async function seed(prefix) {
    const n = { d: name(`${prefix}-d`), s: name(`${prefix}-s`), l: name(`${prefix}-l`), z: name(`${prefix}-z`) };
    await c.dictionarySetFields(CACHE, n.d, { f: 'v', n: '1' });
    await c.setAddElements(CACHE, n.s, ['a', 'b']);
    await c.listConcatenateBack(CACHE, n.l, ['a', 'b']);
    await c.sortedSetPutElements(CACHE, n.z, { a: 1, b: 2 });
    return n;
  }

  async function unchanged(n) {
    assert.deepEqual((await c.dictionaryFetch(CACHE, n.d)).valueRecord(), { f: 'v', n: '1' }, 'dictionary unchanged');
    assert.deepEqual(sorted((await c.setFetch(CACHE, n.s)).valueArrayString()), ['a', 'b'], 'set unchanged');
    assert.deepEqual((await c.listFetch(CACHE, n.l)).valueListString(), ['a', 'b'], 'list unchanged');
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, n.z)), [['a', 1], ['b', 2]], 'sorted set unchanged');
  }

  it('PERMISSION_ERROR: a read-only token reads collections but cannot write, increment or pop', async () => {
    const n = await seed('ro');
    const ro = gw.cacheClient(await gw.mintDisposable(TokenScopes.cacheReadOnly(CACHE), ExpiresIn.minutes(5)));
    const absent = name('ro-absent');
    assert.deepEqual(
      await notAllowed(ro, [
        ['dictionaryFetch', x => x.dictionaryFetch(CACHE, n.d), ['Hit']],
        ['dictionaryGetField', x => x.dictionaryGetField(CACHE, n.d, 'f'), ['Hit']],
        ['dictionaryGetFields', x => x.dictionaryGetFields(CACHE, n.d, ['f']), ['Hit']],
        ['dictionaryLength', x => x.dictionaryLength(CACHE, n.d), ['Hit']],
        ['setFetch', x => x.setFetch(CACHE, n.s), ['Hit']],
        ['setContainsElement', x => x.setContainsElement(CACHE, n.s, 'a'), ['Hit']],
        ['setContainsElements', x => x.setContainsElements(CACHE, n.s, ['a']), ['Hit']],
        ['setLength', x => x.setLength(CACHE, n.s), ['Hit']],
        ['setSample', x => x.setSample(CACHE, n.s, 1), ['Hit']],
        ['listFetch', x => x.listFetch(CACHE, n.l), ['Hit']],
        ['listLength', x => x.listLength(CACHE, n.l), ['Hit']],
        ['sortedSetFetchByRank', x => x.sortedSetFetchByRank(CACHE, n.z), ['Hit']],
        ['sortedSetFetchByScore', x => x.sortedSetFetchByScore(CACHE, n.z, { minScore: 0 }), ['Hit']],
        ['sortedSetGetRank', x => x.sortedSetGetRank(CACHE, n.z, 'a'), ['Hit']],
        ['sortedSetGetScore', x => x.sortedSetGetScore(CACHE, n.z, 'a'), ['Hit']],
        ['sortedSetLength', x => x.sortedSetLength(CACHE, n.z), ['Hit']],
        ['sortedSetLengthByScore', x => x.sortedSetLengthByScore(CACHE, n.z, { minScore: 0 }), ['Hit']],
        ['itemGetType', x => x.itemGetType(CACHE, n.l), ['Hit']],
        ['itemGetTtl', x => x.itemGetTtl(CACHE, n.z), ['Hit']],
        ['listFetch (absent)', x => x.listFetch(CACHE, absent), ['Miss']],
        ['dictionaryFetch (absent)', x => x.dictionaryFetch(CACHE, absent), ['Miss']],
      ]),
      [],
      'the read-only token reads',
    );
    assert.deepEqual(
      await notDenied(ro, [
        ['dictionarySetField', x => x.dictionarySetField(CACHE, n.d, 'f', 'x')],
        ['dictionarySetFields', x => x.dictionarySetFields(CACHE, n.d, { g: 'x' })],
        ['dictionaryIncrement', x => x.dictionaryIncrement(CACHE, n.d, 'n', 1)],
        ['dictionaryRemoveField', x => x.dictionaryRemoveField(CACHE, n.d, 'f')],
        ['setAddElement', x => x.setAddElement(CACHE, n.s, 'x')],
        ['setRemoveElement', x => x.setRemoveElement(CACHE, n.s, 'a')],
        ['setPop', x => x.setPop(CACHE, n.s, 1)],
        ['listPushBack', x => x.listPushBack(CACHE, n.l, 'x')],
        ['listPushFront', x => x.listPushFront(CACHE, n.l, 'x')],
        ['listConcatenateBack', x => x.listConcatenateBack(CACHE, n.l, ['x'])],
        ['listPopFront', x => x.listPopFront(CACHE, n.l)],
        ['listPopBack', x => x.listPopBack(CACHE, n.l)],
        ['listRemoveValue', x => x.listRemoveValue(CACHE, n.l, 'a')],
        ['listRetain', x => x.listRetain(CACHE, n.l, { startIndex: 1 })],
        ['sortedSetPutElement', x => x.sortedSetPutElement(CACHE, n.z, 'x', 1)],
        ['sortedSetIncrementScore', x => x.sortedSetIncrementScore(CACHE, n.z, 'a', 1)],
        ['sortedSetRemoveElement', x => x.sortedSetRemoveElement(CACHE, n.z, 'a')],
        ['sortedSetUnionStore', x => x.sortedSetUnionStore(CACHE, name('ro-dest'), [{ sortedSetName: n.z, weight: 1 }])],
        ['dictionarySetField (absent)', x => x.dictionarySetField(CACHE, absent, 'f', 'x')],
        ['listPushBack (absent)', x => x.listPushBack(CACHE, absent, 'x')],
      ]),
      [],
      'every write is PERMISSION_ERROR for the read-only token',
    );
    await unchanged(n);
    expectType(await c.itemGetType(CACHE, absent), 'Miss', 'nothing was created');
  });

  it('PERMISSION_ERROR: a write-only token writes collections but cannot fetch, pop or increment', async () => {
    const n = await seed('wo');
    const wo = gw.cacheClient(await gw.mintDisposable(TokenScopes.cacheWriteOnly(CACHE), ExpiresIn.minutes(5)));
    assert.deepEqual(
      await notDenied(wo, [
        ['dictionaryFetch', x => x.dictionaryFetch(CACHE, n.d)],
        ['dictionaryGetField', x => x.dictionaryGetField(CACHE, n.d, 'f')],
        ['dictionaryLength', x => x.dictionaryLength(CACHE, n.d)],
        ['dictionaryIncrement', x => x.dictionaryIncrement(CACHE, n.d, 'n', 1)],
        ['setFetch', x => x.setFetch(CACHE, n.s)],
        ['setContainsElement', x => x.setContainsElement(CACHE, n.s, 'a')],
        ['setSample', x => x.setSample(CACHE, n.s, 1)],
        ['setPop', x => x.setPop(CACHE, n.s, 1)],
        ['listFetch', x => x.listFetch(CACHE, n.l)],
        ['listLength', x => x.listLength(CACHE, n.l)],
        ['listPopFront', x => x.listPopFront(CACHE, n.l)],
        ['listPopBack', x => x.listPopBack(CACHE, n.l)],
        ['sortedSetFetchByRank', x => x.sortedSetFetchByRank(CACHE, n.z)],
        ['sortedSetFetchByScore', x => x.sortedSetFetchByScore(CACHE, n.z)],
        ['sortedSetGetScore', x => x.sortedSetGetScore(CACHE, n.z, 'a')],
        ['sortedSetGetRank', x => x.sortedSetGetRank(CACHE, n.z, 'a')],
        ['sortedSetIncrementScore', x => x.sortedSetIncrementScore(CACHE, n.z, 'a', 1)],
        ['itemGetType', x => x.itemGetType(CACHE, n.l)],
      ]),
      [],
      'every read (and read-modify-write) is PERMISSION_ERROR for the write-only token',
    );
    await unchanged(n);

    const w = name('wo-new');
    assert.deepEqual(
      await notAllowed(wo, [
        ['dictionarySetField', x => x.dictionarySetField(CACHE, `${w}-d`, 'f', 'v'), ['Success']],
        ['dictionarySetFields', x => x.dictionarySetFields(CACHE, `${w}-d`, { g: 'v', h: 'v' }), ['Success']],
        ['dictionaryRemoveField', x => x.dictionaryRemoveField(CACHE, `${w}-d`, 'h'), ['Success']],
        ['setAddElements', x => x.setAddElements(CACHE, `${w}-s`, ['a', 'b']), ['Success']],
        ['setRemoveElement', x => x.setRemoveElement(CACHE, `${w}-s`, 'b'), ['Success']],
        ['sortedSetPutElements', x => x.sortedSetPutElements(CACHE, `${w}-z`, { a: 1, b: 2 }), ['Success']],
        ['sortedSetRemoveElement', x => x.sortedSetRemoveElement(CACHE, `${w}-z`, 'b'), ['Success']],
      ]),
      [],
      'the write-only token writes',
    );
    assert.deepEqual((await c.dictionaryFetch(CACHE, `${w}-d`)).valueRecord(), { f: 'v', g: 'v' });
    assert.deepEqual((await c.setFetch(CACHE, `${w}-s`)).valueArrayString(), ['a']);
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, `${w}-z`)), [['a', 1]]);
  });

  it('PERMISSION_ERROR: a key-prefix token applies to collection names', async () => {
    const prefix = `${name('pfx')}/`;
    const inside = `${prefix}c`;
    const outside = name('elsewhere');
    await c.dictionarySetField(CACHE, outside, 'f', 'v');
    await c.sortedSetPutElements(CACHE, `${outside}-z`, { a: 1 });
    const p = gw.cacheClient(await gw.mintDisposable(DisposableTokenScopes.cacheKeyPrefixReadWrite(CACHE, prefix), ExpiresIn.minutes(5)));

    assert.deepEqual(
      await notAllowed(p, [
        ['dictionaryFetch (absent, inside)', x => x.dictionaryFetch(CACHE, `${inside}-d`), ['Miss']],
        // A dictionary's field is not a key: a field outside the prefix is fine.
        ['dictionarySetField', x => x.dictionarySetField(CACHE, `${inside}-d`, 'not-prefixed', 'v'), ['Success']],
        ['dictionaryIncrement', x => x.dictionaryIncrement(CACHE, `${inside}-d`, 'n', 2), ['Success']],
        ['dictionaryFetch', x => x.dictionaryFetch(CACHE, `${inside}-d`), ['Hit']],
        ['setAddElement', x => x.setAddElement(CACHE, `${inside}-s`, 'outside-looking-element'), ['Success']],
        ['setFetch', x => x.setFetch(CACHE, `${inside}-s`), ['Hit']],
        ['setPop', x => x.setPop(CACHE, `${inside}-s`, 1), ['Hit']],
        ['listPushBack', x => x.listPushBack(CACHE, `${inside}-l`, 'v'), ['Success']],
        ['listFetch', x => x.listFetch(CACHE, `${inside}-l`), ['Hit']],
        ['listPopFront', x => x.listPopFront(CACHE, `${inside}-l`), ['Hit']],
        ['sortedSetPutElement', x => x.sortedSetPutElement(CACHE, `${inside}-z`, 'v', 1), ['Success']],
        ['sortedSetFetchByScore', x => x.sortedSetFetchByScore(CACHE, `${inside}-z`), ['Hit']],
        ['sortedSetUnionStore (inside)', x => x.sortedSetUnionStore(CACHE, `${inside}-u`, [{ sortedSetName: `${inside}-z`, weight: 1 }]), ['Success']],
        ['itemGetType', x => x.itemGetType(CACHE, `${inside}-d`), ['Hit']],
      ]),
      [],
      'inside the prefix every collection operation is allowed',
    );
    assert.deepEqual((await c.dictionaryFetch(CACHE, `${inside}-d`)).valueRecord(), { 'not-prefixed': 'v', n: '2' });
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, `${inside}-u`)), [['v', 1]]);

    assert.deepEqual(
      await notDenied(p, [
        ['dictionaryFetch', x => x.dictionaryFetch(CACHE, outside)],
        ['dictionaryGetField', x => x.dictionaryGetField(CACHE, outside, 'f')],
        ['dictionarySetField', x => x.dictionarySetField(CACHE, outside, 'f', 'x')],
        ['dictionaryIncrement', x => x.dictionaryIncrement(CACHE, outside, 'n', 1)],
        // An absent collection outside the prefix is PERMISSION_ERROR, not a miss.
        ['listFetch (absent)', x => x.listFetch(CACHE, `${outside}-l`)],
        ['listPushBack', x => x.listPushBack(CACHE, `${outside}-l`, 'x')],
        ['setAddElement', x => x.setAddElement(CACHE, `${outside}-s`, 'x')],
        ['setFetch (absent)', x => x.setFetch(CACHE, `${outside}-s`)],
        ['sortedSetFetchByScore', x => x.sortedSetFetchByScore(CACHE, `${outside}-z`)],
        ['sortedSetPutElement', x => x.sortedSetPutElement(CACHE, `${outside}-z`, 'x', 1)],
        // The prefix itself without its trailing part, and a name that only contains it.
        ['dictionaryFetch (prefix minus its slash)', x => x.dictionaryFetch(CACHE, prefix.slice(0, -1))],
        ['listFetch (prefix not at the start)', x => x.listFetch(CACHE, `x${prefix}l`)],
        // A union store needs the destination and every source in scope.
        ['sortedSetUnionStore (source outside)', x => x.sortedSetUnionStore(CACHE, `${inside}-u2`, [{ sortedSetName: `${outside}-z`, weight: 1 }])],
        ['sortedSetUnionStore (destination outside)', x => x.sortedSetUnionStore(CACHE, `${outside}-u`, [{ sortedSetName: `${inside}-z`, weight: 1 }])],
      ]),
      [],
      'outside the prefix every collection operation is PERMISSION_ERROR',
    );
    assert.deepEqual((await c.dictionaryFetch(CACHE, outside)).valueRecord(), { f: 'v' }, 'the outside dictionary is unchanged');
    expectType(await c.listFetch(CACHE, `${outside}-l`), 'Miss', 'no list was created outside');
    expectType(await c.sortedSetFetchByRank(CACHE, `${inside}-u2`), 'Miss', 'the refused union stored nothing');
    expectType(await c.sortedSetFetchByRank(CACHE, `${outside}-u`), 'Miss', 'the refused union stored nothing outside');
  });

  // --- bad input ------------------------------------------------------------

  it('INVALID_ARGUMENT: a NaN score is refused and nothing is stored', async () => {
    const z = name('zset-nan');
    const cases = [
      ['sortedSetPutElement', () => c.sortedSetPutElement(CACHE, z, 'x', NaN)],
      ['sortedSetPutElements', () => c.sortedSetPutElements(CACHE, z, { y: 1, x: NaN })],
      // The SDK's sortedSetIncrementScore sends `amount || 1` (a NaN becomes
      // 1), so the NaN increment goes below it.
      ['SortedSetIncrement', () => c.dataClients[0].sendSortedSetIncrementScore(CACHE, Buffer.from(z), Buffer.from('x'), NaN, 60000, true)],
    ];
    const wrong = [];
    for (const [what, run] of cases) {
      const resp = await run();
      if (resp.type !== 'Error' || resp.errorCode() !== INVALID) wrong.push(`${what}: ${describeResponse(resp)}`);
    }
    assert.deepEqual(wrong, [], 'a NaN score is INVALID_ARGUMENT (from the SDK or the gateway)');
    expectType(await c.sortedSetFetchByRank(CACHE, z), 'Miss', 'nothing was stored');

    // On an existing set the element keeps its score.
    await c.sortedSetPutElement(CACHE, z, 'x', 1);
    expectError(await c.sortedSetPutElement(CACHE, z, 'x', NaN), INVALID, 'NaN over an existing score');
    const incr = await c.dataClients[0].sendSortedSetIncrementScore(CACHE, Buffer.from(z), Buffer.from('x'), NaN, 60000, true);
    expectError(incr, INVALID, 'NaN increment of an existing score');
    assert.deepEqual(pairs(await c.sortedSetFetchByRank(CACHE, z)), [['x', 1]]);
  });

  it('INVALID_ARGUMENT: an empty collection name (refused by the SDK, and by the gateway on the wire)', async () => {
    // The SDK validates collection names itself: no request is sent.
    for (const [what, resp] of [
      ['dictionaryFetch', await c.dictionaryFetch(CACHE, '')],
      ['dictionarySetField', await c.dictionarySetField(CACHE, '', 'f', 'v')],
      ['setAddElement', await c.setAddElement(CACHE, '', 'e')],
      ['setFetch', await c.setFetch(CACHE, '')],
      ['listPushBack', await c.listPushBack(CACHE, '', 'v')],
      ['listFetch', await c.listFetch(CACHE, '')],
      ['sortedSetPutElement', await c.sortedSetPutElement(CACHE, '', 'v', 1)],
      ['sortedSetFetchByRank', await c.sortedSetFetchByRank(CACHE, '')],
    ]) {
      const err = expectError(resp, INVALID, `empty name: ${what}`);
      assert.match(err.message(), /name must not be empty/, `${what}: ${err.message()}`);
    }

    // Below the SDK's validation, the same requests reach the gateway, which
    // must answer INVALID_ARGUMENT (gRPC 3) for each.
    const dc = c.dataClients[0];
    const empty = new Uint8Array(0);
    const v = Buffer.from('v');
    const wrong = [];
    for (const [what, resp] of [
      ['DictionaryFetch', await dc.sendDictionaryFetch(CACHE, empty)],
      ['DictionarySet', await dc.sendDictionarySetField(CACHE, empty, v, v, 60000, true)],
      ['DictionaryIncrement', await dc.sendDictionaryIncrement(CACHE, empty, v, 1, 60000, true)],
      ['SetUnion', await dc.sendSetAddElements(CACHE, empty, [v], 60000, true)],
      ['SetFetch', await dc.sendSetFetch(CACHE, empty)],
      ['ListPushBack', await dc.sendListPushBack(CACHE, empty, v, 60000, true, undefined)],
      ['ListFetch', await dc.sendListFetch(CACHE, empty, undefined, undefined)],
      ['ListLength', await dc.sendListLength(CACHE, empty)],
      ['SortedSetPut', await dc.sendSortedSetPutElement(CACHE, empty, v, 1, 60000, true)],
      ['SortedSetFetch', await dc.sendSortedSetFetchByRank(CACHE, empty, Ascending, undefined, undefined)],
      ['SortedSetLength', await dc.sendSortedSetLength(CACHE, empty)],
    ]) {
      const code = resp.type === 'Error' ? resp.errorCode() : undefined;
      const grpc = resp.type === 'Error' ? grpcCode(resp) : undefined;
      if (code !== INVALID || grpc !== 3) wrong.push(`${what}: ${describeResponse(resp)}`);
    }
    assert.deepEqual(wrong, [], 'an empty collection name is INVALID_ARGUMENT at the gateway for every RPC');
  });
});
