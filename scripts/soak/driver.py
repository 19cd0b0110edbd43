#!/usr/bin/env python3
"""Load driver of scripts/soak.sh: mixed, checked traffic against one gateway.

    driver.py SETTINGS.json

SETTINGS (written by soak.sh): host, port, duration (s), rate (requests/s,
all workers together), workers, bin, config, tokens {name: envelope},
caches {main, other, missing}, max_value_bytes, long_poll_timeout (s),
sdk (bool), out (summary JSON path).

Every request's status is checked against what that very request must get
(see README.md, "The HTTP API"); anything else is an unexpected status. The
HTTP traffic is Python's http.client (HTTP/1.1 keep-alive, one connection per
thread); cache create/delete churn and a few gRPC data calls go through the
Momento Python SDK when it is importable (soak.sh installs it into a venv).
Every loop is bounded in time (the deadline) and in count.
"""

import base64
import collections
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse

S = json.load(open(sys.argv[1]))
HOST, PORT = S["host"], int(S["port"])
DURATION = float(S["duration"])
RATE = float(S["rate"])
WORKERS = int(S["workers"])
MAXV = int(S["max_value_bytes"])
LONG_POLL = float(S["long_poll_timeout"])
MAIN, OTHER, MISSING = S["caches"]["main"], S["caches"]["other"], S["caches"]["missing"]
TOPICS = ["soak-t0", "soak-t1"]  # subscribed (one long-poll loop each)
QUIET_TOPIC = "quiet-0"  # nobody publishes: polls on it end by expiry
START = time.monotonic()
DEADLINE = START + DURATION
STOP = threading.Event()  # set at the deadline (workers, churn, expiry)
SUBS_STOP = threading.Event()  # set once subscribers have caught up (or gave up)


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_of(envelope):
    return json.loads(b64url_decode(envelope))["api_key"]


def exp_of(envelope):
    payload = jwt_of(envelope).split(".")[1]
    return json.loads(b64url_decode(payload)).get("exp")


TOK = S["tokens"]  # envelopes: superuser, rw, ro, pubsub, expired
JWT = {name: jwt_of(env) for name, env in TOK.items()}


# --------------------------------------------------------------------- stats
class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_class = collections.Counter()  # class -> requests
        self.by_status = collections.Counter()  # (class, status) -> requests
        self.unexpected = collections.Counter()  # class -> unexpected
        self.samples = []  # details of the first unexpected ones
        self.retries = 0  # requests re-sent after a stale keep-alive connection
        self.notes = collections.Counter()  # informational counters

    def record(self, cls, status, expected, detail=""):
        ok = status in expected
        with self.lock:
            self.by_class[cls] += 1
            self.by_status[(cls, str(status))] += 1
            if not ok:
                self.unexpected[cls] += 1
                if len(self.samples) < 40:
                    self.samples.append(
                        {
                            "t": round(time.monotonic() - START, 2),
                            "class": cls,
                            "status": str(status),
                            "expected": sorted(str(e) for e in expected),
                            "detail": str(detail)[:300],
                        }
                    )
        return ok

    def note(self, name, n=1):
        with self.lock:
            self.notes[name] += n


STATS = Stats()


# -------------------------------------------------------------------- client
class Client:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closes."""

    def __init__(self, timeout=10.0):
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None):
        """Returns (status, body bytes, response headers). A request that fails
        on a reused connection before any answer (the server had closed it) is
        sent once more on a fresh one; any other failure is an 'EXC:' status."""
        for attempt in (0, 1):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(HOST, PORT, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.close()
                return resp.status, data, resp.headers
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                self.close()
                if fresh or attempt == 1:
                    return "EXC:" + type(e).__name__, repr(e).encode(), {}
                STATS.note("keepalive_retries")
            except (OSError, http.client.HTTPException) as e:
                self.close()
                return "EXC:" + type(e).__name__, repr(e).encode(), {}


def q(value):
    return urllib.parse.quote(value, safe="")


def cache_path(cache, key=None, ttl=None, extra=""):
    parts = []
    if key is not None:
        parts.append("key=" + q(key))
    if ttl is not None:
        parts.append(f"ttl_seconds={ttl}")
    if extra:
        parts.append(extra)
    return f"/cache/{q(cache)}" + ("?" + "&".join(parts) if parts else "")


def auth(envelope, form=None):
    """Headers (and a query suffix) carrying a credential in one of the
    accepted forms: raw envelope, Bearer envelope, bare JWT, token parameter."""
    form = form or random.choice(["raw", "bearer", "jwt", "query"])
    if form == "raw":
        return {"Authorization": envelope}, ""
    if form == "bearer":
        return {"Authorization": "Bearer " + envelope}, ""
    if form == "jwt":
        return {"Authorization": jwt_of(envelope)}, ""
    return {}, "token=" + q(envelope)


# ----------------------------------------------------- short-lived credentials
class Minter:
    """Mints credentials with the CLI (`scopegate token mint --config F`)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.short = []  # (envelope, exp) of re-minted short-lived tokens, newest last
        self.count = 0

    def mint(self, scope, ttl, token_id):
        cmd = [S["bin"], "token", "mint", "--config", S["config"], "--disposable",
               "--ttl", ttl, "--token-id", token_id, "--scope", json.dumps(scope)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        except subprocess.TimeoutExpired:
            STATS.record("mint (CLI)", "timeout", {0})
            return None
        STATS.record("mint (CLI)", out.returncode, {0}, out.stderr.strip())
        if out.returncode != 0:
            return None
        envelope = out.stdout.strip()
        return envelope, exp_of(envelope)

    def remint_short(self):
        self.count += 1
        scope = {"permissions": [{"role": "readwrite", "cache": MAIN, "item": {"keyPrefix": "user-42/"}}]}
        minted = self.mint(scope, "20s", f"short-{self.count}")
        if minted:
            with self.lock:
                self.short.append(minted)
                del self.short[:-6]

    def valid(self, margin=3.0):
        """A short-lived token with at least `margin` seconds left."""
        now = time.time()
        with self.lock:
            for env, exp in reversed(self.short):
                if exp - now >= margin:
                    return env
        return None

    def expired(self, margin=2.0):
        """A re-minted token that expired at least `margin` seconds ago."""
        now = time.time()
        with self.lock:
            for env, exp in self.short:
                if now - exp >= margin:
                    return env
        return None


MINTER = Minter()


def minter_loop():
    """Re-mints the short-lived readwrite token every 10 s (each lives 20 s)."""
    for _ in range(int(DURATION / 10) + 3):
        MINTER.remint_short()
        if STOP.wait(10):
            return


# --------------------------------------------------------------- topic state
class TopicState:
    def __init__(self):
        self.lock = threading.Lock()
        self.published = collections.Counter()  # topic -> 204s
        self.published_uncertain = collections.Counter()  # topic -> publishes with no answer
        self.received = collections.Counter()  # topic -> items received by its subscriber
        self.last_seq = {}  # topic -> (last sequence number seen, page)
        self.anomalies = []  # gaps, duplicates, discontinuities, bad values (first 40)
        self.anomaly_count = 0

    def anomaly(self, text):
        with self.lock:
            self.anomaly_count += 1
            if len(self.anomalies) < 40:
                self.anomalies.append(f"t={time.monotonic() - START:.1f}s {text}")


TOPIC = TopicState()


def subscriber_loop(topic):
    """Long polls `topic` from sequence number 1, each poll from the last
    sequence number received plus one; checks every item arrives once, in order."""
    client = Client(timeout=LONG_POLL + 10)
    headers, _ = auth(TOK["pubsub"], "raw")
    nxt, page = 1, None
    polls = int((DURATION + 30) * 2000)  # far above any poll rate: the deadline ends the loop
    for _ in range(polls):
        if SUBS_STOP.is_set():
            break
        query = f"sequence_number={nxt}" + (f"&sequence_page={page}" if page is not None else "")
        t0 = time.monotonic()
        status, body, _ = client.request("GET", f"/topics/{MAIN}/{topic}?{query}", headers=headers)
        elapsed = time.monotonic() - t0
        if not STATS.record("subscribe long poll (200)", status, {200}, body[:200]):
            time.sleep(0.5)
            continue
        if elapsed > LONG_POLL + 2:
            STATS.record("subscribe long poll (200)", f"late:{elapsed:.1f}s", set(), "poll overran long_poll_timeout")
        items = json.loads(body).get("items", [])
        if not items:
            STATS.note("long polls ended empty (timeout)")
        for entry in items:
            if "discontinuity" in entry:
                TOPIC.anomaly(f"{topic}: discontinuity {entry['discontinuity']} while expecting {nxt}")
                d = entry["discontinuity"]
                nxt, page = d["new_topic_sequence"], d["new_sequence_page"]
                continue
            item = entry["item"]
            seq = item["topic_sequence_number"]
            if page is None:
                page = item["sequence_page"]
            if seq != nxt:
                TOPIC.anomaly(f"{topic}: got sequence {seq}, expected {nxt}")
            value = item["value"]
            text = value.get("text")
            if text is None:
                text = base64.b64decode(value.get("binary", "")).decode("utf-8", "replace")
            if not text.startswith(f"{topic}/"):
                TOPIC.anomaly(f"{topic}: foreign message {text[:60]!r}")
            if item.get("publisher_id") != "soak-pubsub":
                TOPIC.anomaly(f"{topic}: publisher_id {item.get('publisher_id')!r}")
            nxt = seq + 1
            with TOPIC.lock:
                TOPIC.received[topic] += 1
                TOPIC.last_seq[topic] = (seq, page)
    client.close()


def expiring_poll_loop():
    """Mints a 3-second token, long polls a topic nobody publishes to, and
    checks the poll ends with 401 within a second of the token's expiry."""
    client = Client(timeout=LONG_POLL + 10)
    scope = {"permissions": [{"role": "subscribeonly", "cache": MAIN, "topic": {"prefix": "quiet-"}}]}
    for n in range(int(DURATION / 2) + 5):
        if STOP.is_set():
            break
        minted = MINTER.mint(scope, "3s", f"expiring-{n}")
        if not minted:
            STOP.wait(1)
            continue
        envelope, exp = minted
        headers, _ = auth(envelope, "raw")
        status, body, _ = client.request("GET", f"/topics/{MAIN}/{QUIET_TOPIC}", headers=headers)
        late = time.time() - exp
        cls = "long poll, token expires mid-poll (401)"
        if STATS.record(cls, status, {401}, body[:200]) and not -1.0 <= late <= 1.0:
            STATS.record(cls, f"401-at:{late:+.2f}s", set(), "401 came more than 1 s away from exp")
    client.close()


# ------------------------------------------------------------------- workers
KEYS_PER_WORKER = 200
TTLS = [3, 30, 600]


class Worker:
    def __init__(self, wid):
        self.wid = wid
        self.client = Client()
        self.rng = random.Random(1000 + wid)
        self.state = {}  # key -> (value, t_sent, t_answered, ttl) of the last 204 PUT
        self.seq = 0

    def key(self, i=None):
        i = self.rng.randrange(KEYS_PER_WORKER) if i is None else i
        return f"user-42/w{self.wid}/k{i}"

    def req(self, cls, expected, method, path, body=None, headers=None, check=None):
        t0 = time.monotonic()
        status, data, rh = self.client.request(method, path, body=body, headers=headers)
        t1 = time.monotonic()
        detail = data[:200]
        if check is not None and status in expected:
            problem = check(status, data)
            if problem:
                status, detail = f"{status}-bad-body", problem
        STATS.record(cls, status, expected, detail)
        return status, t0, t1

    # --- authorized cache traffic, checked against this worker's own keys
    def expectation(self, key, now_start, now_end):
        """What a GET of `key` sent at now_start, answered by now_end, must get."""
        entry = self.state.get(key)
        if entry is None:
            return {404}, None
        value, t_sent, t_answered, ttl = entry
        if now_end < t_sent + ttl - 0.05:
            return {200}, value
        if now_start > t_answered + ttl + 1.0:
            return {404}, None
        return {200, 404}, value  # at the TTL boundary: either, but the right value

    def put(self, envelope, cls):
        key = self.key()
        ttl = self.rng.choice(TTLS)
        self.seq += 1
        value = f"{key}#{self.seq}#".encode() + os.urandom(self.rng.randrange(8, 1024))
        headers, extra = auth(envelope)
        status, t0, t1 = self.req(cls, {204}, "PUT", cache_path(MAIN, key, ttl, extra), value, headers)
        if status == 204:
            self.state[key] = (value, t0, t1, ttl)
        elif str(status).startswith("EXC"):
            self.state[key] = None  # outcome unknown: GETs skip the key until it is written again

    def get(self, envelope, cls):
        key = self.key()
        if self.state.get(key, 0) is None:  # unknown state after a transport error
            return
        headers, extra = auth(envelope)
        t0 = time.monotonic()
        status, data, _ = self.client.request("GET", cache_path(MAIN, key, extra=extra), headers=headers)
        t1 = time.monotonic()
        expected, value = self.expectation(key, t0, t1)
        detail = data[:120]
        label = cls + (" (TTL boundary: 200|404)" if expected == {200, 404} else " (%s)" % "|".join(map(str, sorted(expected))))
        if status == 200 and value is not None and data != value:
            status, detail = "200-wrong-value", f"got {data[:60]!r}"
        STATS.record(label, status, expected, detail)

    def delete(self, envelope, cls):
        key = self.key()
        headers, extra = auth(envelope)
        status, _, _ = self.req(cls, {204}, "DELETE", cache_path(MAIN, key, extra=extra), headers=headers)
        if status == 204:
            self.state.pop(key, None)
        elif str(status).startswith("EXC"):
            self.state[key] = None

    # --- one step of the mix
    def step(self):
        r = self.rng.random() * TOTAL_WEIGHT
        for weight, name in MIX:
            r -= weight
            if r < 0:
                getattr(self, name)()
                return

    def a_put(self):
        self.put(TOK["rw"], "PUT scoped readwrite (204)")

    def a_get_rw(self):
        self.get(TOK["rw"], "GET scoped readwrite")

    def a_get_super(self):
        self.get(TOK["superuser"], "GET superuser")

    def a_get_ro(self):
        self.get(TOK["ro"], "GET readonly")

    def a_delete(self):
        self.delete(TOK["rw"], "DELETE scoped readwrite (204)")

    def a_short(self):
        env = MINTER.valid()
        if env is None:
            return
        if self.rng.random() < 0.5:
            self.put(env, "PUT short-lived re-minted token (204)")
        else:
            self.get(env, "GET short-lived re-minted token")

    def a_wrong_prefix(self):
        method = self.rng.choice(["GET", "PUT", "DELETE"])
        key = f"user-7/w{self.wid}/k{self.rng.randrange(50)}"
        headers, extra = auth(TOK["rw"])
        ttl = 60 if method == "PUT" else None
        body = b"x" * 32 if method == "PUT" else None
        self.req("wrong key prefix (403)", {403}, method, cache_path(MAIN, key, ttl, extra), body, headers)

    def a_other_cache(self):
        headers, extra = auth(TOK["rw"])
        self.req("scoped token, cache not granted (403)", {403}, "GET",
                 cache_path(OTHER, self.key(), extra=extra), headers=headers)

    def a_ro_write(self):
        headers, extra = auth(TOK["ro"])
        if self.rng.random() < 0.6:
            self.req("read-only token writing (403)", {403}, "PUT",
                     cache_path(MAIN, self.key(), 60, extra), b"nope", headers)
        else:
            self.req("read-only token writing (403)", {403}, "DELETE",
                     cache_path(MAIN, self.key(), extra=extra), headers=headers)

    def a_garbage(self):
        jwt = JWT["superuser"]
        head, payload, sig = jwt.split(".")
        forms = [
            "not-a-token",
            base64.urlsafe_b64encode(os.urandom(self.rng.randrange(16, 300))).decode(),
            f"{head}.{payload}.{sig[:-4]}AAAA",  # bad signature
            f"{head}.{payload[:-3]}xyz.{sig}",  # tampered claims
            jwt[: len(jwt) // 2],  # truncated
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + ".",  # alg none
            "a" * 9000,  # over max_credential_bytes
            "Bearer",
        ]
        cred = self.rng.choice(forms)
        method = self.rng.choice(["GET", "PUT", "DELETE"])
        ttl = 60 if method == "PUT" else None
        body = b"v" if method == "PUT" else None
        if self.rng.random() < 0.5:
            headers, extra = {"Authorization": cred}, ""
        else:
            headers, extra = {}, "token=" + q(cred)
        self.req("garbage token (401)", {401}, method, cache_path(MAIN, self.key(), ttl, extra), body, headers)

    def a_no_credential(self):
        self.req("no credential (401)", {401}, "GET", cache_path(MAIN, self.key()))

    def a_expired(self):
        env = TOK["expired"] if self.rng.random() < 0.5 else (MINTER.expired() or TOK["expired"])
        if time.time() - exp_of(env) < 2:
            return
        headers, extra = auth(env)
        method = self.rng.choice(["GET", "PUT"])
        ttl = 60 if method == "PUT" else None
        body = b"late" if method == "PUT" else None
        self.req("expired token (401)", {401}, method, cache_path(MAIN, self.key(), ttl, extra), body, headers)

    def a_missing_cache(self):
        headers, extra = auth(TOK["superuser"])
        method = self.rng.choice(["GET", "PUT", "DELETE"])
        ttl = 60 if method == "PUT" else None
        body = b"nowhere" if method == "PUT" else None
        self.req("missing cache, superuser (404)", {404}, method,
                 cache_path(f"{MISSING}-{self.rng.randrange(5)}", "k", ttl, extra), body, headers)

    def a_bad_query(self):
        headers, _ = auth(TOK["rw"], "raw")
        k = q(self.key())
        cases = [
            ("GET", f"/cache/{MAIN}", None, headers),  # no key
            ("GET", f"/cache/{MAIN}?key=user-42/%zz", None, headers),  # malformed escape
            ("GET", f"/cache/{MAIN}?key={k}&key={k}", None, headers),  # repeated
            ("GET", f"/cache/{MAIN}?key={k}&key_base64=YQ==", None, headers),  # both forms
            ("GET", f"/cache/{MAIN}?key=", None, headers),  # empty key
            ("PUT", f"/cache/{MAIN}?key={k}", b"v", headers),  # no ttl
            ("PUT", f"/cache/{MAIN}?key={k}&ttl_seconds=0", b"v", headers),
            ("PUT", f"/cache/{MAIN}?key={k}&ttl_seconds=1.5", b"v", headers),
            ("GET", f"/cache/{MAIN}?key={k}&token={q(TOK['rw'])}", None, headers),  # header + param
            ("GET", f"/topics/{MAIN}/soak-t0?sequence_number=abc", None, headers),
            ("GET", f"/cache/%ff?key={k}", None, headers),  # cache name not UTF-8
        ]
        method, path, body, h = self.rng.choice(cases)
        self.req("bad query (400)", {400}, method, path, body, h)

    def a_bad_route(self):
        headers, _ = auth(TOK["superuser"], "raw")
        if self.rng.random() < 0.5:
            self.req("no such route (404)", {404}, "GET", f"/nope/{MAIN}?key=a", headers=headers)
        else:
            self.req("wrong method (405)", {405}, "POST", cache_path(MAIN, self.key()), b"x", headers)

    def a_oversized(self):
        kind = self.rng.choice(["put-declared", "publish-declared", "put-chunked"])
        status, detail = oversized(kind)
        STATS.record(f"oversized body, {kind} (413)", status, {413}, detail)

    def a_publish(self):
        topic = self.rng.choice(TOPICS)
        self.seq += 1
        text = f"{topic}/w{self.wid}/{self.seq}/" + "m" * self.rng.randrange(0, 400)
        if self.rng.random() < 0.7:
            headers, body = {"Authorization": TOK["pubsub"], "Content-Type": "text/plain"}, text.encode()
        else:
            headers, body = {"Authorization": TOK["pubsub"]}, text.encode()  # binary
        status, _, _ = self.req("publish (204)", {204}, "POST", f"/topics/{MAIN}/{topic}", body, headers)
        with TOPIC.lock:
            if status == 204:
                TOPIC.published[topic] += 1
            elif str(status).startswith("EXC"):
                TOPIC.published_uncertain[topic] += 1

    def a_topic_denied(self):
        case = self.rng.randrange(4)
        if case == 0:  # pubsub token, topic outside its prefix
            self.req("topic denied (403)", {403}, "POST", f"/topics/{MAIN}/other-topic", b"x",
                     {"Authorization": TOK["pubsub"], "Content-Type": "text/plain"})
        elif case == 1:  # cache permissions never grant topics
            self.req("topic denied (403)", {403}, "POST", f"/topics/{MAIN}/soak-t0", b"x",
                     {"Authorization": TOK["rw"], "Content-Type": "text/plain"})
        elif case == 2:  # topic permissions never grant items
            self.req("topic denied (403)", {403}, "GET", cache_path(MAIN, self.key()),
                     headers={"Authorization": TOK["pubsub"]})
        else:  # a read-only cache token subscribing
            self.req("topic denied (403)", {403}, "GET", f"/topics/{MAIN}/soak-t1",
                     headers={"Authorization": TOK["ro"]})

    def a_replay(self):
        topic = self.rng.choice(TOPICS)
        with TOPIC.lock:
            last = TOPIC.last_seq.get(topic)
        if not last or last[0] < 5:
            return
        seq, page = last
        start = max(1, seq - self.rng.randrange(1, 20))

        def check(status, data):
            items = json.loads(data).get("items", [])
            if not items:
                return "replay returned no items"
            first = items[0]
            if "item" in first and first["item"]["topic_sequence_number"] != start:
                return f"replay started at {first['item']['topic_sequence_number']}, asked {start}"
            return None

        self.req("replay from a sequence number (200)", {200}, "GET",
                 f"/topics/{MAIN}/{topic}?sequence_number={start}&sequence_page={page}",
                 headers={"Authorization": TOK["pubsub"]}, check=check)

    def run(self):
        interval = WORKERS / RATE
        next_at = time.monotonic()
        for _ in range(int(DURATION * RATE / WORKERS * 2) + 100):
            now = time.monotonic()
            if now >= DEADLINE or STOP.is_set():
                break
            if next_at > now:
                time.sleep(next_at - now)
            next_at = max(next_at + interval, time.monotonic() - 1.0)
            try:
                self.step()
            except Exception:  # a driver bug must show, not kill the thread silently
                STATS.record("driver exception", "EXC:driver", set(), traceback.format_exc()[-300:])
        self.client.close()


MIX = [
    (20, "a_put"), (14, "a_get_rw"), (6, "a_get_super"), (5, "a_get_ro"), (6, "a_delete"),
    (6, "a_short"), (4, "a_wrong_prefix"), (2, "a_other_cache"), (4, "a_ro_write"),
    (4, "a_garbage"), (2, "a_no_credential"), (3, "a_expired"), (3, "a_missing_cache"),
    (4, "a_bad_query"), (1, "a_bad_route"), (1.5, "a_oversized"), (10, "a_publish"),
    (3, "a_topic_denied"), (2, "a_replay"),
]
if os.environ.get("SOAK_ONLY"):  # debugging: a subset of the mix, e.g. SOAK_ONLY=a_put,a_get_rw
    MIX = [(w, n) for w, n in MIX if n in os.environ["SOAK_ONLY"].split(",")]
TOTAL_WEIGHT = sum(w for w, _ in MIX)


def read_status(sock):
    """Reads one response head from a raw socket; returns (status, head text)."""
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    try:
        return int(head.split(" ", 2)[1]), head
    except (IndexError, ValueError):
        return "EXC:no-status", head[:200]


def oversized(kind):
    """An over-limit body on a fresh connection. Declared: Content-Length over
    max_value_bytes with `Expect: 100-continue` (refused before a byte of the
    body, as curl sends large uploads). Chunked: no declared length, one chunk
    of max_value_bytes + 1, refused once the limit is crossed while reading."""
    try:
        with socket.create_connection((HOST, PORT), timeout=10) as sock:
            if kind == "put-declared":
                head = (f"PUT /cache/{MAIN}?key=user-42/big&ttl_seconds=60 HTTP/1.1\r\nHost: x\r\n"
                        f"Authorization: {TOK['rw']}\r\nContent-Length: {MAXV + 1 + random.randrange(100000)}\r\n"
                        "Expect: 100-continue\r\n\r\n")
                sock.sendall(head.encode())
                return read_status(sock)
            if kind == "publish-declared":
                head = (f"POST /topics/{MAIN}/soak-t0 HTTP/1.1\r\nHost: x\r\n"
                        f"Authorization: {TOK['pubsub']}\r\nContent-Length: {MAXV + 1}\r\n"
                        "Content-Type: text/plain\r\nExpect: 100-continue\r\n\r\n")
                sock.sendall(head.encode())
                return read_status(sock)
            head = (f"PUT /cache/{MAIN}?key=user-42/big&ttl_seconds=60 HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: {TOK['rw']}\r\nTransfer-Encoding: chunked\r\n\r\n")
            size = MAXV + 1
            sock.sendall(head.encode() + f"{size:x}\r\n".encode() + b"z" * size + b"\r\n")
            return read_status(sock)
    except OSError as e:
        return "EXC:" + type(e).__name__, repr(e)


# ---------------------------------------------------------------- SDK churn
def churn_loop():
    """Cache create/delete churn through Momento's Python SDK (gRPC control
    plane), with HTTP and gRPC data calls on the churned caches."""
    from datetime import timedelta

    from momento import CacheClient, Configurations, CredentialProvider
    from momento.errors import MomentoErrorCode
    from momento.responses import CacheGet, CacheSet, CreateCache, DeleteCache, ListCaches

    def client(name):
        creds = CredentialProvider(JWT[name], HOST, HOST, HOST, PORT)
        return CacheClient(Configurations.Laptop.latest(), creds, timedelta(seconds=60))

    def kind(resp):
        name = type(resp).__name__
        if hasattr(resp, "error_code"):
            return f"{name}:{resp.error_code.name}"
        return name

    def check(cls, resp, expected):
        STATS.record(cls, kind(resp), expected, getattr(resp, "message", ""))

    http = Client()
    su_headers = {"Authorization": TOK["superuser"]}
    with client("superuser") as su, client("rw") as rw:
        for n in range(int(DURATION) + 10):
            if STOP.is_set():
                break
            name = f"churn-{n % 4}"
            check("gRPC CreateCache (Success)", su.create_cache(name), {"Success"})
            check("gRPC CreateCache existing (CacheAlreadyExists)", su.create_cache(MAIN), {"CacheAlreadyExists"})
            check("gRPC Set superuser (Success)", su.set(name, "k", f"v{n}"), {"Success"})
            got = su.get(name, "k")
            ok = isinstance(got, CacheGet.Hit) and got.value_string == f"v{n}"
            STATS.record("gRPC Get superuser (Hit)", "Hit" if ok else kind(got), {"Hit"})
            status, data, _ = http.request("PUT", cache_path(name, "h", 60), b"hv", su_headers)
            STATS.record("HTTP PUT on churned cache (204)", status, {204}, data[:120])
            status, data, _ = http.request("GET", cache_path(name, "h"), headers=su_headers)
            STATS.record("HTTP GET on churned cache (200)", status if data == b"hv" or status != 200 else "200-wrong-value", {200}, data[:120])
            if n % 10 == 0:
                listed = su.list_caches()
                names = [c.name for c in listed.caches] if isinstance(listed, ListCaches.Success) else []
                STATS.record("gRPC ListCaches (Success, lists both)",
                             "Success" if MAIN in names and name in names else kind(listed) + f"{names}", {"Success"})
            check("gRPC DeleteCache (Success)", su.delete_cache(name), {"Success"})
            check("gRPC DeleteCache missing (NOT_FOUND)", su.delete_cache(name), {"Error:NOT_FOUND_ERROR"})
            status, data, _ = http.request("GET", cache_path(name, "h"), headers=su_headers)
            STATS.record("HTTP GET on deleted cache (404)", status, {404}, data[:120])
            check("gRPC Get on deleted cache (NOT_FOUND)", su.get(name, "k"), {"Error:NOT_FOUND_ERROR"})
            # Scoped gRPC data calls and a scoped control-plane call.
            check("gRPC Set scoped in prefix (Success)", rw.set(MAIN, f"user-42/grpc/{n % 50}", "g"), {"Success"})
            check("gRPC Get scoped in prefix (Hit)", rw.get(MAIN, f"user-42/grpc/{n % 50}"), {"Hit"})
            check("gRPC Set scoped wrong prefix (PERMISSION_ERROR)", rw.set(MAIN, "user-7/grpc", "g"),
                  {"Error:PERMISSION_ERROR"})
            check("gRPC CreateCache scoped (PERMISSION_ERROR)", rw.create_cache("never"), {"Error:PERMISSION_ERROR"})
            if STOP.wait(1.0):
                break
    http.close()


def guarded(fn, *args):
    def run():
        try:
            fn(*args)
        except Exception:
            STATS.record(f"driver exception in {fn.__name__}", "EXC:driver", set(), traceback.format_exc()[-600:])
    return threading.Thread(target=run, name=fn.__name__, daemon=True)


# ---------------------------------------------------------------------- main
def main():
    threads = []
    subs = [guarded(subscriber_loop, t) for t in TOPICS]
    for t in subs:
        t.start()
    time.sleep(0.3)  # subscribers attached before the first publish
    minter = guarded(minter_loop)
    minter.start()
    others = [guarded(expiring_poll_loop)]
    churn_note = None
    if os.environ.get("SOAK_SIDE") == "0":  # debugging: workers and subscribers only
        others, churn_note = [], "SOAK_SIDE=0: no churn, no expiring polls"
    elif S["sdk"]:
        try:
            import momento  # noqa: F401
            others.append(guarded(churn_loop))
        except ImportError as e:
            churn_note = f"momento SDK not importable ({e}): no cache churn"
    else:
        churn_note = "momento SDK not installed: no cache create/delete churn (only the [[caches]]-declared caches)"
    workers = [Worker(i) for i in range(WORKERS)]
    threads = [guarded(w.run) for w in workers] + others
    for t in threads:
        t.start()
    for _ in range(int(DURATION) + 10):  # until the deadline, then everyone stops
        left = DEADLINE - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(1.0, left))
    STOP.set()
    for t in threads:
        t.join(timeout=max(1.0, DEADLINE - time.monotonic() + 30))
    STATS.note("driver: seconds from the deadline to all load threads done", round(time.monotonic() - DEADLINE, 1))
    minter.join(timeout=15)
    # Let the subscribers catch up with every 204 publish, then stop them.
    for _ in range(int((LONG_POLL + 10) / 0.2)):
        with TOPIC.lock:
            behind = any(TOPIC.received[t] < TOPIC.published[t] for t in TOPICS)
        if not behind:
            break
        time.sleep(0.2)
    SUBS_STOP.set()
    for t in subs:
        t.join(timeout=LONG_POLL + 12)
    load_seconds = time.monotonic() - START

    with TOPIC.lock:
        for t in TOPICS:
            extra = TOPIC.received[t] - TOPIC.published[t]
            if extra < 0 or extra > TOPIC.published_uncertain[t]:
                TOPIC.anomaly_count += 1
                TOPIC.anomalies.append(
                    f"{t}: published {TOPIC.published[t]} (+{TOPIC.published_uncertain[t]} unanswered), received {TOPIC.received[t]}")
    alive = [t.name for t in threads + subs + [minter] if t.is_alive()]
    total = sum(STATS.by_class.values())
    summary = {
        "load_seconds": round(load_seconds, 1),
        "requests_total": total,
        "requests_per_second": round(total / load_seconds, 1),
        "by_class": dict(sorted(STATS.by_class.items())),
        "by_status": {f"{c} -> {s}": n for (c, s), n in sorted(STATS.by_status.items())},
        "unexpected_total": sum(STATS.unexpected.values()),
        "unexpected_by_class": dict(STATS.unexpected),
        "unexpected_samples": STATS.samples,
        "notes": dict(STATS.notes),
        "topics": {t: {"published": TOPIC.published[t], "received": TOPIC.received[t],
                       "unanswered_publishes": TOPIC.published_uncertain[t]} for t in TOPICS},
        "topic_anomalies": TOPIC.anomaly_count,
        "topic_anomaly_samples": TOPIC.anomalies,
        "churn_note": churn_note,
        "threads_still_alive": alive,
    }
    with open(S["out"], "w") as f:
        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
