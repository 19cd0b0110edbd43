'use strict';
// The harness for the Node SDK suite: starts a scopegate gateway per test
// file, mints credentials, builds SDK clients pointed at the gateway in
// plaintext, and a few assertion helpers.
//
// Environment (run.sh sets these):
//   SCOPEGATE_BIN               the gateway binary (default: <repo>/target/debug/scopegate)
//   SCOPEGATE_TEST_BACKEND      memory | redis (default: memory)
//   SCOPEGATE_TEST_REDIS_URL    redis://127.0.0.1:PORT when the backend is redis

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const sdk = require('@gomomento/sdk');
const {
  AuthClient,
  AuthClientConfigurations,
  CacheClient,
  Configurations,
  CredentialProvider,
  DefaultMomentoLoggerFactory,
  DefaultMomentoLoggerLevel,
  TopicClient,
  TopicConfigurations,
} = sdk;

const REPO = path.resolve(__dirname, '..', '..');
const BIN = process.env.SCOPEGATE_BIN || path.join(REPO, 'target', 'debug', 'scopegate');
const BACKEND = process.env.SCOPEGATE_TEST_BACKEND || 'memory';
const CACHE = 'default-cache';
const HEARTBEAT_MS = 1000;
const MAX_VALUE_BYTES = 1048576;
const START_TIMEOUT_MS = 15000;

// Gateways still running when this process ends (a failed or killed test
// file) are killed with it.
const liveChildren = new Map(); // child process -> its temp dir
process.once('exit', () => {
  for (const [child, dir] of liveChildren) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => process.exit(1));
}

const quietLogs = new DefaultMomentoLoggerFactory(DefaultMomentoLoggerLevel.ERROR);

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Decodes a JWT's claims (no verification: the gateway does that). */
function jwtClaims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** The inner JWT of an envelope `base64({"api_key", "endpoint"})`. */
function envelopeJwt(envelope) {
  return JSON.parse(Buffer.from(envelope, 'base64').toString('utf8')).api_key;
}

/** True for a disposable token; false for API keys and for what is not a JWT. */
function isDisposable(credential) {
  try {
    const jwt = credential.includes('.') ? credential : envelopeJwt(credential);
    return jwtClaims(jwt).t === 'disposable';
  } catch {
    return false;
  }
}

function uniqueName(prefix) {
  return `${prefix}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

function configText({ extraCaches }) {
  const backend =
    BACKEND === 'redis'
      ? [
          'kind = "redis"',
          `url = "${requiredEnv('SCOPEGATE_TEST_REDIS_URL')}"`,
          `namespace = "${uniqueName('sdknode')}"`,
        ]
      : ['kind = "memory"'];
  return [
    '[server]',
    'listen = "127.0.0.1:0"',
    'endpoint = "localhost"',
    `max_value_bytes = ${MAX_VALUE_BYTES}`,
    '[admin]',
    'listen = "127.0.0.1:0"',
    '[[keys]]',
    'kid = "k1"',
    'alg = "HS256"',
    'secret_file = "k1.secret"',
    'signing = true',
    '[backend]',
    ...backend,
    `heartbeat = "${HEARTBEAT_MS / 1000}s"`,
    ...[CACHE, ...extraCaches].flatMap(name => ['[[caches]]', `name = "${name}"`]),
    '',
  ].join('\n');
}

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set for the ${BACKEND} backend (run.sh sets it)`);
  return value;
}

/**
 * Starts a gateway in a fresh temp dir and resolves once it prints its
 * listening line. `extraCaches` exist from start besides `default-cache`.
 */
async function startGateway({ extraCaches = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scopegate-sdknode-'));
  fs.writeFileSync(path.join(dir, 'k1.secret'), execFileSync(BIN, ['keygen']), { mode: 0o600 });
  const config = path.join(dir, 'config.toml');
  fs.writeFileSync(config, configText({ extraCaches }));

  const child = spawn(BIN, ['serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', d => {
    stderr = (stderr + d).slice(-8192);
  });
  const port = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start within ${START_TIMEOUT_MS} ms: ${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stdout.on('data', d => {
      stdout += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', code => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening: ${stderr}`));
    });
  });
  child.stdout.resume();
  liveChildren.set(child, dir);
  child.once('exit', () => liveChildren.delete(child));
  return new Gateway({ dir, config, child, port, stderrTail: () => stderr });
}

class Gateway {
  constructor({ dir, config, child, port, stderrTail }) {
    this.dir = dir;
    this.config = config;
    this.child = child;
    this.port = port;
    this.addr = `127.0.0.1:${port}`;
    this.stderrTail = stderrTail;
    this.clients = [];
    this.superuser = this.mintCli(['--superuser']);
  }

  /** `scopegate token mint --config F ...`: the envelope it prints. */
  mintCli(args) {
    return execFileSync(BIN, ['token', 'mint', '--config', this.config, ...args], {
      encoding: 'utf8',
    }).trim();
  }

  /** A disposable token minted offline with a scope in the CLI's JSON shape. */
  mintDisposableCli(scope, { ttl = '10m', tokenId } = {}) {
    const args = ['--disposable', '--ttl', ttl, '--scope', JSON.stringify(scope)];
    if (tokenId) args.push('--token-id', tokenId);
    return this.mintCli(args);
  }

  /** The three endpoint overrides, plaintext, all at this gateway. */
  endpointOverrides() {
    return {
      cacheEndpoint: this.addr,
      controlEndpoint: this.addr,
      tokenEndpoint: this.addr,
      secureConnection: false,
    };
  }

  /**
   * A CredentialProvider for `credential` (an envelope) pointed at this
   * gateway: `fromDisposableToken` for disposable tokens, the legacy
   * `fromString` for API keys (both take endpointOverrides).
   */
  provider(credential) {
    const props = { apiKey: credential, endpointOverrides: this.endpointOverrides() };
    return isDisposable(credential)
      ? CredentialProvider.fromDisposableToken(props)
      : CredentialProvider.fromString(props);
  }

  /**
   * The SDK's v2 API-key provider (`fromApiKeyV2({apiKey, endpoint})`, given
   * the bare JWT) pointed at this gateway. The v2 provider takes no endpoint
   * overrides and always dials TLS on cache./control./token.<endpoint>, so
   * the SDK's provider parses and holds the key, and a thin delegate answers
   * the endpoints: this gateway, plaintext.
   */
  v2Provider(jwt) {
    return withPlaintextEndpoints(
      CredentialProvider.fromApiKeyV2({ apiKey: jwt, endpoint: 'localhost' }),
      this.addr,
    );
  }

  track(client) {
    this.clients.push(client);
    return client;
  }

  cacheClient(credential = this.superuser, { provider, configure = c => c } = {}) {
    return this.track(
      new CacheClient({
        configuration: configure(Configurations.Laptop.latest(quietLogs)),
        credentialProvider: provider || this.provider(credential),
        defaultTtlSeconds: 60,
      }),
    );
  }

  topicClient(credential = this.superuser, { provider, configure = c => c } = {}) {
    return this.track(
      new TopicClient({
        configuration: configure(TopicConfigurations.Default.latest(quietLogs)),
        credentialProvider: provider || this.provider(credential),
      }),
    );
  }

  authClient(credential = this.superuser, { provider } = {}) {
    return this.track(
      new AuthClient({
        configuration: AuthClientConfigurations.Default.latest(quietLogs),
        credentialProvider: provider || this.provider(credential),
      }),
    );
  }

  /** Mints a disposable token through the SDK's AuthClient with the superuser. */
  async mintDisposable(scope, expiresIn, props) {
    const resp = await this.authClient().generateDisposableToken(scope, expiresIn, props);
    expectType(resp, 'Success', 'generateDisposableToken');
    return resp.authToken;
  }

  async stop() {
    for (const c of this.clients.splice(0)) closeClient(c);
    if (this.child.exitCode === null) {
      const exited = new Promise(resolve => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A CredentialProvider that keeps `inner`'s credential and answers every
 * endpoint with `addr`, plaintext.
 */
function withPlaintextEndpoints(inner, addr) {
  const p = Object.create(inner);
  p.getCacheEndpoint = () => addr;
  p.getControlEndpoint = () => addr;
  p.getTokenEndpoint = () => addr;
  p.isEndpointSecure = () => false;
  p.isCacheEndpointSecure = () => false;
  p.isControlEndpointSecure = () => false;
  p.isTokenEndpointSecure = () => false;
  p.areEndpointsOverridden = () => true;
  return p;
}

/**
 * Closes an SDK client. AuthClient has no close(): its two gRPC clients are
 * closed through the internal client so the test process can exit.
 */
function closeClient(client) {
  if (typeof client.close === 'function') {
    client.close();
    return;
  }
  const internal = client.authClient;
  for (const grpcClient of [internal?.tokenClient, internal?.authClient]) {
    if (grpcClient && typeof grpcClient.close === 'function') grpcClient.close();
  }
}

/** Describes an SDK response for assertion messages. */
function describe(resp) {
  if (resp && typeof resp.errorCode === 'function' && resp.type === 'Error') {
    return `Error(${resp.errorCode()}: ${resp.message()})`;
  }
  return resp && resp.type !== undefined ? String(resp.type) : String(resp);
}

/** Asserts the response's `type` (Hit, Miss, Success, Stored, ...). */
function expectType(resp, type, what = '') {
  assert.equal(resp.type, type, `${what}: expected ${type}, got ${describe(resp)}`);
  return resp;
}

/** Asserts an error response with `code` (a MomentoErrorCode); returns it. */
function expectError(resp, code, what = '') {
  assert.equal(resp.type, 'Error', `${what}: expected Error(${code}), got ${describe(resp)}`);
  assert.equal(resp.errorCode(), code, `${what}: expected ${code}, got ${describe(resp)}`);
  return resp;
}

/** Resolves with the value of `promise`, or rejects after `ms`. */
function within(ms, promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Subscribes and records what arrives. `next(pred, ms)` waits (bounded) for
 * the first recorded event matching `pred` that was not taken yet.
 */
async function recordingSubscribe(topicClient, cache, topic) {
  const events = [];
  const waiters = [];
  const push = ev => {
    ev.at = Date.now();
    events.push(ev);
    for (const w of waiters.slice()) w();
  };
  const started = Date.now();
  const resp = await topicClient.subscribe(cache, topic, {
    onItem: item => push({ kind: 'item', item }),
    onHeartbeat: () => push({ kind: 'heartbeat' }),
    onDiscontinuity: d => push({ kind: 'discontinuity', d }),
    onError: err => push({ kind: 'error', err }),
    onConnectionLost: () => push({ kind: 'connectionLost' }),
    onSubscriptionEnd: () => push({ kind: 'end' }),
  });
  const subscribedAfterMs = Date.now() - started;
  let taken = 0;
  const next = (pred, ms, what) =>
    within(
      ms,
      new Promise(resolve => {
        const check = () => {
          for (let i = taken; i < events.length; i++) {
            if (pred(events[i])) {
              taken = i + 1;
              waiters.splice(waiters.indexOf(check), 1);
              resolve(events[i]);
              return true;
            }
          }
          return false;
        };
        waiters.push(check);
        check();
      }),
      what,
    );
  return { resp, events, next, subscribedAfterMs };
}

const isItem = ev => ev.kind === 'item';
const isError = ev => ev.kind === 'error';

/**
 * One gateway for the enclosing describe: started in its before hook, handed
 * to `onStart`, stopped in its after hook. The suite files' shared setup.
 */
function gatewayForSuite(onStart) {
  const { before, after } = require('node:test');
  let gw;
  before(async () => {
    gw = await startGateway();
    onStart(gw);
  });
  after(() => gw?.stop());
}

module.exports = {
  sdk,
  BACKEND,
  CACHE,
  HEARTBEAT_MS,
  MAX_VALUE_BYTES,
  startGateway,
  gatewayForSuite,
  withPlaintextEndpoints,
  envelopeJwt,
  jwtClaims,
  uniqueName,
  expectType,
  expectError,
  describe,
  within,
  sleep,
  recordingSubscribe,
  isItem,
  isError,
};
