"""Session fixtures: one scopegate for the whole run, SDK client factories per test.

Environment (run.sh sets these):
  SCOPEGATE_BIN           the gateway binary (default: <repo>/target/debug/scopegate)
  SCOPEGATE_TEST_BACKEND  memory | redis
  SCOPEGATE_REDIS_URL     redis://127.0.0.1:PORT (redis backend only)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import pytest_asyncio

from sg_harness import Clients, Gateway, env_backend

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def gateway():
    binary = os.environ.get("SCOPEGATE_BIN", str(REPO / "target" / "debug" / "scopegate"))
    if not os.access(binary, os.X_OK):
        pytest.exit(f"scopegate binary not found at {binary} (cargo build --bin scopegate)", returncode=2)
    gw = Gateway(binary, env_backend(), os.environ.get("SCOPEGATE_REDIS_URL"))
    try:
        gw.start()
    except Exception:
        gw.cleanup()
        raise
    yield gw
    code = gw.stop()
    log = gw.stderr_tail()
    gw.cleanup()
    assert code == 0, f"scopegate exited {code} on SIGTERM\n{log}"


@pytest.fixture
def sg(gateway):
    """SDK clients (sync) pointed at the session's gateway, closed after the test."""
    clients = Clients(gateway)
    yield clients
    clients.close()


@pytest_asyncio.fixture
async def sga(gateway):
    """Like `sg`, for the asyncio clients; closes them on the test's loop."""
    clients = Clients(gateway)
    yield clients
    await clients.aclose()
    clients.close()
