"""Harness for the Python SDK suite: run one scopegate, point Momento's SDK at it.

The gateway is started once per pytest session (see conftest.py) from a fresh
temp dir holding an HS256 key and a config; the backend comes from
SCOPEGATE_TEST_BACKEND (``memory`` or ``redis``; redis needs SCOPEGATE_REDIS_URL).

Pointing the SDK at scopegate: momento 1.29.1 has no endpoint-override option.
A ``CredentialProvider`` is a dataclass ``(auth_token, control_endpoint,
cache_endpoint, token_endpoint, port)``; every gRPC manager dials TLS when
``port == 443`` and ``grpc.insecure_channel(f"{endpoint}:{port}")`` otherwise.
So plaintext means: the same provider with all three endpoints set to the
gateway's host and ``port`` set to its port (see ``local``).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Callable, Optional

from momento import (
    AuthClient,
    AuthClientAsync,
    CacheClient,
    CacheClientAsync,
    Configurations,
    CredentialProvider,
    TopicClient,
    TopicClientAsync,
    TopicConfigurations,
)
from momento.auth.access_control.disposable_token_scope import DisposableTokenProps, DisposableTokenScope
from momento.config.auth_configurations import AuthConfigurations
from momento.errors import MomentoErrorCode
from momento.responses import GenerateDisposableToken
from momento.utilities import ExpiresIn

CACHE = "default-cache"
OTHER_CACHE = "other-cache"
HOST = "127.0.0.1"
HEARTBEAT_SECONDS = 1.0
MAX_VALUE_BYTES = 1024 * 1024

# The SDK puts its topic client timeout on the whole Subscribe stream (the
# default, 5 s, ends every subscription with DEADLINE_EXCEEDED after 5 s), so
# the suite's topic clients get a longer one.
TOPIC_CLIENT_TIMEOUT = timedelta(seconds=20)


def unique(prefix: str = "k") -> str:
    """A name no other test uses (the gateway is shared by the whole session)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def jwt_of(envelope: str) -> str:
    """The bare JWT inside an envelope (base64 of {"api_key", "endpoint"})."""
    padded = envelope + "=" * (-len(envelope) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))["api_key"]


def endpoint_of(envelope: str) -> str:
    padded = envelope + "=" * (-len(envelope) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))["endpoint"]


class Gateway:
    """One scopegate process with its temp dir, config and superuser key."""

    def __init__(self, binary: str, backend: str, redis_url: Optional[str]):
        self.binary = binary
        self.backend = backend
        self.redis_url = redis_url
        self.dir = Path(tempfile.mkdtemp(prefix="sg-py-"))
        self.config = self.dir / "config.toml"
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.superuser = ""  # the envelope `token mint --superuser` prints

    # ----- process -----------------------------------------------------------
    def start(self) -> "Gateway":
        secret = self._run("keygen")
        (self.dir / "k1.secret").write_text(secret)
        self.config.write_text(self._config_text())
        self._run("check-config", "--config", str(self.config))
        stderr = open(self.dir / "stderr.log", "wb")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", str(self.config)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        line = self._first_line(timeout=20)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line or "")
        if not m:
            self.stop()
            raise RuntimeError(f"scopegate did not start: {line!r}\n{self.stderr_tail()}")
        self.port = int(m.group(1))
        self.superuser = self._run("token", "mint", "--config", str(self.config), "--superuser").strip()
        return self

    def _first_line(self, timeout: float) -> Optional[str]:
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def pump() -> None:
            assert self.proc and self.proc.stdout
            for ln in self.proc.stdout:  # keep draining so the pipe never fills
                lines.put(ln)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> Optional[int]:
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode

    def cleanup(self) -> None:
        """Remove the temp dir (its HS256 secret included)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def stderr_tail(self, n: int = 4000) -> str:
        try:
            return (self.dir / "stderr.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def _run(self, *args: str) -> str:
        out = subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"scopegate {' '.join(args)} failed ({out.returncode}): {out.stderr}")
        return out.stdout

    def _config_text(self) -> str:
        if self.backend == "redis":
            if not self.redis_url:
                raise RuntimeError("SCOPEGATE_TEST_BACKEND=redis needs SCOPEGATE_REDIS_URL")
            backend = f'kind = "redis"\nurl = "{self.redis_url}"\nnamespace = "{unique("sdkpy")}"\n'
        elif self.backend == "memory":
            backend = 'kind = "memory"\n'
        else:
            raise RuntimeError(f"unknown backend {self.backend!r}")
        return (
            "[server]\n"
            'listen = "127.0.0.1:0"\n'
            'endpoint = "localhost"\n'
            f"max_value_bytes = {MAX_VALUE_BYTES}\n"
            "[admin]\n"
            'listen = "127.0.0.1:0"\n'
            "[[keys]]\n"
            'kid = "k1"\n'
            'alg = "HS256"\n'
            'secret_file = "k1.secret"\n'
            "signing = true\n"
            "[backend]\n"
            f"{backend}"
            f'heartbeat = "{int(HEARTBEAT_SECONDS)}s"\n'
            "[[caches]]\n"
            f'name = "{CACHE}"\n'
            "[[caches]]\n"
            f'name = "{OTHER_CACHE}"\n'
        )

    # ----- offline minting (CLI) --------------------------------------------
    def mint_cli(self, scope: str, ttl: str, token_id: Optional[str] = None, disposable: bool = True) -> str:
        args = ["token", "mint", "--config", str(self.config), "--scope", scope, "--ttl", ttl]
        if disposable:
            args.append("--disposable")
        if token_id:
            args += ["--token-id", token_id]
        return self._run(*args).strip()

    # ----- SDK plumbing ------------------------------------------------------
    def local(self, provider: CredentialProvider) -> CredentialProvider:
        """The same credential, every service on the gateway, plaintext (port != 443)."""
        return dataclasses.replace(
            provider, control_endpoint=HOST, cache_endpoint=HOST, token_endpoint=HOST, port=self.port
        )

    def provider(self, credential: str, how: str = "auto") -> CredentialProvider:
        """Load `credential` the way a user would, then point it at the gateway.

        how: "disposable" (from_disposable_token), "legacy" (from_string, the
        envelope), "v2" (from_api_key_v2 with the bare JWT and the endpoint),
        "raw" (the dataclass constructor with the bare JWT), "verbatim" (the
        constructor with `credential` unchanged), "auto" (disposable for disposable
        tokens, legacy for everything else).
        """
        if how == "auto":
            how = "disposable" if _is_disposable(credential) else "legacy"
        if how == "disposable":
            p = CredentialProvider.from_disposable_token(credential)
        elif how == "legacy":
            p = CredentialProvider.from_string(credential)
        elif how == "v2":
            p = CredentialProvider.from_api_key_v2(jwt_of(credential), endpoint_of(credential))
        elif how == "raw":
            return CredentialProvider(jwt_of(credential), HOST, HOST, HOST, self.port)
        elif how == "verbatim":  # whatever string, sent as is (garbage-token tests)
            return CredentialProvider(credential, HOST, HOST, HOST, self.port)
        else:
            raise ValueError(how)
        return self.local(p)


def _is_disposable(credential: str) -> bool:
    jwt = jwt_of(credential) if "." not in credential else credential
    payload = jwt.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims.get("t") == "disposable"


class Clients:
    """Per-test factory of SDK clients for one gateway; closes them afterwards."""

    def __init__(self, gw: Gateway):
        self.gw = gw
        self._closers: list[Callable[[], object]] = []
        self._async_closers: list[Callable[[], object]] = []

    @property
    def superuser(self) -> str:
        return self.gw.superuser

    def cache(self, credential: str, how: str = "auto", ttl_s: float = 60) -> CacheClient:
        c = CacheClient(
            Configurations.Laptop.latest(), self.gw.provider(credential, how), timedelta(seconds=ttl_s)
        )
        self._closers.append(lambda: c.__exit__(None, None, None))
        return c

    def topics(self, credential: str, how: str = "auto") -> TopicClient:
        cfg = TopicConfigurations.Default.latest().with_client_timeout(TOPIC_CLIENT_TIMEOUT)
        t = TopicClient(cfg, self.gw.provider(credential, how))
        self._closers.append(t.close)
        return t

    def auth(self, credential: Optional[str] = None, how: str = "auto") -> AuthClient:
        a = AuthClient(AuthConfigurations.Laptop.latest(), self.gw.provider(credential or self.superuser, how))
        self._closers.append(a.close)
        return a

    def cache_async(self, credential: str, how: str = "auto", ttl_s: float = 60) -> CacheClientAsync:
        c = CacheClientAsync(
            Configurations.Laptop.latest(), self.gw.provider(credential, how), timedelta(seconds=ttl_s)
        )
        self._async_closers.append(lambda: c.__aexit__(None, None, None))
        return c

    def topics_async(self, credential: str, how: str = "auto") -> TopicClientAsync:
        cfg = TopicConfigurations.Default.latest().with_client_timeout(TOPIC_CLIENT_TIMEOUT)
        t = TopicClientAsync(cfg, self.gw.provider(credential, how))
        self._async_closers.append(t.close)
        return t

    def auth_async(self, credential: Optional[str] = None, how: str = "auto") -> AuthClientAsync:
        a = AuthClientAsync(
            AuthConfigurations.Laptop.latest(), self.gw.provider(credential or self.superuser, how)
        )
        self._async_closers.append(a.close)
        return a

    def mint(
        self,
        scope: DisposableTokenScope,
        ttl_s: int = 600,
        token_id: Optional[str] = None,
        via: Optional[str] = None,
    ) -> str:
        """A disposable token minted through the SDK's AuthClient (superuser by default)."""
        props = DisposableTokenProps(token_id=token_id) if token_id else None
        resp = self.auth(via).generate_disposable_token(scope, ExpiresIn.seconds(ttl_s), props)
        assert isinstance(resp, GenerateDisposableToken.Success), f"mint failed: {resp}"
        return resp.auth_token

    def close(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except Exception:
                pass
        self._closers.clear()

    async def aclose(self) -> None:
        for close in reversed(self._async_closers):
            try:
                await close()
            except Exception:
                pass
        self._async_closers.clear()


def error_code(resp: object) -> Optional[MomentoErrorCode]:
    """The error code of an SDK `*.Error` response, None for anything else."""
    return getattr(resp, "error_code", None) if type(resp).__name__ == "Error" else None


def wait_until(pred: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Poll `pred` until it is true or `timeout` seconds pass (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def env_backend() -> str:
    return os.environ.get("SCOPEGATE_TEST_BACKEND", "memory")


def assert_error(resp: object, code: MomentoErrorCode, contains: Optional[str] = None) -> None:
    """`resp` is an SDK `*.Error` with `code` (and a message containing `contains`)."""
    assert error_code(resp) == code, f"expected {code.name}, got {resp!r}"
    if contains is not None:
        assert contains.lower() in resp.message.lower(), f"{contains!r} not in {resp.message!r}"  # type: ignore[attr-defined]


def assert_ok(resp: object, cls: type) -> None:
    assert isinstance(resp, cls), f"expected {cls.__qualname__}, got {resp!r}"


def in_thread(fn: Callable[[], object], timeout: float) -> object:
    """Run a blocking SDK call (e.g. next(subscription)) with a bound on the wait.

    Raises TimeoutError when `fn` has not returned after `timeout` seconds (the
    worker thread is a daemon and is abandoned).
    """
    box: "queue.Queue[tuple[bool, object]]" = queue.Queue()

    def work() -> None:
        try:
            box.put((True, fn()))
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            box.put((False, e))

    threading.Thread(target=work, daemon=True).start()
    try:
        ok, value = box.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"no result within {timeout}s") from None
    if not ok:
        raise value  # type: ignore[misc]
    return value


def next_item(subscription: object, timeout: float = 5.0) -> object:
    """The next item through the SDK's own iterator (TopicSubscriptionItem.*), bounded."""
    return in_thread(lambda: next(subscription), timeout)  # type: ignore[call-overload]


def raw_next(subscription: object, timeout: float = 5.0) -> object:
    """The next raw `_SubscriptionItem` (heartbeats, publisher_id included), bounded.

    The SDK's items drop `publisher_id` and hide heartbeats, and its iterator
    swallows stream errors, so some tests read the gRPC stream it wraps.
    """
    stream = subscription._client_stream  # type: ignore[attr-defined]
    return in_thread(stream.next, timeout)


def drain_until_end(subscription: object, timeout: float) -> tuple[list, Optional[BaseException]]:
    """Read the subscription's raw gRPC stream until it ends (bounded).

    Returns (raw items read, the error that ended the stream or None when it
    ended cleanly); raises TimeoutError if it is still open after `timeout`.
    """
    stream = subscription._client_stream  # type: ignore[attr-defined]

    def drain() -> tuple[list, Optional[BaseException]]:
        items: list = []
        while True:
            try:
                items.append(stream.next())
            except StopIteration:
                return items, None
            except Exception as e:  # grpc.RpcError
                return items, e

    return in_thread(drain, timeout)  # type: ignore[return-value]
