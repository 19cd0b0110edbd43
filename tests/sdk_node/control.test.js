'use strict';
// The control plane through CacheClient: createCache (and AlreadyExists),
// listCaches, flushCache, deleteCache, missing caches, and fine-grained
// credentials kept out of it.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { sdk, CACHE, gatewayForSuite, expectType, expectError, uniqueName } = require('./harness');
const { MomentoErrorCode, TokenScopes, ExpiresIn, AllCaches, AllDataReadWrite } = sdk;

describe('control plane', () => {
  let gw;
  let c;
  const names = async () => expectType(await c.listCaches(), 'Success', 'listCaches').getCaches().map(i => i.getName());

  gatewayForSuite(g => {
    gw = g;
    c = g.cacheClient();
  });

  it('createCache creates a usable cache; a second create is AlreadyExists', async () => {
    const name = uniqueName('created');
    expectType(await c.createCache(name), 'Success', 'createCache');
    expectType(await c.createCache(name), 'AlreadyExists', 'createCache again');
    expectType(await c.createCache(CACHE), 'AlreadyExists', 'createCache of a config-declared cache');
    expectType(await c.set(name, 'k', 'v'), 'Success', 'set in the new cache');
    assert.equal((await c.get(name, 'k')).valueString(), 'v');
    // Caches are separate: the same key in another cache is another item.
    expectType(await c.get(CACHE, 'k'), 'Miss', 'the same key in default-cache');
  });

  it('listCaches lists the config-declared and the created caches', async () => {
    const name = uniqueName('listed');
    await c.createCache(name);
    const listed = await names();
    assert.ok(listed.includes(CACHE), `${listed} includes ${CACHE}`);
    assert.ok(listed.includes(name), `${listed} includes ${name}`);
  });

  it('flushCache empties a cache and leaves the others alone', async () => {
    const name = uniqueName('flushed');
    await c.createCache(name);
    await c.set(name, 'a', '1');
    await c.set(name, 'b', '2');
    await c.set(CACHE, 'kept', 'yes');
    expectType(await c.flushCache(name), 'Success', 'flushCache');
    expectType(await c.get(name, 'a'), 'Miss', 'a after flush');
    expectType(await c.get(name, 'b'), 'Miss', 'b after flush');
    assert.equal((await c.get(CACHE, 'kept')).valueString(), 'yes');
    expectType(await c.set(name, 'a', '3'), 'Success', 'the flushed cache still exists');
    expectError(await c.flushCache(uniqueName('absent')), MomentoErrorCode.CACHE_NOT_FOUND_ERROR, 'flushCache of a missing cache');
  });

  it('deleteCache removes the cache; then it is NOT_FOUND', async () => {
    const name = uniqueName('deleted');
    await c.createCache(name);
    await c.set(name, 'k', 'v');
    expectType(await c.deleteCache(name), 'Success', 'deleteCache');
    assert.ok(!(await names()).includes(name), 'no longer listed');
    expectError(await c.get(name, 'k'), MomentoErrorCode.CACHE_NOT_FOUND_ERROR, 'get in a deleted cache');
    expectError(await c.set(name, 'k', 'v'), MomentoErrorCode.CACHE_NOT_FOUND_ERROR, 'set in a deleted cache');
    expectError(await c.deleteCache(name), MomentoErrorCode.CACHE_NOT_FOUND_ERROR, 'deleteCache again');
    // Created again, it starts empty.
    expectType(await c.createCache(name), 'Success', 'createCache after delete');
    expectType(await c.get(name, 'k'), 'Miss', 'a re-created cache is empty');
  });

  it('data operations on a missing cache are NOT_FOUND (CacheNotFoundError)', async () => {
    const missing = uniqueName('missing');
    for (const [what, resp] of [
      ['get', await c.get(missing, 'k')],
      ['set', await c.set(missing, 'k', 'v')],
      ['delete', await c.delete(missing, 'k')],
      ['increment', await c.increment(missing, 'k')],
      ['keysExist', await c.keysExist(missing, ['k'])],
    ]) {
      const err = expectError(resp, MomentoErrorCode.CACHE_NOT_FOUND_ERROR, what);
      assert.equal(err.innerException().constructor.name, 'CacheNotFoundError', what);
    }
  });

  it('a fine-grained credential gets PERMISSION_ERROR on every control operation', async () => {
    const credentials = {
      'disposable token': await gw.mintDisposable(AllDataReadWrite, ExpiresIn.minutes(5)),
      'fine-grained API key': (
        await gw.authClient().generateApiKey(TokenScopes.cacheReadWrite(AllCaches), ExpiresIn.minutes(5))
      ).apiKey,
    };
    for (const [kind, credential] of Object.entries(credentials)) {
      const fine = gw.cacheClient(credential);
      const name = uniqueName('fine');
      expectError(await fine.createCache(name), MomentoErrorCode.PERMISSION_ERROR, `createCache (${kind})`);
      expectError(await fine.listCaches(), MomentoErrorCode.PERMISSION_ERROR, `listCaches (${kind})`);
      expectError(await fine.flushCache(CACHE), MomentoErrorCode.PERMISSION_ERROR, `flushCache (${kind})`);
      expectError(await fine.deleteCache(CACHE), MomentoErrorCode.PERMISSION_ERROR, `deleteCache (${kind})`);
      assert.ok(!(await names()).includes(name), 'nothing was created');
    }
    expectType(await c.set(CACHE, 'survives', 'yes'), 'Success', 'default-cache still exists');
  });
});
