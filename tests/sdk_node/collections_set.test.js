'use strict';
// Sets through the Node SDK against one gateway: hits, misses, deduplication,
// contains, sample and pop, and deletion of an emptied set.
// The notes shared by the collection tests are in collections_helpers.js.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { CACHE, gatewayForSuite, expectType, uniqueName } = require('./harness');
const { sorted } = require('./collections_helpers');

describe('collections: sets', () => {
  let c;
  const name = uniqueName;

  gatewayForSuite(g => {
    c = g.cacheClient();
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
});
