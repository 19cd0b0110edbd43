'use strict';
// AuthClient: disposable tokens from every scope helper the Node SDK has, each
// checked for what it allows and what it refuses; API keys (generate, refresh,
// single-use refresh tokens); the v2 API-key provider; minting with a
// fine-grained credential.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  sdk,
  CACHE,
  startGateway,
  envelopeJwt,
  jwtClaims,
  expectType,
  expectError,
  uniqueName,
  recordingSubscribe,
} = require('./harness');
const {
  MomentoErrorCode,
  TokenScopes,
  DisposableTokenScopes,
  ExpiresIn,
  AllCaches,
  AllTopics,
  AllDataReadWrite,
  CacheRole,
  TopicRole,
  CredentialProvider,
} = sdk;

const OTHER = 'other-cache';
const DENIED = MomentoErrorCode.PERMISSION_ERROR;

describe('AuthClient and scoped credentials', () => {
  let gw;
  let admin;
  const subscriptions = [];

  before(async () => {
    gw = await startGateway({ extraCaches: [OTHER] });
    admin = gw.cacheClient();
  });
  after(async () => {
    for (const s of subscriptions) s.unsubscribe();
    await gw?.stop();
  });

  /**
   * Operations a credential is checked with. Each returns an SDK response;
   * `ok` lists the response types that mean "allowed".
   */
  const op = {
    get: (cache, k) => ({ what: `get ${cache}/${k}`, ok: ['Hit', 'Miss'], run: c => c.cache.get(cache, k) }),
    set: (cache, k) => ({ what: `set ${cache}/${k}`, ok: ['Success'], run: c => c.cache.set(cache, k, 'v') }),
    setIfAbsent: (cache, k) => ({
      what: `setIfAbsent ${cache}/${k}`,
      ok: ['Stored', 'NotStored'],
      run: c => c.cache.setIfAbsent(cache, k, 'v'),
    }),
    increment: (cache, k) => ({
      what: `increment ${cache}/${k}`,
      ok: ['Success'],
      run: c => c.cache.increment(cache, k, 1),
    }),
    getBatch: (cache, keys) => ({
      what: `getBatch ${cache}/[${keys}]`,
      ok: ['Success'],
      run: c => c.cache.getBatch(cache, keys),
    }),
    publish: (cache, topic) => ({
      what: `publish ${cache}/${topic}`,
      ok: ['Success'],
      run: c => c.topics.publish(cache, topic, 'm'),
    }),
    subscribe: (cache, topic) => ({
      what: `subscribe ${cache}/${topic}`,
      ok: ['Subscription'],
      run: async c => {
        const { resp } = await recordingSubscribe(c.topics, cache, topic);
        if (resp.type === 'Subscription') subscriptions.push(resp);
        return resp;
      },
    }),
  };

  function clientsFor(credential) {
    return { cache: gw.cacheClient(credential), topics: gw.topicClient(credential) };
  }

  /** Checks every `allowed` op succeeds and every `denied` op is PERMISSION_ERROR. */
  async function checkEnforced(credential, { allowed, denied }) {
    const c = clientsFor(credential);
    for (const o of allowed) {
      const resp = await o.run(c);
      assert.ok(o.ok.includes(resp.type), `${o.what} should be allowed, got ${resp.type} ${resp.type === 'Error' ? resp.message() : ''}`);
    }
    for (const o of denied) expectError(await o.run(c), DENIED, `${o.what} should be denied`);
  }

  async function disposable(scope, props) {
    return gw.mintDisposable(scope, ExpiresIn.minutes(5), props);
  }

  it('the minted disposable token is the envelope of a disposable JWT', async () => {
    const resp = await gw.authClient().generateDisposableToken(
      TokenScopes.cacheReadOnly(CACHE),
      ExpiresIn.seconds(90),
      { tokenId: 'web-1' },
    );
    expectType(resp, 'Success', 'generateDisposableToken');
    assert.equal(resp.endpoint, 'localhost');
    const claims = jwtClaims(envelopeJwt(resp.authToken));
    assert.equal(claims.t, 'disposable');
    assert.equal(claims.id, 'web-1');
    const now = Date.now() / 1000;
    assert.ok(Math.abs(resp.expiresAt.epoch() - (now + 90)) <= 3, `expiresAt ${resp.expiresAt.epoch()} vs now+90`);
    assert.equal(claims.exp, resp.expiresAt.epoch());
  });

  it('cacheReadWrite / cacheReadOnly / cacheWriteOnly (one cache, and AllCaches)', async () => {
    await admin.set(CACHE, 'k', 'v');
    await checkEnforced(await disposable(TokenScopes.cacheReadWrite(CACHE)), {
      allowed: [op.get(CACHE, 'k'), op.set(CACHE, 'k'), op.setIfAbsent(CACHE, 'k'), op.increment(CACHE, 'n')],
      denied: [op.get(OTHER, 'k'), op.set(OTHER, 'k'), op.publish(CACHE, 't'), op.subscribe(CACHE, 't')],
    });
    await checkEnforced(await disposable(TokenScopes.cacheReadOnly(CACHE)), {
      allowed: [op.get(CACHE, 'k'), op.getBatch(CACHE, ['k', 'x'])],
      denied: [op.set(CACHE, 'k'), op.setIfAbsent(CACHE, 'k'), op.increment(CACHE, 'n'), op.get(OTHER, 'k')],
    });
    await checkEnforced(await disposable(TokenScopes.cacheWriteOnly(CACHE)), {
      allowed: [op.set(CACHE, 'k')],
      denied: [op.get(CACHE, 'k'), op.setIfAbsent(CACHE, 'k'), op.increment(CACHE, 'n'), op.set(OTHER, 'k')],
    });
    await checkEnforced(await disposable(TokenScopes.cacheReadWrite(AllCaches)), {
      allowed: [op.set(CACHE, 'k'), op.set(OTHER, 'k'), op.get(OTHER, 'k')],
      denied: [op.publish(CACHE, 't')],
    });
    await checkEnforced(await disposable(TokenScopes.cacheReadOnly({ name: OTHER })), {
      allowed: [op.get(OTHER, 'k')],
      denied: [op.get(CACHE, 'k'), op.set(OTHER, 'k')],
    });
  });

  it('cacheKeyReadWrite / cacheKeyReadOnly / cacheKeyWriteOnly', async () => {
    await checkEnforced(await disposable(DisposableTokenScopes.cacheKeyReadWrite(CACHE, 'cfg')), {
      allowed: [op.increment(CACHE, 'cfg'), op.get(CACHE, 'cfg'), op.set(CACHE, 'cfg')],
      denied: [
        op.get(CACHE, 'cfg2'),
        op.set(CACHE, 'other'),
        op.getBatch(CACHE, ['cfg', 'other']),
        op.get(OTHER, 'cfg'),
        op.publish(CACHE, 'cfg'),
      ],
    });
    await checkEnforced(await disposable(DisposableTokenScopes.cacheKeyReadOnly(CACHE, 'cfg')), {
      allowed: [op.get(CACHE, 'cfg')],
      denied: [op.set(CACHE, 'cfg'), op.get(CACHE, 'other')],
    });
    await checkEnforced(await disposable(DisposableTokenScopes.cacheKeyWriteOnly(AllCaches, 'cfg')), {
      allowed: [op.set(CACHE, 'cfg'), op.set(OTHER, 'cfg')],
      denied: [op.get(CACHE, 'cfg'), op.set(CACHE, 'other'), op.increment(CACHE, 'cfg')],
    });
  });

  it('cacheKeyPrefixReadWrite / cacheKeyPrefixReadOnly / cacheKeyPrefixWriteOnly', async () => {
    await checkEnforced(await disposable(DisposableTokenScopes.cacheKeyPrefixReadWrite(CACHE, 'user-1/')), {
      allowed: [
        op.set(CACHE, 'user-1/name'),
        op.get(CACHE, 'user-1/name'),
        op.get(CACHE, 'user-1/absent'),
        op.getBatch(CACHE, ['user-1/a', 'user-1/b']),
        op.increment(CACHE, 'user-1/n'),
      ],
      denied: [
        // An absent key outside the scope is PERMISSION_ERROR, not a miss.
        op.get(CACHE, 'user-2/absent'),
        op.set(CACHE, 'user-2/name'),
        op.get(CACHE, 'user-1'),
        op.getBatch(CACHE, ['user-1/a', 'user-2/b']),
        op.set(OTHER, 'user-1/name'),
      ],
    });
    await checkEnforced(await disposable(DisposableTokenScopes.cacheKeyPrefixReadOnly(CACHE, 'pub/')), {
      allowed: [op.get(CACHE, 'pub/x')],
      denied: [op.set(CACHE, 'pub/x'), op.get(CACHE, 'priv/x')],
    });
    await checkEnforced(await disposable(DisposableTokenScopes.cacheKeyPrefixWriteOnly(CACHE, 'in/')), {
      allowed: [op.set(CACHE, 'in/x')],
      denied: [op.get(CACHE, 'in/x'), op.set(CACHE, 'out/x'), op.setIfAbsent(CACHE, 'in/y')],
    });
  });

  it('topicPublishSubscribe / topicSubscribeOnly / topicPublishOnly (a topic, and AllTopics)', async () => {
    await checkEnforced(await disposable(TokenScopes.topicPublishSubscribe(CACHE, 'room')), {
      allowed: [op.publish(CACHE, 'room'), op.subscribe(CACHE, 'room')],
      denied: [op.publish(CACHE, 'room2'), op.subscribe(CACHE, 'lobby'), op.publish(OTHER, 'room'), op.get(CACHE, 'room')],
    });
    await checkEnforced(await disposable(TokenScopes.topicSubscribeOnly(CACHE, 'news')), {
      allowed: [op.subscribe(CACHE, 'news')],
      denied: [op.publish(CACHE, 'news'), op.subscribe(CACHE, 'other')],
    });
    await checkEnforced(await disposable(TokenScopes.topicPublishOnly(CACHE, { name: 'events' })), {
      allowed: [op.publish(CACHE, 'events')],
      denied: [op.subscribe(CACHE, 'events'), op.publish(CACHE, 'other')],
    });
    await checkEnforced(await disposable(TokenScopes.topicPublishSubscribe(AllCaches, AllTopics)), {
      allowed: [op.publish(CACHE, 'any'), op.subscribe(OTHER, 'thing')],
      denied: [op.get(CACHE, 'k'), op.set(CACHE, 'k')],
    });
  });

  it('a topic name prefix (no SDK helper: minted with the CLI) is enforced for the SDK', async () => {
    // The Node SDK's TopicSelector has no prefix form; the scope JSON has.
    const token = gw.mintDisposableCli({
      permissions: [{ role: 'publishsubscribe', cache: CACHE, topic: { prefix: 'chat-' } }],
    });
    await checkEnforced(token, {
      allowed: [op.publish(CACHE, 'chat-1'), op.subscribe(CACHE, 'chat-2')],
      denied: [op.publish(CACHE, 'chat'), op.subscribe(CACHE, 'news-1'), op.get(CACHE, 'chat-1')],
    });
  });

  it('several permissions at once: the union, each with its own role', async () => {
    await checkEnforced(
      await disposable({
        permissions: [
          { role: CacheRole.ReadOnly, cache: CACHE },
          { role: CacheRole.ReadWrite, cache: OTHER },
          { role: TopicRole.PublishOnly, cache: CACHE, topic: 'news' },
          { role: TopicRole.SubscribeOnly, cache: CACHE, topic: 'alerts' },
        ],
      }),
      {
        allowed: [op.get(CACHE, 'k'), op.set(OTHER, 'k'), op.publish(CACHE, 'news'), op.subscribe(CACHE, 'alerts')],
        denied: [op.set(CACHE, 'k'), op.subscribe(CACHE, 'news'), op.publish(CACHE, 'alerts'), op.publish(OTHER, 'news')],
      },
    );
    await checkEnforced(
      await disposable({
        permissions: [
          { role: CacheRole.ReadWrite, cache: CACHE, item: { keyPrefix: 'a/' } },
          { role: CacheRole.ReadOnly, cache: CACHE, item: { key: 'cfg' } },
          { role: CacheRole.WriteOnly, cache: OTHER, item: 'log' },
        ],
      }),
      {
        allowed: [op.set(CACHE, 'a/x'), op.get(CACHE, 'cfg'), op.set(OTHER, 'log'), op.getBatch(CACHE, ['a/1', 'cfg'])],
        denied: [op.set(CACHE, 'cfg'), op.get(CACHE, 'b/x'), op.get(OTHER, 'log'), op.increment(CACHE, 'cfg')],
      },
    );
  });

  it('AllDataReadWrite grants every cache and topic but not the control plane', async () => {
    const token = await disposable(AllDataReadWrite);
    await checkEnforced(token, {
      allowed: [op.set(CACHE, 'k'), op.get(OTHER, 'k'), op.publish(CACHE, 't'), op.subscribe(OTHER, 't')],
      denied: [],
    });
    expectError(await gw.cacheClient(token).createCache(uniqueName('nope')), DENIED, 'createCache');
  });

  it('generateApiKey mints a working, scoped key (the legacy and the v2 provider)', async () => {
    const resp = await gw.authClient().generateApiKey(TokenScopes.cacheReadOnly(CACHE), ExpiresIn.minutes(30));
    expectType(resp, 'Success', 'generateApiKey');
    assert.ok(resp.refreshToken, 'a refresh token comes with the key');
    assert.equal(resp.endpoint, 'localhost');
    const jwt = envelopeJwt(resp.apiKey);
    assert.equal(jwtClaims(jwt).t, 'g', "API keys carry t = 'g'");
    assert.ok(Math.abs(resp.expiresAt.epoch() - (Date.now() / 1000 + 1800)) <= 3);

    await admin.set(CACHE, 'k', 'v');
    await checkEnforced(resp.apiKey, {
      allowed: [op.get(CACHE, 'k')],
      denied: [op.set(CACHE, 'k'), op.get(OTHER, 'k')],
    });

    const v2 = gw.cacheClient(undefined, { provider: gw.v2Provider(jwt) });
    assert.equal(expectType(await v2.get(CACHE, 'k'), 'Hit', 'get via the v2 provider').valueString(), 'v');
    expectError(await v2.set(CACHE, 'k', 'x'), DENIED, 'set via the v2 provider');

    const never = await gw.authClient().generateApiKey(AllDataReadWrite, ExpiresIn.never());
    expectType(never, 'Success', 'generateApiKey (never expires)');
    assert.equal(jwtClaims(envelopeJwt(never.apiKey)).exp, undefined, 'no exp on a never-expiring key');
    expectType(await gw.cacheClient(never.apiKey).set(CACHE, 'k', 'v'), 'Success', 'set with a never-expiring key');
  });

  it('fromApiKeyV2 loads the superuser key (the bare JWT + endpoint) for every client', async () => {
    const jwt = envelopeJwt(gw.superuser);
    const provider = CredentialProvider.fromApiKeyV2({ apiKey: jwt, endpoint: 'localhost' });
    assert.equal(provider.getAuthToken(), jwt);
    assert.equal(provider.getCacheEndpoint(), 'cache.localhost');
    assert.equal(provider.getControlEndpoint(), 'control.localhost');
    assert.equal(provider.getTokenEndpoint(), 'token.localhost');

    const k = uniqueName('v2');
    const cache = gw.cacheClient(undefined, { provider: gw.v2Provider(jwt) });
    expectType(await cache.set(CACHE, k, 'v2'), 'Success', 'set (v2)');
    expectType(await cache.listCaches(), 'Success', 'listCaches (v2)');
    const auth = gw.authClient(undefined, { provider: gw.v2Provider(jwt) });
    const minted = await auth.generateDisposableToken(DisposableTokenScopes.cacheKeyReadOnly(CACHE, k), ExpiresIn.minutes(1));
    expectType(minted, 'Success', 'generateDisposableToken (v2 superuser)');
    assert.equal((await gw.cacheClient(minted.authToken).get(CACHE, k)).valueString(), 'v2');
    const topics = gw.topicClient(undefined, { provider: gw.v2Provider(jwt) });
    expectType(await topics.publish(CACHE, 't', 'v2'), 'Success', 'publish (v2)');
  });

  it('refreshApiKey: a new working key with the same scope; each refresh token works once', async () => {
    const first = await gw.authClient().generateApiKey(TokenScopes.cacheReadOnly(CACHE), ExpiresIn.minutes(30));
    expectType(first, 'Success', 'generateApiKey');
    // The AuthClient that refreshes holds the key being refreshed.
    const refreshed = await gw.authClient(first.apiKey).refreshApiKey(first.refreshToken);
    expectType(refreshed, 'Success', 'refreshApiKey');
    assert.notEqual(refreshed.apiKey, first.apiKey);
    assert.ok(refreshed.refreshToken && refreshed.refreshToken !== first.refreshToken);
    assert.ok(refreshed.expiresAt.epoch() >= first.expiresAt.epoch(), 'the same lifetime, from now');
    await admin.set(CACHE, 'k', 'v');
    await checkEnforced(refreshed.apiKey, { allowed: [op.get(CACHE, 'k')], denied: [op.set(CACHE, 'k')] });

    const again = await gw.authClient(first.apiKey).refreshApiKey(first.refreshToken);
    expectError(again, MomentoErrorCode.AUTHENTICATION_ERROR, 'a second refresh with the same refresh token');
    // The new pair refreshes in turn, and through the v2 provider.
    const next = await gw
      .authClient(undefined, { provider: gw.v2Provider(envelopeJwt(refreshed.apiKey)) })
      .refreshApiKey(refreshed.refreshToken);
    expectType(next, 'Success', 'refreshApiKey with the refreshed pair (v2 provider)');
    // A refresh token is bound to its own key.
    const other = await gw.authClient().generateApiKey(TokenScopes.cacheReadOnly(CACHE), ExpiresIn.minutes(30));
    expectError(
      await gw.authClient(other.apiKey).refreshApiKey(next.refreshToken),
      MomentoErrorCode.AUTHENTICATION_ERROR,
      "refreshing with another key's refresh token",
    );
  });

  it('a fine-grained credential cannot mint', async () => {
    const token = await disposable(TokenScopes.cacheReadWrite(AllCaches));
    const resp = await gw.authClient(token).generateDisposableToken(TokenScopes.cacheReadOnly(CACHE), ExpiresIn.minutes(1));
    expectError(resp, MomentoErrorCode.INVALID_ARGUMENT_ERROR, 'generateDisposableToken with a disposable token');
    assert.match(resp.message(), /Only tokens with SuperUser permissions can generate disposable tokens/);

    const key = await gw.authClient().generateApiKey(AllDataReadWrite, ExpiresIn.minutes(5));
    const viaKey = await gw.authClient(key.apiKey).generateDisposableToken(TokenScopes.cacheReadOnly(CACHE), ExpiresIn.minutes(1));
    expectError(viaKey, MomentoErrorCode.INVALID_ARGUMENT_ERROR, 'generateDisposableToken with a fine-grained API key');
    assert.match(viaKey.message(), /Only tokens with SuperUser permissions can generate disposable tokens/);

    expectError(
      await gw.authClient(token).generateApiKey(TokenScopes.cacheReadOnly(CACHE), ExpiresIn.minutes(1)),
      DENIED,
      'generateApiKey with a disposable token',
    );
    expectError(
      await gw.authClient(key.apiKey).generateApiKey(TokenScopes.cacheReadOnly(CACHE), ExpiresIn.minutes(1)),
      DENIED,
      'generateApiKey with a fine-grained API key',
    );
  });
});
