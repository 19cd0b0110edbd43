// The browser half of the browser suite: Momento's Web SDK (@gomomento/sdk-web)
// in chromium, against a scopegate gateway on another origin. Bundled by
// run.sh with esbuild into target/browser/dist/page.js.
//
// The runner (browser.test.js) calls `window.__start(params)` and polls
// `window.__results` until `done`; each step records {name, ok, ms, detail |
// error}, and the runner asserts them one by one.
//
// params: { gateway: 'http://127.0.0.1:PORT', user, password, superuser (an
//           API-key envelope), run (a unique suffix for keys and topics) }

import {
  AuthClient,
  CacheClient,
  CacheDictionaryFetch,
  CacheGet,
  CacheItemGetType,
  CacheListFetch,
  CacheSet,
  CacheSetFetch,
  CacheSortedSetFetch,
  Configurations,
  CredentialProvider,
  DefaultMomentoLoggerFactory,
  DefaultMomentoLoggerLevel,
  DisposableTokenScopes,
  ExpiresIn,
  GenerateDisposableToken,
  ItemType,
  MomentoErrorCode,
  SortedSetOrder,
  TopicClient,
  TopicConfigurations,
  TopicPublish,
  TopicSubscribe,
} from '@gomomento/sdk-web';

const CACHE = 'default-cache';
const STEP_TIMEOUT_MS = 10000;

const results = { done: false, steps: [] };
window.__results = results;

const quiet = new DefaultMomentoLoggerFactory(DefaultMomentoLoggerLevel.ERROR);

/**
 * Every service of the Web SDK pointed at the gateway. The Web SDK takes the
 * endpoint as a URL: with `http://` it speaks plaintext gRPC-Web, a bare
 * host gets `https://` (it does not read `secureConnection`, the Node SDK's
 * switch). Overridden endpoints are used as given: no `web.` prefix.
 */
function endpointOverrides(gateway) {
  return {
    cacheEndpoint: gateway,
    controlEndpoint: gateway,
    tokenEndpoint: gateway,
    secureConnection: false,
  };
}

/** A disposable token (the envelope `/vend` or generateDisposableToken returns). */
function disposable(gateway, envelope) {
  return CredentialProvider.fromDisposableToken({
    apiKey: envelope,
    endpointOverrides: endpointOverrides(gateway),
  });
}

/**
 * An API key envelope (`scopegate token mint --superuser`): fromString,
 * because fromApiKeyV2 ignores endpointOverrides (it derives
 * `cache.<endpoint>` etc. and would need TLS on 443).
 */
function apiKey(gateway, envelope) {
  return CredentialProvider.fromString({
    apiKey: envelope,
    endpointOverrides: endpointOverrides(gateway),
  });
}

function cacheClient(credentialProvider) {
  return new CacheClient({
    configuration: Configurations.Browser.latest(quiet),
    credentialProvider,
    defaultTtlSeconds: 60,
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** What a response is, for failure messages. */
function show(response) {
  if (response && typeof response.errorCode === 'function') {
    return `${response.constructor.name} ${response.errorCode()}: ${response.message()}`;
  }
  return response && response.constructor ? response.constructor.name : String(response);
}

function expectError(response, code, what) {
  check(
    typeof response.errorCode === 'function' && response.errorCode() === code,
    `${what}: expected ${code}, got ${show(response)}`,
  );
}

async function step(name, fn) {
  const started = performance.now();
  const entry = { name, ok: false };
  try {
    entry.detail = await withTimeout(Promise.resolve().then(fn), STEP_TIMEOUT_MS, name);
    entry.ok = true;
  } catch (e) {
    entry.error = String((e && e.stack) || e);
  }
  entry.ms = Math.round(performance.now() - started);
  results.steps.push(entry);
  return entry.ok;
}

/** The claims of an envelope's JWT (decoded, not verified: the gateway verifies). */
function claims(envelope) {
  // Either base64 (standard or URL-safe, padded or not).
  const decode = text => {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    return atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  };
  return JSON.parse(decode(JSON.parse(decode(envelope)).api_key.split('.')[1]));
}

async function vend(gateway, user, password, query = '') {
  return fetch(`${gateway}/vend${query}`, {
    headers: { authorization: 'Basic ' + btoa(`${user}:${password}`) },
    cache: 'no-store',
  });
}

async function run(params) {
  const { gateway, user, password, superuser, run } = params;
  const state = {};
  const needs = key => {
    if (!state[key]) throw new Error(`skipped: an earlier step did not provide ${key}`);
    return state[key];
  };

  await step('vend refuses a wrong password with 401, readable cross-origin', async () => {
    const response = await vend(gateway, user, password + '-wrong');
    check(response.status === 401, `status ${response.status}`);
    const body = await response.json();
    check(body.code === 'AUTHENTICATION_ERROR', `code ${body.code}`);
    return body;
  });

  await step('vend a token with basic auth (cross-origin fetch)', async () => {
    const response = await vend(gateway, user, password);
    const text = await response.text();
    check(response.status === 200, `status ${response.status}: ${text}`);
    check(
      (response.headers.get('content-type') || '').startsWith('application/json'),
      `content-type ${response.headers.get('content-type')}`,
    );
    const body = JSON.parse(text);
    check(typeof body.authToken === 'string' && body.authToken.length > 0, 'no authToken');
    const now = Date.now() / 1000;
    check(
      Number.isInteger(body.expiresAt) && body.expiresAt > now && body.expiresAt < now + 86400,
      `expiresAt ${body.expiresAt}`,
    );
    state.token = body.authToken;
    return { expiresIn: Math.round(body.expiresAt - now) };
  });

  await step('vend ?name= names the token id; the subject stays the identity', async () => {
    const first = claims(needs('token'));
    check(first.sub === user && first.id === user, `default claims ${JSON.stringify(first)}`);
    check(first.t === 'disposable', `t ${first.t}`);
    const response = await vend(gateway, user, password, '?name=' + encodeURIComponent(`${user}-tab-2`));
    const text = await response.text();
    check(response.status === 200, `status ${response.status}: ${text}`);
    const named = claims(JSON.parse(text).authToken);
    check(named.sub === user && named.id === `${user}-tab-2`, `named claims ${JSON.stringify(named)}`);
    return { sub: named.sub, id: named.id };
  });

  await step(`set and get a key under ${user}/`, async () => {
    const cache = cacheClient(disposable(gateway, needs('token')));
    const key = `${user}/greeting-${run}`;
    const set = await cache.set(CACHE, key, 'hello from the browser');
    check(set instanceof CacheSet.Success, `set: ${show(set)}`);
    const got = await cache.get(CACHE, key);
    check(got instanceof CacheGet.Hit, `get: ${show(got)}`);
    check(got.valueString() === 'hello from the browser', `value ${got.valueString()}`);
    const miss = await cache.get(CACHE, `${user}/absent-${run}`);
    check(miss instanceof CacheGet.Miss, `absent key: ${show(miss)}`);
    return { key };
  });

  await step(`collections under ${user}/ (gRPC-Web): dictionary, set, list, sorted set`, async () => {
    const cache = cacheClient(disposable(gateway, needs('token')));
    const name = kind => `${user}/${kind}-${run}`;
    await cache.dictionarySetFields(CACHE, name('dict'), { a: '1', b: '2' });
    const dict = await cache.dictionaryFetch(CACHE, name('dict'));
    check(dict instanceof CacheDictionaryFetch.Hit, `dictionaryFetch: ${show(dict)}`);
    const fields = Object.entries(dict.valueRecord()).sort().join(';');
    check(fields === 'a,1;b,2', `dictionary ${fields}`);
    await cache.setAddElements(CACHE, name('set'), ['x', 'y', 'x']);
    const set = await cache.setFetch(CACHE, name('set'));
    check(set instanceof CacheSetFetch.Hit, `setFetch: ${show(set)}`);
    check([...set.valueSet()].sort().join() === 'x,y', `set ${[...set.valueSet()]}`);
    await cache.listConcatenateBack(CACHE, name('list'), ['1', '2', '3']);
    const list = await cache.listFetch(CACHE, name('list'), { startIndex: 1 });
    check(list instanceof CacheListFetch.Hit, `listFetch: ${show(list)}`);
    check(list.valueList().join() === '2,3', `list ${list.valueList()}`);
    await cache.sortedSetPutElements(CACHE, name('zset'), { ann: 2, bob: 1, cat: 2 });
    const zset = await cache.sortedSetFetchByRank(CACHE, name('zset'), { order: SortedSetOrder.Descending });
    check(zset instanceof CacheSortedSetFetch.Hit, `sortedSetFetchByRank: ${show(zset)}`);
    const order = zset.valueArray().map(e => `${e.value}:${e.score}`).join();
    check(order === 'cat:2,ann:2,bob:1', `descending, ties by value reversed: ${order}`);
    const kind = await cache.itemGetType(CACHE, name('zset'));
    check(kind instanceof CacheItemGetType.Hit && kind.itemType() === ItemType.SORTED_SET, `itemGetType: ${show(kind)}`);
    const missing = await cache.dictionaryFetch(CACHE, name('none'));
    check(missing instanceof CacheDictionaryFetch.Miss, `missing dictionary: ${show(missing)}`);
    // The vended scope's key prefix applies to collection names.
    expectError(await cache.dictionaryFetch(CACHE, 'bob/dict'), MomentoErrorCode.PERMISSION_ERROR, 'dictionaryFetch bob/dict');
    expectError(await cache.sortedSetPutElement(CACHE, 'bob/zset', 'v', 1), MomentoErrorCode.PERMISSION_ERROR, 'sortedSetPutElement bob/zset');
    return { order };
  });

  await step('bob/x is a PermissionError', async () => {
    const cache = cacheClient(disposable(gateway, needs('token')));
    expectError(await cache.get(CACHE, 'bob/x'), MomentoErrorCode.PERMISSION_ERROR, 'get bob/x');
    expectError(await cache.set(CACHE, 'bob/x', 'v'), MomentoErrorCode.PERMISSION_ERROR, 'set bob/x');
  });

  await step('subscribe and publish on chat-1: the publisher id is the vended token id', async () => {
    const topics = new TopicClient({
      configuration: TopicConfigurations.Browser.latest(quiet),
      credentialProvider: disposable(gateway, needs('token')),
    });
    const text = `hi from ${user} ${run}`;
    let deliver;
    let fail;
    const received = new Promise((resolve, reject) => {
      deliver = resolve;
      fail = reject;
    });
    const subscription = await topics.subscribe(CACHE, 'chat-1', {
      onItem: item => {
        if (item.valueString() === text) deliver(item);
      },
      onError: error => fail(new Error(`subscription error: ${error.toString()}`)),
    });
    check(subscription instanceof TopicSubscribe.Subscription, `subscribe: ${show(subscription)}`);
    try {
      const published = await topics.publish(CACHE, 'chat-1', text);
      check(published instanceof TopicPublish.Success, `publish: ${show(published)}`);
      const item = await withTimeout(received, 5000, 'the published item');
      check(item.tokenId() === user, `publisher id ${JSON.stringify(item.tokenId())}, expected ${user}`);
      return { publisherId: item.tokenId(), sequenceNumber: item.sequenceNumber() };
    } finally {
      subscription.unsubscribe();
    }
  });

  await step('publishing outside chat- is a PermissionError', async () => {
    const topics = new TopicClient({
      configuration: TopicConfigurations.Browser.latest(quiet),
      credentialProvider: disposable(gateway, needs('token')),
    });
    expectError(
      await topics.publish(CACHE, 'news-1', 'nope'),
      MomentoErrorCode.PERMISSION_ERROR,
      'publish news-1',
    );
  });

  await step('a vended (fine-grained) token cannot mint: InvalidArgumentError', async () => {
    const auth = new AuthClient({ credentialProvider: disposable(gateway, needs('token')) });
    const minted = await auth.generateDisposableToken(
      DisposableTokenScopes.cacheKeyReadWrite(CACHE, 'anything'),
      ExpiresIn.seconds(60),
    );
    expectError(minted, MomentoErrorCode.INVALID_ARGUMENT_ERROR, 'generateDisposableToken');
  });

  await step('AuthClient.generateDisposableToken with the superuser key, the token used once', async () => {
    const auth = new AuthClient({ credentialProvider: apiKey(gateway, superuser) });
    const key = `minted/${run}`;
    const minted = await auth.generateDisposableToken(
      DisposableTokenScopes.cacheKeyReadWrite(CACHE, key),
      ExpiresIn.seconds(120),
      { tokenId: `web-${run}` },
    );
    check(minted instanceof GenerateDisposableToken.Success, `mint: ${show(minted)}`);
    const expiresIn = minted.expiresAt.epoch() - Date.now() / 1000;
    check(expiresIn > 60 && expiresIn <= 121, `expires in ${expiresIn} s`);
    const cache = cacheClient(disposable(gateway, minted.authToken));
    const set = await cache.set(CACHE, key, 'minted in a browser');
    check(set instanceof CacheSet.Success, `set with the minted token: ${show(set)}`);
    return { endpoint: minted.endpoint, expiresIn: Math.round(expiresIn) };
  });

  await step('the superuser key reads back what the minted token wrote', async () => {
    const admin = cacheClient(apiKey(gateway, superuser));
    const got = await admin.get(CACHE, `minted/${run}`);
    check(got instanceof CacheGet.Hit, `superuser get: ${show(got)}`);
    check(got.valueString() === 'minted in a browser', `value ${got.valueString()}`);
  });
}

window.__start = params => {
  run(params)
    .catch(e => results.steps.push({ name: 'the run', ok: false, error: String((e && e.stack) || e) }))
    .finally(() => {
      results.done = true;
    });
};
