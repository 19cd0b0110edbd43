'use strict';
// The browser suite: Momento's Web SDK in Debian's chromium (driven by
// playwright-core) against real scopegate gateways, and the `/demo` page of
// `serve --dev`. run.sh installs, bundles and starts redis; this file starts
// everything else and stops it on every exit path.
//
// Environment (run.sh sets these):
//   SCOPEGATE_BIN             the gateway binary
//   SCOPEGATE_BROWSER_DIST    the bundled test page (index.html, page.js)
//   SCOPEGATE_TEST_BACKEND    memory | redis
//   SCOPEGATE_TEST_REDIS_URL  redis://127.0.0.1:PORT for redis
//   CHROMIUM                  the browser (default /usr/bin/chromium)

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { test, before, after } = require('node:test');

const { chromium } = require('playwright-core');

const REPO = path.resolve(__dirname, '..', '..');
const BIN = process.env.SCOPEGATE_BIN || path.join(REPO, 'target', 'debug', 'scopegate');
const DIST = process.env.SCOPEGATE_BROWSER_DIST || path.join(REPO, 'target', 'browser', 'dist');
const BACKEND = process.env.SCOPEGATE_TEST_BACKEND || 'memory';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const START_TIMEOUT_MS = 15000;
const USER = 'alice';
const RUN = crypto.randomBytes(4).toString('hex');

// --- processes and files of this run, gone on every exit path -------------
const children = new Set();
const dirs = new Set();
function killAll(signal) {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}
process.once('exit', () => {
  killAll('SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(1));

function tempDir(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `scopegate-browser-${name}-`));
  dirs.add(dir);
  return dir;
}

function run(args, input) {
  return execFileSync(BIN, args, { input, timeout: 15000, stdio: ['pipe', 'pipe', 'pipe'] })
    .toString()
    .trim();
}

/** Spawns a gateway and resolves with its port once it prints its listening line. */
function startGateway(name, args, env = {}) {
  const child = spawn(BIN, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SCOPEGATE_LOG: 'warn', ...env },
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', d => {
    stderr = (stderr + d).slice(-8192);
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout.on('data', d => {
      stdout += d;
      const m = /scopegate listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stdout: () => stdout, stderr: () => stderr });
      }
    });
    child.on('exit', code => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening: ${stderr}`));
    });
  });
}

/** The bundled page on its own loopback origin (another port than the gateway's). */
function startStaticServer() {
  const files = {
    '/': ['index.html', 'text/html; charset=utf-8'],
    '/index.html': ['index.html', 'text/html; charset=utf-8'],
    '/page.js': ['page.js', 'text/javascript; charset=utf-8'],
  };
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    if (req.method !== 'GET' || !file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' });
    res.end(fs.readFileSync(path.join(DIST, file[0])));
  });
  return new Promise(resolve => {
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function backendConfig(namespace) {
  if (BACKEND !== 'redis') return ['kind = "memory"'];
  const url = process.env.SCOPEGATE_TEST_REDIS_URL;
  if (!url) throw new Error('SCOPEGATE_TEST_REDIS_URL must be set for the redis backend (run.sh sets it)');
  return ['kind = "redis"', `url = "${url}"`, `namespace = "${namespace}"`];
}

const POLICY_SCOPE = JSON.stringify({
  permissions: [
    { role: 'readwrite', cache: 'default-cache', item: { keyPrefix: '{sub}/' } },
    { role: 'publishsubscribe', cache: 'default-cache', topic: { prefix: 'chat-' } },
  ],
});

function configText(origin) {
  return [
    '[server]',
    'listen = "127.0.0.1:0"',
    'endpoint = "localhost"',
    `cors_origins = ["${origin}"]`,
    '[admin]',
    'listen = "127.0.0.1:0"',
    '[[keys]]',
    'kid = "k1"',
    'alg = "HS256"',
    'secret_file = "k1.secret"',
    'signing = true',
    '[backend]',
    ...backendConfig(`browser-${RUN}`),
    'heartbeat = "1s"',
    '[[caches]]',
    'name = "default-cache"',
    '[vending]',
    'auth = "basic"',
    'users_file = "users.txt"',
    '[[vending.policies]]',
    'group = "users"',
    `scope = '${POLICY_SCOPE}'`,
    'ttl = "10m"',
    '',
  ].join('\n');
}

// --- the fixture: a gateway from a config, a dev gateway, a static server, chromium
const fixture = {};

before(async () => {
  assert.ok(fs.existsSync(path.join(DIST, 'page.js')), `no bundle in ${DIST} (run.sh bundles it)`);
  fixture.static = await startStaticServer();
  const origin = `http://127.0.0.1:${fixture.static.address().port}`;
  fixture.origin = origin;

  const dir = tempDir('gateway');
  fs.writeFileSync(path.join(dir, 'k1.secret'), run(['keygen']) + '\n', { mode: 0o600 });
  fixture.password = crypto.randomBytes(12).toString('base64url');
  const hash = run(['vending', 'hash-password'], fixture.password + '\n');
  fs.writeFileSync(path.join(dir, 'users.txt'), `${USER}:${hash}:users\n`, { mode: 0o600 });
  const config = path.join(dir, 'config.toml');
  fs.writeFileSync(config, configText(origin));
  fixture.superuser = run(['token', 'mint', '--config', config, '--superuser']);
  fixture.gateway = await startGateway('the gateway', ['serve', '--config', config]);

  const devEnv = {
    SCOPEGATE_SERVER_LISTEN: '127.0.0.1:0',
    SCOPEGATE_ADMIN_LISTEN: '127.0.0.1:0',
  };
  if (BACKEND === 'redis') devEnv.SCOPEGATE_BACKEND_URL = process.env.SCOPEGATE_TEST_REDIS_URL;
  fixture.dev = await startGateway('the dev gateway', ['serve', '--dev'], devEnv);

  fixture.browser = await launchChromium();
  fixture.browser.setDefaultTimeout(15000);
});

// Chromium on a busy machine can fail to come up at all (its launch hangs
// before the DevTools pipe answers): a fresh profile is tried again, at most
// three times of 30 s each, so a slow start is not a failed suite and a
// broken browser still fails within the suite's bound.
async function launchChromium() {
  let last;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await chromium.launchPersistentContext(tempDir('chromium'), {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        timeout: 30000,
      });
    } catch (e) {
      last = e;
      console.error(`chromium did not start (attempt ${attempt} of 3): ${String(e).split('\n')[0]}`);
    }
  }
  throw last;
}

after(async () => {
  if (fixture.browser) await fixture.browser.close().catch(() => {});
  if (fixture.static) fixture.static.close();
  killAll('SIGTERM');
  await Promise.all(
    [...children].map(
      child =>
        new Promise(resolve => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 5000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    ),
  );
});

/** A page whose console errors, uncaught errors and CSP violations are collected. */
async function watchedPage() {
  const page = await fixture.browser.newPage();
  const problems = [];
  page.on('console', message => {
    // The browser's own favicon request is not the page's doing.
    if (message.type() !== 'error' || /\/favicon\.ico$/.test(message.location().url || '')) return;
    problems.push(`console: ${message.text()} (${message.location().url || 'no url'})`);
  });
  page.on('pageerror', error => problems.push(`uncaught: ${error.message}`));
  return { page, problems };
}

test('the Web SDK in chromium: vend, cache, topics, minting (gRPC-Web, CORS)', async t => {
  const { page, problems } = await watchedPage();
  try {
    await page.goto(`${fixture.origin}/`);
    await page.evaluate(params => window.__start(params), {
      gateway: `http://127.0.0.1:${fixture.gateway.port}`,
      user: USER,
      password: fixture.password,
      superuser: fixture.superuser,
      run: RUN,
    });
    let timedOut = null;
    await page
      .waitForFunction(() => window.__results && window.__results.done, null, { timeout: 90000 })
      .catch(e => {
        timedOut = e;
      });
    const results = await page.evaluate(() => window.__results);
    assert.ok(results.steps.length > 0, 'the page recorded no step');
    for (const step of results.steps) {
      await t.test(step.name, () => {
        assert.ok(step.ok, `${step.error}\n(${step.ms} ms; page console: ${problems.join(' | ') || 'quiet'})`);
      });
    }
    assert.equal(timedOut, null, `the page did not finish: ${timedOut}`);
  } finally {
    await page.close();
  }
});

test('the /demo page of serve --dev: messages typed in one tab show up in two', async () => {
  const url = `http://127.0.0.1:${fixture.dev.port}/demo`;
  const room = `r${RUN}`;
  const tabs = [];
  try {
    for (const name of ['carol', 'dave']) {
      const tab = await watchedPage();
      tabs.push(tab);
      const response = await tab.page.goto(url);
      assert.equal(response.status(), 200, `GET /demo: ${response.status()}`);
      const csp = response.headers()['content-security-policy'] || '';
      assert.match(csp, /default-src 'none'/, `CSP: ${csp}`);
      assert.match(await tab.page.textContent('#warning'), /open/);
      await tab.page.fill('#name', name);
      await tab.page.fill('#room', room);
      await tab.page.click('#join');
      await tab.page
        .waitForFunction(() => /^connected/.test(document.getElementById('status').textContent), null, {
          timeout: 10000,
        })
        .catch(async e => {
          throw new Error(`${name} did not connect: status "${await tab.page.textContent('#status')}" (${e.message})`);
        });
    }
    const [carol, dave] = tabs.map(tab => tab.page);
    const typed = ['hello from carol', 'a second message'];
    for (const text of typed) {
      await carol.fill('#message', text);
      await carol.press('#message', 'Enter');
      await carol.waitForFunction(() => document.getElementById('message').value === '', null, { timeout: 5000 });
    }
    const lines = page =>
      page.$$eval('#messages li[data-sequence]', items =>
        items.map(li => [li.dataset.publisher, li.querySelector('.text').textContent]),
      );
    for (const [name, page] of [['carol', carol], ['dave', dave]]) {
      await page
        .waitForFunction(n => document.querySelectorAll('#messages li[data-sequence]').length >= n, typed.length, {
          timeout: 10000,
        })
        .catch(async e => {
          throw new Error(
            `${name}'s tab shows ${JSON.stringify(await lines(page))}, status "${await page.textContent('#status')}" (${e.message})`,
          );
        });
      assert.deepEqual(
        await lines(page),
        typed.map(text => ['carol', text]),
        `${name}'s tab`,
      );
    }
    for (const [i, tab] of tabs.entries()) {
      assert.deepEqual(tab.problems, [], `tab ${i}: errors or CSP violations`);
    }
  } finally {
    for (const tab of tabs) await tab.page.close().catch(() => {});
  }
});
