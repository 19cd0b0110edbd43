'use strict';
// Sorted sets through the Node SDK against one gateway: hits, misses, order,
// rank and score bounds (exclusive ones below the SDK), ranks, scores,
// increments, removal and union store.
// The notes shared by the collection tests are in collections_helpers.js.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { sdk, CACHE, gatewayForSuite, expectType, uniqueName } = require('./harness');
const { SortedSetAggregate } = sdk;
const { Ascending, Descending, grpcCache, pairs, values, rawScs } = require('./collections_helpers');

describe('collections: sorted sets', () => {
  let c;
  const name = uniqueName;

  gatewayForSuite(g => {
    c = g.cacheClient();
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
});
