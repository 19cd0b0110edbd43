#!/usr/bin/env python3
"""Writes the hand-made binary seeds of fuzz/corpus/ (protobuf scopes and
signed credentials), which are awkward to write by hand. The text seeds are
files in fuzz/corpus/ themselves. Run from anywhere: python3 fuzz/seeds/make_seeds.py
The keys and clock are those of fuzz/common/mod.rs (SECRET, NOW)."""
import base64, hashlib, hmac, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus")
SECRET = b"scopegate-fuzz-k1-secret-0123456789abcdef"
NOW = 1_800_000_000


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(tag, payload):  # length-delimited
    return varint(tag << 3 | 2) + varint(len(payload)) + payload


def enum(tag, value):
    return varint(tag << 3) + varint(value)


ALL = b""


def cache_perm(role, cache=None, key=None, prefix=None):
    body = enum(1, role)
    body += field(3, field(1, cache.encode())) if cache is not None else field(2, ALL)
    if key is not None:
        body += field(5, field(1, key))
    elif prefix is not None:
        body += field(5, field(2, prefix))
    else:
        body += field(4, ALL)
    return field(1, body)


def topic_perm(role, cache=None, name=None, prefix=None):
    body = enum(1, role)
    body += field(3, field(1, cache.encode())) if cache is not None else field(2, ALL)
    if name is not None:
        body += field(5, field(1, name.encode()))
    elif prefix is not None:
        body += field(5, field(2, prefix.encode()))
    else:
        body += field(4, ALL)
    return field(2, body)


def explicit(*perms):
    return field(2, b"".join(field(1, p) for p in perms))


SUPERUSER = enum(1, 0)
SCOPES = {
    "superuser": SUPERUSER,
    "key-prefix": explicit(cache_perm(1, "default-cache", prefix=b"user-42/")),
    "mixed": explicit(
        cache_perm(1, "orders", prefix=b"u/"),
        cache_perm(2, None, key=b"k"),
        cache_perm(3, "c", key=b"\xff\x00"),
        topic_perm(1, "c", name="t"),
        topic_perm(2, None, prefix="news-"),
        topic_perm(3, "c"),
    ),
    "star-names": explicit(cache_perm(2, "*", key=b"*"), topic_perm(2, "*", name="*")),
    "permit-none": explicit(cache_perm(0, "c"), topic_perm(0, None)),
    "function": explicit(field(3, enum(1, 1))),
}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims, kid="k1", secret=SECRET):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{body}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(sig)}"


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


for name, scope in SCOPES.items():
    write("scope_proto", name, scope)

disposable = jwt({"sub": "scopegate-cli", "ver": 1, "iat": NOW - 60, "exp": NOW + 600,
                  "jti": "N-Zj1qUispmoHGvso2kKgw", "t": "disposable", "id": "web-42",
                  "p": b64url(SCOPES["key-prefix"])})
api_key = jwt({"sub": "ops", "ver": 1, "iat": NOW - 60, "jti": "a1", "t": "g",
               "p": b64url(SUPERUSER)})
expired = jwt({"sub": "s", "ver": 1, "iat": NOW - 7200, "exp": NOW - 3600, "jti": "e",
               "t": "disposable", "p": b64url(SCOPES["mixed"])})
write("credential_raw", "disposable-jwt", disposable)
write("credential_raw", "api-key-jwt", api_key)
write("credential_raw", "expired-jwt", expired)
envelope = json.dumps({"api_key": disposable, "endpoint": "localhost"}).encode()
write("credential_raw", "envelope-urlsafe", base64.urlsafe_b64encode(envelope))
write("credential_raw", "envelope-standard-nopad", base64.b64encode(envelope).rstrip(b"="))
write("credential_raw", "bearer", "Bearer " + disposable)
write("credential_raw", "alg-none", b64url(b'{"alg":"none"}') + "." + b64url(b'{}') + ".")
write("credential_raw", "garbage", b"eyJ!!not base64\x00\xff")
