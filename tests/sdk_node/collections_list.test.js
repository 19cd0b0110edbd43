'use strict';
// Lists through the Node SDK against one gateway: hits, misses, push,
// concatenate and pop at both ends, ranges, truncation, removal and retain.
// The notes shared by the collection tests are in collections_helpers.js.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { CACHE, gatewayForSuite, expectType, uniqueName } = require('./harness');

describe('collections: lists', () => {
  let c;
  const name = uniqueName;

  gatewayForSuite(g => {
    c = g.cacheClient();
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
});
