'use strict';
// What every collection follows, through the Node SDK against one gateway:
// item types, wrong types (FAILED_PRECONDITION), TTL refresh and expiry, and
// bad input (NaN scores, empty collection names, on the wire too).
// The notes shared by the collection tests are in collections_helpers.js.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const {
  sdk,
  CACHE,
  gatewayForSuite,
  expectType,
  expectError,
  describe: describeResponse,
  uniqueName,
  sleep,
} = require('./harness');
const { ItemType, CollectionTtl } = sdk;
const { WRONG_TYPE, INVALID, Ascending, pairs, grpcCode, ttlOf, assertTtlWithin } = require('./collections_helpers');

describe('collections: types, TTLs, bad input', () => {
  let c;
  const name = uniqueName;

  gatewayForSuite(g => {
    c = g.cacheClient();
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
