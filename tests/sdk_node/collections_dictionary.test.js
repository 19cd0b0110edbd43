'use strict';
// Dictionaries through the Node SDK against one gateway: hits, misses, binary
// fields and values, increments, and deletion of an emptied dictionary.
// The notes shared by the collection tests are in collections_helpers.js.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { CACHE, gatewayForSuite, expectType, expectError, uniqueName } = require('./harness');
const { WRONG_TYPE } = require('./collections_helpers');

describe('collections: dictionaries', () => {
  let c;
  const name = uniqueName;

  gatewayForSuite(g => {
    c = g.cacheClient();
  });

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
});
