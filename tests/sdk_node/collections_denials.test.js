'use strict';
// Collections under scoped tokens through the Node SDK against one gateway:
// read-only, write-only and key-prefix tokens (PERMISSION_ERROR).
// The notes shared by the collection tests are in collections_helpers.js.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { sdk, CACHE, gatewayForSuite, expectType, describe: describeResponse, uniqueName } = require('./harness');
const { TokenScopes, DisposableTokenScopes, ExpiresIn } = sdk;
const { DENIED, pairs, sorted } = require('./collections_helpers');

describe('collections: denials', () => {
  let gw;
  let c;
  const name = uniqueName;

  gatewayForSuite(g => {
    gw = g;
    c = g.cacheClient();
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
});
