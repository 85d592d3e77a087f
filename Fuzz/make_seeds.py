#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz harness (scripts/fuzz.sh) from the shared vectors plus a few hand seeds.

Usage: make_seeds.py VECTORS_DIR CORPUS_ROOT
Each harness gets CORPUS_ROOT/<Harness>/seed-*; existing files (inputs libFuzzer found earlier) are kept.
"""
import base64
import json
import os
import sys


def write(root, harness, name, data):
    folder = os.path.join(root, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "wb") as out:
        out.write(data)


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def http_seeds(vectors, root):
    cases = json.load(open(os.path.join(vectors, "http-framing.json")))["cases"]
    for case in cases:
        raw = case["raw"].encode("latin-1")
        write(root, "FuzzRequestParser", case["name"], raw)
        head, _, body = raw.partition(b"\r\n\r\n")
        if b"chunked" in head.lower():
            write(root, "FuzzChunked", "req-" + case["name"], b"\x00" + body)
            write(root, "FuzzChunked", "resp-" + case["name"], b"\x01" + body)
        for request in case.get("requests", []):
            write(root, "FuzzRoutePath", case["name"], request["target"].encode("latin-1"))
            write(root, "FuzzRequestTarget", case["name"], request["target"].encode("latin-1"))
    responses = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"HTTP/1.0 200 OK\r\n\r\nbody until close",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
    ]
    for index, response in enumerate(responses):
        write(root, "FuzzChunked", "get-%d" % index, b"\x02" + response)
        write(root, "FuzzChunked", "head-%d" % index, b"\x03" + response)
    for index, path in enumerate([b"/", b"/api/v1/events", b"/api/v1/events/1?x=/", b"/api/v1/eventsX",
                                  b"/api/v1/events/%2e%2e/admin", b"//api/v1/events", b"/API/v1/events"]):
        write(root, "FuzzRoutePath", "hand-%d" % index, path)
    for index, path in enumerate([b"/a/./b/../c//d/", b"/%61%2d%7E/%c3%a9?q=%2F", b"/a/%2e%2e/b", b"/a/..%2f",
                                  b"/a;b/c", b"/a\\b", b"/%C0%AF", b"/../x", b"/a/b/../../..", b"/x?y?z#f",
                                  b"/%ed%a0%80", b"/%2F", b"/a/.%2E/b", b"/a/...", b"/%00", b"/%7f%7F"]):
        write(root, "FuzzRequestTarget", "hand-%d" % index, path)


def resp_seeds(root):
    replies = [b"+OK\r\n", b"-NOSCRIPT No matching script\r\n", b":42\r\n", b"$5\r\nhello\r\n", b"$-1\r\n",
               b"*2\r\n:1\r\n:1500\r\n", b"*-1\r\n", b"%1\r\n+k\r\n,1.5\r\n", b"|1\r\n+a\r\n#t\r\n_\r\n",
               b"=8\r\ntxt:some\r\n", b">2\r\n+message\r\n$2\r\nhi\r\n", b"(123456789012345678901234\r\n",
               b"*2\r\n$4\r\nPTTL\r\n$3\r\nkey\r\n", b"!5\r\nERR x\r\n+PONG\r\n"]
    for index, reply in enumerate(replies):
        write(root, "FuzzRESP", "reply-%d" % index, reply)


def jwt_seeds(vectors, root):
    cases = json.load(open(os.path.join(vectors, "jwt-verification.json")))["cases"]
    for case in cases:
        token = case["token"]
        write(root, "FuzzJWT", case["name"], token.encode("latin-1"))
        parts = token.split(".")
        if len(parts) >= 2:
            try:
                header, claims = b64url_decode(parts[0]), b64url_decode(parts[1])
            except ValueError:
                continue
            write(root, "FuzzJWT", "claims-" + case["name"], claims)
            write(root, "FuzzJWT", "signed-" + case["name"], header + b"\n" + claims)


def config_seeds(root):
    table = {"routes": [
        {"prefix": "/api/v1/events", "upstream": "http://127.0.0.1:8001",
         "scopes_by_method": {"GET": ["events:read"], "POST": ["events:write"]}},
        {"prefix": "/public", "upstream": "http://127.0.0.1:9000/base", "methods": ["GET"], "public": True},
    ]}
    write(root, "FuzzConfig", "routes", b"\x00" + json.dumps(table).encode())
    env = (b"# comment\nexport PORTAL_ENV=development\nJWT_SECRET='0123456789abcdef0123456789abcdef'\n"
           b"TRUSTED_PROXIES=\"10.0.0.0/8, ::1/128\"\r\nRATE_LIMIT_BURST=20\nGATEWAY_PORT=8080\n")
    write(root, "FuzzConfig", "dotenv", b"\x01" + env)
    write(root, "FuzzConfig", "cidr", b"\x02" + b"10.0.0.0/8, 192.168.1.1, 2001:db8::/32, ::ffff:0:0/96")
    write(root, "FuzzConfig", "upstream", b"\x03" + b"http://data-layer.internal:8001/v1")
    write(root, "FuzzConfig", "ipv6", b"\x04" + b"::ffff:192.168.0.1")
    write(root, "FuzzConfig", "ipv4", b"\x04" + b"10.1.2.3")


def main():
    vectors, root = sys.argv[1], sys.argv[2]
    http_seeds(vectors, root)
    jwt_seeds(vectors, root)
    resp_seeds(root)
    config_seeds(root)


if __name__ == "__main__":
    main()
