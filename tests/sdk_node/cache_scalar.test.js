'use strict';
// Every scalar CacheClient method of the Node SDK, with the superuser, against
// one gateway: hits, misses, conditional writes, TTLs, batches, increments,
// hashes, binary keys and values.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { sdk, CACHE, gatewayForSuite, expectType, expectError, uniqueName, sleep } = require('./harness');
const { MomentoErrorCode, ItemType } = sdk;

describe('scalar cache methods', () => {
  let c;
  const key = uniqueName;

  gatewayForSuite(g => {
    c = g.cacheClient();
  });

  it('set then get hits, an absent key misses, delete removes', async () => {
    const k = key('plain');
    expectType(await c.set(CACHE, k, 'hello'), 'Success', 'set');
    const hit = expectType(await c.get(CACHE, k), 'Hit', 'get');
    assert.equal(hit.valueString(), 'hello');
    assert.deepEqual(Buffer.from(hit.valueUint8Array()), Buffer.from('hello'));
    expectType(await c.get(CACHE, key('absent')), 'Miss', 'get absent');
    expectType(await c.delete(CACHE, k), 'Success', 'delete');
    expectType(await c.get(CACHE, k), 'Miss', 'get after delete');
    expectType(await c.delete(CACHE, k), 'Success', 'delete of an absent key');
  });

  it('binary keys and values round-trip byte for byte', async () => {
    const k = Uint8Array.from([0xff, 0x00, 0xfe, 0x80]);
    const v = Uint8Array.from([0, 1, 2, 253, 254, 255]);
    expectType(await c.set(CACHE, k, v), 'Success', 'set binary');
    const hit = expectType(await c.get(CACHE, k), 'Hit', 'get binary');
    assert.deepEqual(Buffer.from(hit.valueUint8Array()), Buffer.from(v));
    // A different binary key with the same UTF-8 lossy rendering misses.
    expectType(await c.get(CACHE, Uint8Array.from([0xff, 0x00, 0xfe, 0x81])), 'Miss', 'other key');
    expectType(await c.keyExists(CACHE, k), 'Success', 'keyExists binary');
    assert.equal((await c.keyExists(CACHE, k)).exists(), true);
  });

  it('setIfNotExists and setIfAbsent store only when absent', async () => {
    const k = key('absent-only');
    expectType(await c.setIfNotExists(CACHE, k, 'one'), 'Stored', 'setIfNotExists (absent)');
    expectType(await c.setIfNotExists(CACHE, k, 'two'), 'NotStored', 'setIfNotExists (present)');
    assert.equal((await c.get(CACHE, k)).valueString(), 'one');

    const k2 = key('absent-only-2');
    expectType(await c.setIfAbsent(CACHE, k2, 'one'), 'Stored', 'setIfAbsent (absent)');
    expectType(await c.setIfAbsent(CACHE, k2, 'two'), 'NotStored', 'setIfAbsent (present)');
    assert.equal((await c.get(CACHE, k2)).valueString(), 'one');
  });

  it('setIfPresent stores only over an existing item', async () => {
    const k = key('present');
    expectType(await c.setIfPresent(CACHE, k, 'x'), 'NotStored', 'setIfPresent (absent)');
    expectType(await c.get(CACHE, k), 'Miss', 'still absent');
    await c.set(CACHE, k, 'a');
    expectType(await c.setIfPresent(CACHE, k, 'b'), 'Stored', 'setIfPresent (present)');
    assert.equal((await c.get(CACHE, k)).valueString(), 'b');
  });

  it('setIfEqual and setIfNotEqual compare with the stored value', async () => {
    const k = key('eq');
    expectType(await c.setIfEqual(CACHE, k, 'x', 'a'), 'NotStored', 'setIfEqual (absent)');
    await c.set(CACHE, k, 'a');
    expectType(await c.setIfEqual(CACHE, k, 'x', 'zzz'), 'NotStored', 'setIfEqual (differs)');
    expectType(await c.setIfEqual(CACHE, k, 'b', 'a'), 'Stored', 'setIfEqual (equal)');
    assert.equal((await c.get(CACHE, k)).valueString(), 'b');

    expectType(await c.setIfNotEqual(CACHE, k, 'c', 'b'), 'NotStored', 'setIfNotEqual (equal)');
    expectType(await c.setIfNotEqual(CACHE, k, 'c', 'zzz'), 'Stored', 'setIfNotEqual (differs)');
    assert.equal((await c.get(CACHE, k)).valueString(), 'c');
    const absent = key('neq-absent');
    expectType(await c.setIfNotEqual(CACHE, absent, 'v', 'zzz'), 'Stored', 'setIfNotEqual (absent)');
    assert.equal((await c.get(CACHE, absent)).valueString(), 'v');
  });

  it('setIfPresentAndNotEqual and setIfAbsentOrEqual', async () => {
    const k = key('pne');
    expectType(await c.setIfPresentAndNotEqual(CACHE, k, 'x', 'q'), 'NotStored', 'PresentAndNotEqual (absent)');
    await c.set(CACHE, k, 'a');
    expectType(await c.setIfPresentAndNotEqual(CACHE, k, 'x', 'a'), 'NotStored', 'PresentAndNotEqual (equal)');
    expectType(await c.setIfPresentAndNotEqual(CACHE, k, 'x', 'q'), 'Stored', 'PresentAndNotEqual (differs)');
    assert.equal((await c.get(CACHE, k)).valueString(), 'x');

    const k2 = key('aoe');
    expectType(await c.setIfAbsentOrEqual(CACHE, k2, 'one', 'zzz'), 'Stored', 'AbsentOrEqual (absent)');
    expectType(await c.setIfAbsentOrEqual(CACHE, k2, 'two', 'zzz'), 'NotStored', 'AbsentOrEqual (differs)');
    expectType(await c.setIfAbsentOrEqual(CACHE, k2, 'two', 'one'), 'Stored', 'AbsentOrEqual (equal)');
    assert.equal((await c.get(CACHE, k2)).valueString(), 'two');
  });

  it('getWithHash, setWithHash and the hash-conditional sets', async () => {
    const k = key('hash');
    expectType(await c.getWithHash(CACHE, k), 'Miss', 'getWithHash (absent)');
    const stored = expectType(await c.setWithHash(CACHE, k, 'v1'), 'Stored', 'setWithHash');
    const h1 = stored.hashUint8Array();
    assert.ok(h1.length > 0, 'setWithHash returns a hash');
    const got = expectType(await c.getWithHash(CACHE, k), 'Hit', 'getWithHash');
    assert.equal(got.valueString(), 'v1');
    assert.deepEqual(Buffer.from(got.hashUint8Array()), Buffer.from(h1));

    const other = Uint8Array.from(Buffer.alloc(h1.length, 7));
    expectType(await c.setIfPresentAndHashEqual(CACHE, k, 'v2', other), 'NotStored', 'PresentAndHashEqual (differs)');
    const s2 = expectType(await c.setIfPresentAndHashEqual(CACHE, k, 'v2', h1), 'Stored', 'PresentAndHashEqual (equal)');
    const h2 = s2.hashUint8Array();
    assert.notDeepEqual(Buffer.from(h2), Buffer.from(h1), 'a new value has a new hash');
    expectType(await c.setIfPresentAndHashNotEqual(CACHE, k, 'v3', h2), 'NotStored', 'PresentAndHashNotEqual (equal)');
    expectType(await c.setIfPresentAndHashNotEqual(CACHE, k, 'v3', h1), 'Stored', 'PresentAndHashNotEqual (differs)');
    assert.equal((await c.get(CACHE, k)).valueString(), 'v3');

    const k2 = key('hash-absent');
    expectType(await c.setIfPresentAndHashEqual(CACHE, k2, 'x', h1), 'NotStored', 'PresentAndHashEqual (absent)');
    expectType(await c.setIfAbsentOrHashEqual(CACHE, k2, 'a1', h1), 'Stored', 'AbsentOrHashEqual (absent)');
    const ha = (await c.getWithHash(CACHE, k2)).hashUint8Array();
    expectType(await c.setIfAbsentOrHashEqual(CACHE, k2, 'a2', h1), 'NotStored', 'AbsentOrHashEqual (differs)');
    expectType(await c.setIfAbsentOrHashEqual(CACHE, k2, 'a2', ha), 'Stored', 'AbsentOrHashEqual (equal)');
    const ha2 = (await c.getWithHash(CACHE, k2)).hashUint8Array();
    expectType(await c.setIfAbsentOrHashNotEqual(CACHE, k2, 'a3', ha2), 'NotStored', 'AbsentOrHashNotEqual (equal)');
    expectType(await c.setIfAbsentOrHashNotEqual(CACHE, k2, 'a3', h1), 'Stored', 'AbsentOrHashNotEqual (differs)');
    assert.equal((await c.get(CACHE, k2)).valueString(), 'a3');
    const k3 = key('hash-absent-3');
    expectType(await c.setIfAbsentOrHashNotEqual(CACHE, k3, 'n', h1), 'Stored', 'AbsentOrHashNotEqual (absent)');
  });

  it('itemGetTtl reads the TTL a set gave; updateTtl overwrites it', async () => {
    const k = key('ttl');
    await c.set(CACHE, k, 'v', { ttl: 30 });
    const ttl = expectType(await c.itemGetTtl(CACHE, k), 'Hit', 'itemGetTtl').remainingTtlMillis();
    assert.ok(ttl > 25000 && ttl <= 30000, `remaining TTL ${ttl} ms for a 30 s item`);
    expectType(await c.itemGetTtl(CACHE, key('ttl-absent')), 'Miss', 'itemGetTtl (absent)');

    expectType(await c.updateTtl(CACHE, k, 120000), 'Set', 'updateTtl');
    const after = (await c.itemGetTtl(CACHE, k)).remainingTtlMillis();
    assert.ok(after > 115000 && after <= 120000, `TTL after updateTtl: ${after}`);
    expectType(await c.updateTtl(CACHE, key('ttl-absent'), 1000), 'Miss', 'updateTtl (absent)');
  });

  it('increaseTtl only raises and decreaseTtl only lowers the TTL', async () => {
    const k = key('ttl2');
    await c.set(CACHE, k, 'v', { ttl: 60 });
    expectType(await c.increaseTtl(CACHE, k, 10000), 'NotSet', 'increaseTtl to less');
    expectType(await c.increaseTtl(CACHE, k, 300000), 'Set', 'increaseTtl to more');
    let ttl = (await c.itemGetTtl(CACHE, k)).remainingTtlMillis();
    assert.ok(ttl > 290000, `TTL after increaseTtl: ${ttl}`);
    expectType(await c.decreaseTtl(CACHE, k, 900000), 'NotSet', 'decreaseTtl to more');
    expectType(await c.decreaseTtl(CACHE, k, 20000), 'Set', 'decreaseTtl to less');
    ttl = (await c.itemGetTtl(CACHE, k)).remainingTtlMillis();
    assert.ok(ttl > 15000 && ttl <= 20000, `TTL after decreaseTtl: ${ttl}`);
    expectType(await c.increaseTtl(CACHE, key('absent'), 1000), 'Miss', 'increaseTtl (absent)');
    expectType(await c.decreaseTtl(CACHE, key('absent'), 1000), 'Miss', 'decreaseTtl (absent)');
  });

  it('an item expires when its TTL runs out', async () => {
    const k = key('expiring');
    await c.set(CACHE, k, 'v', { ttl: 1 });
    expectType(await c.get(CACHE, k), 'Hit', 'before expiry');
    await sleep(1300);
    expectType(await c.get(CACHE, k), 'Miss', 'after expiry');
  });

  it('keyExists and keysExist', async () => {
    const [a, b, missing] = [key('ex-a'), key('ex-b'), key('ex-missing')];
    await c.set(CACHE, a, '1');
    await c.set(CACHE, b, '2');
    assert.equal(expectType(await c.keyExists(CACHE, a), 'Success', 'keyExists').exists(), true);
    assert.equal((await c.keyExists(CACHE, missing)).exists(), false);
    const many = expectType(await c.keysExist(CACHE, [a, missing, b]), 'Success', 'keysExist');
    assert.deepEqual(many.exists(), [true, false, true]);
    assert.deepEqual(many.valueRecord(), { [a]: true, [missing]: false, [b]: true });
  });

  it('setBatch stores every item and getBatch reads hits and misses in order', async () => {
    const [a, b, missing] = [key('batch-a'), key('batch-b'), key('batch-missing')];
    const set = expectType(await c.setBatch(CACHE, { [a]: 'A', [b]: 'B' }, { ttl: 45 }), 'Success', 'setBatch');
    assert.deepEqual(set.results().map(r => r.type), ['Success', 'Success']);
    const ttl = (await c.itemGetTtl(CACHE, b)).remainingTtlMillis();
    assert.ok(ttl > 40000 && ttl <= 45000, `setBatch's ttl applies: ${ttl}`);

    const got = expectType(await c.getBatch(CACHE, [a, missing, b]), 'Success', 'getBatch');
    assert.deepEqual(got.results().map(r => r.type), ['Hit', 'Miss', 'Hit']);
    assert.deepEqual(got.values(), { [a]: 'A', [b]: 'B' });

    // The Map form, with binary keys.
    const bin = Uint8Array.from([0xfa, 0x01]);
    expectType(await c.setBatch(CACHE, new Map([[bin, Uint8Array.from([9, 8])]])), 'Success', 'setBatch (Map)');
    const hit = expectType(await c.get(CACHE, bin), 'Hit', 'binary batch item');
    assert.deepEqual([...hit.valueUint8Array()], [9, 8]);
  });

  it('increment counts from absent and refuses a non-integer value', async () => {
    const k = key('counter');
    assert.equal(expectType(await c.increment(CACHE, k, 5), 'Success', 'increment').value(), 5);
    assert.equal((await c.increment(CACHE, k, -7)).value(), -2);
    assert.equal((await c.increment(CACHE, k)).value(), -1, 'the default amount is 1');
    assert.equal((await c.get(CACHE, k)).valueString(), '-1');
    await c.set(CACHE, k, '41');
    assert.equal((await c.increment(CACHE, k, 1)).value(), 42);

    const text = key('text');
    await c.set(CACHE, text, 'not a number');
    const err = expectError(await c.increment(CACHE, text, 1), MomentoErrorCode.FAILED_PRECONDITION_ERROR, 'increment on text');
    assert.ok(err.message().length > 0);
    assert.equal((await c.get(CACHE, text)).valueString(), 'not a number', 'the item is untouched');
  });

  it('itemGetType answers SCALAR for a set item and Miss for an absent one', async () => {
    const k = key('typed');
    await c.set(CACHE, k, 'v');
    assert.equal(expectType(await c.itemGetType(CACHE, k), 'Hit', 'itemGetType').itemType(), ItemType.SCALAR);
    expectType(await c.itemGetType(CACHE, key('untyped')), 'Miss', 'itemGetType (absent)');
  });

  it('values up to the size limit are stored whole', async () => {
    const k = key('big');
    const v = Buffer.alloc(512 * 1024, 0x61);
    expectType(await c.set(CACHE, k, v), 'Success', 'set 512 KiB');
    const hit = expectType(await c.get(CACHE, k), 'Hit', 'get 512 KiB');
    assert.equal(hit.valueUint8Array().length, v.length);
  });
});
