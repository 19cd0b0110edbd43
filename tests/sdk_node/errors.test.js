'use strict';
// Denials and bad input as the Node SDK maps them: PERMISSION_ERROR for what a
// scope does not grant, AUTHENTICATION_ERROR for bad and expired credentials,
// INVALID_ARGUMENT, LIMIT_EXCEEDED (item size) and NOT_FOUND.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  sdk,
  CACHE,
  MAX_VALUE_BYTES,
  startGateway,
  envelopeJwt,
  expectType,
  expectError,
  describe: describeResponse,
  uniqueName,
  sleep,
  recordingSubscribe,
} = require('./harness');
const { MomentoErrorCode, TokenScopes, DisposableTokenScopes, ExpiresIn } = sdk;

const OTHER = 'other-cache';
const envelope = jwt => Buffer.from(JSON.stringify({ api_key: jwt, endpoint: 'localhost' })).toString('base64');

describe('denials and bad input', () => {
  let gw;
  let admin;

  before(async () => {
    gw = await startGateway({ extraCaches: [OTHER] });
    admin = gw.cacheClient();
  });
  after(() => gw?.stop());

  it('PERMISSION_ERROR: wrong cache, wrong key, wrong key prefix', async () => {
    const byKey = gw.cacheClient(await gw.mintDisposable(DisposableTokenScopes.cacheKeyReadWrite(CACHE, 'mine'), ExpiresIn.minutes(5)));
    expectType(await byKey.set(CACHE, 'mine', 'v'), 'Success', 'set the granted key');
    const denied = expectError(await byKey.get(CACHE, 'yours'), MomentoErrorCode.PERMISSION_ERROR, 'wrong key');
    assert.equal(denied.innerException().constructor.name, 'PermissionError');
    expectError(await byKey.get(OTHER, 'mine'), MomentoErrorCode.PERMISSION_ERROR, 'wrong cache');

    const byPrefix = gw.cacheClient(
      await gw.mintDisposable(DisposableTokenScopes.cacheKeyPrefixReadWrite(CACHE, 'user-42/'), ExpiresIn.minutes(5)),
    );
    expectType(await byPrefix.set(CACHE, 'user-42/prefs', 'dark'), 'Success', 'set under the prefix');
    expectError(await byPrefix.get(CACHE, 'user-7/prefs'), MomentoErrorCode.PERMISSION_ERROR, 'wrong key prefix');
    expectError(await byPrefix.setBatch(CACHE, { 'user-42/a': '1', 'user-7/b': '2' }), MomentoErrorCode.PERMISSION_ERROR, 'a batch with one key outside');
    expectType(await admin.get(CACHE, 'user-42/a'), 'Miss', 'a refused batch stores nothing');
  });

  it('PERMISSION_ERROR: a readonly token writing, a writeonly token reading', async () => {
    const readonly = gw.cacheClient(await gw.mintDisposable(TokenScopes.cacheReadOnly(CACHE), ExpiresIn.minutes(5)));
    expectType(await readonly.get(CACHE, 'k'), 'Miss', 'readonly reads');
    expectError(await readonly.set(CACHE, 'k', 'v'), MomentoErrorCode.PERMISSION_ERROR, 'readonly set');
    expectError(await readonly.delete(CACHE, 'k'), MomentoErrorCode.PERMISSION_ERROR, 'readonly delete');
    expectError(await readonly.updateTtl(CACHE, 'k', 1000), MomentoErrorCode.PERMISSION_ERROR, 'readonly updateTtl');

    const writeonly = gw.cacheClient(await gw.mintDisposable(TokenScopes.cacheWriteOnly(CACHE), ExpiresIn.minutes(5)));
    expectType(await writeonly.set(CACHE, 'k', 'v'), 'Success', 'writeonly writes');
    expectError(await writeonly.get(CACHE, 'k'), MomentoErrorCode.PERMISSION_ERROR, 'writeonly get');
    expectError(await writeonly.keyExists(CACHE, 'k'), MomentoErrorCode.PERMISSION_ERROR, 'writeonly keyExists');
    expectError(await writeonly.itemGetTtl(CACHE, 'k'), MomentoErrorCode.PERMISSION_ERROR, 'writeonly itemGetTtl');
  });

  it('PERMISSION_ERROR: a topic operation with a cache-only token', async () => {
    const token = await gw.mintDisposable(TokenScopes.cacheReadWrite(CACHE), ExpiresIn.minutes(5));
    const topics = gw.topicClient(token);
    expectError(await topics.publish(CACHE, 'chat', 'x'), MomentoErrorCode.PERMISSION_ERROR, 'publish');
    const sub = await recordingSubscribe(topics, CACHE, 'chat');
    expectError(sub.resp, MomentoErrorCode.PERMISSION_ERROR, 'subscribe');
  });

  it('AUTHENTICATION_ERROR: a garbage token, a foreign signature, a tampered scope', async () => {
    const garbage = gw.cacheClient(envelope('not-a-jwt'));
    const err = expectError(await garbage.get(CACHE, 'k'), MomentoErrorCode.AUTHENTICATION_ERROR, 'garbage token');
    assert.equal(err.innerException().constructor.name, 'AuthenticationError');
    expectError(await gw.topicClient(envelope('x.y.z')).publish(CACHE, 't', 'm'), MomentoErrorCode.AUTHENTICATION_ERROR, 'garbage publish');

    // A well-formed superuser key signed by another gateway's secret.
    const foreign = await startGateway();
    try {
      expectError(await gw.cacheClient(foreign.superuser).get(CACHE, 'k'), MomentoErrorCode.AUTHENTICATION_ERROR, 'foreign signature');
    } finally {
      await foreign.stop();
    }

    // A readonly token whose claims were edited to superuser.
    const jwt = envelopeJwt(await gw.mintDisposable(TokenScopes.cacheReadOnly(CACHE), ExpiresIn.minutes(5)));
    const [h, p, s] = jwt.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    claims.p = 'CAA';
    const tampered = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
    expectError(await gw.cacheClient(envelope(tampered)).set(CACHE, 'k', 'v'), MomentoErrorCode.AUTHENTICATION_ERROR, 'tampered claims');
  });

  it('AUTHENTICATION_ERROR: a 2 s disposable token after it expires', async () => {
    const token = await gw.mintDisposable(TokenScopes.cacheReadWrite(CACHE), ExpiresIn.seconds(2));
    const c = gw.cacheClient(token);
    const topics = gw.topicClient(await gw.mintDisposable(TokenScopes.topicPublishSubscribe(CACHE, 't'), ExpiresIn.seconds(2)));
    expectType(await c.set(CACHE, 'short', 'v'), 'Success', 'set before expiry');
    expectType(await topics.publish(CACHE, 't', 'm'), 'Success', 'publish before expiry');
    await sleep(2200);
    expectError(await c.get(CACHE, 'short'), MomentoErrorCode.AUTHENTICATION_ERROR, 'get after expiry');
    expectError(await c.set(CACHE, 'short', 'v'), MomentoErrorCode.AUTHENTICATION_ERROR, 'set after expiry');
    expectError(await topics.publish(CACHE, 't', 'm'), MomentoErrorCode.AUTHENTICATION_ERROR, 'publish after expiry');
    const sub = await recordingSubscribe(topics, CACHE, 't');
    expectError(sub.resp, MomentoErrorCode.AUTHENTICATION_ERROR, 'subscribe after expiry');
  });

  it('INVALID_ARGUMENT: an empty cache name (the SDK catches it, nothing is sent)', async () => {
    // The SDK validates cache names itself: no request is sent.
    for (const [what, resp] of [
      ['get', await admin.get('', 'k')],
      ['set', await admin.set('', 'k', 'v')],
      ['createCache', await admin.createCache('')],
      ['publish', await gw.topicClient().publish('', 't', 'm')],
    ]) {
      const err = expectError(resp, MomentoErrorCode.INVALID_ARGUMENT_ERROR, `empty cache name: ${what}`);
      assert.match(err.message(), /cache name must not be empty/);
    }
  });

  it('INVALID_ARGUMENT: an empty key (the SDK sends it; the gateway must refuse it)', async () => {
    // Keys are not validated client-side: the gateway must answer
    // INVALID_ARGUMENT (gRPC 3) for each.
    const wrong = [];
    for (const [what, resp] of [
      ['get', await admin.get(CACHE, '')],
      ['set', await admin.set(CACHE, '', 'v')],
      ['delete', await admin.delete(CACHE, '')],
      ['increment', await admin.increment(CACHE, '')],
      ['itemGetTtl', await admin.itemGetTtl(CACHE, '')],
      ['keysExist', await admin.keysExist(CACHE, [''])],
    ]) {
      const code = resp.type === 'Error' ? resp.errorCode() : undefined;
      const grpc = resp.type === 'Error' ? resp.innerException().transportDetails().grpc.code : undefined;
      if (code !== MomentoErrorCode.INVALID_ARGUMENT_ERROR || grpc !== 3) wrong.push(`${what}: ${describeResponse(resp)}`);
    }
    assert.deepEqual(wrong, [], 'an empty key is INVALID_ARGUMENT for every call');
  });

  it('LIMIT_EXCEEDED: a value over max_value_bytes, with a message naming the item size', async () => {
    const resp = await admin.set(CACHE, 'huge', Buffer.alloc(MAX_VALUE_BYTES + 1024, 0x62));
    const err = expectError(resp, MomentoErrorCode.LIMIT_EXCEEDED_ERROR, 'oversized set');
    assert.match(err.message(), /item size/i, `the SDK's message: ${err.message()}`);
    assert.match(err.message(), /Item size limit exceeded/, 'the SDK picked its item-size wording');
    assert.equal(err.innerException().errCause, 'item_size_limit_exceeded', 'the err trailer');
    expectType(await admin.get(CACHE, 'huge'), 'Miss', 'nothing was stored');
    const batch = await admin.setBatch(CACHE, { small: 'ok', huge: Buffer.alloc(MAX_VALUE_BYTES + 1024) });
    expectError(batch, MomentoErrorCode.LIMIT_EXCEEDED_ERROR, 'oversized item in a setBatch');
  });

  it('NOT_FOUND: a missing cache', async () => {
    const err = expectError(await admin.get('no-such-cache', 'k'), MomentoErrorCode.NOT_FOUND_ERROR, 'get');
    assert.equal(err.innerException().constructor.name, 'CacheNotFoundError');
    // A scoped token for a missing cache: the scope allows it, the cache is missing.
    const scoped = gw.cacheClient(await gw.mintDisposable(TokenScopes.cacheReadWrite('no-such-cache'), ExpiresIn.minutes(1)));
    expectError(await scoped.set('no-such-cache', 'k', 'v'), MomentoErrorCode.NOT_FOUND_ERROR, 'scoped set');
  });
});
