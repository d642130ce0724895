"""log_format = json: one JSON object per line, the text log's keys.

A private finicomd (the stack's configuration with log_format = json and
a listen socket of its own) is sent FastCGI requests directly; its request
lines must parse as JSON, one object per line, with the same keys in the
same order as the text line the stack's own finicomd writes for the same
request through nginx, and a token in a path stays out of both."""
import json
import os
import re
import socket
import struct
import subprocess
import time

import requests

import client
from conftest import wait_until
from test_sd_notify import private_conf, stop

TOKEN = "T" * 43


def _record(kind, content, request_id=1):
    return struct.pack("!BBHHBB", 1, kind, request_id, len(content), 0, 0) + content


def _pair(name, value):
    out = b""
    for part in (name, value):
        n = len(part)
        out += bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)
    return out + name + value


def fastcgi_get(sock_path, uri, request_id="json-log-test"):
    """GET uri from finicomd's FastCGI socket; returns the reply's bytes (headers and body)."""
    params = {"REQUEST_METHOD": "GET", "REQUEST_URI": uri, "REMOTE_ADDR": "192.0.2.7",
              "REQUEST_ID": request_id, "CONTENT_LENGTH": ""}
    body = b"".join(_pair(k.encode(), v.encode()) for k, v in params.items())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    try:
        s.sendall(_record(1, struct.pack("!HB5x", 1, 0)) + _record(4, body) + _record(4, b"") +
                  _record(5, b""))
        data, out = b"", b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        while len(data) >= 8:
            _, kind, _, length, pad = struct.unpack("!BBHHB", data[:7])
            content, data = data[8:8 + length], data[8 + length + pad:]
            if kind == 6:
                out += content
            if kind == 3:
                break
        return out
    finally:
        s.close()


def text_keys(line):
    return re.findall(r'(?:^| )([a-z_]+)=(?:"(?:[^"\\]|\\.)*"|\S*)', line)


def test_request_lines_are_json_with_the_text_logs_keys(env, tmp_path, base_url):
    conf = private_conf(env, tmp_path, log_format="json")
    sock = str(tmp_path / "d.sock")
    log_path = tmp_path / "daemon.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([os.path.join(env["FINICOM_BUILD"], "src", "finicomd"), "-c", str(conf)],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        assert wait_until(lambda: os.path.exists(sock) and b"worker ready" in log_path.read_bytes(), 15)
        reply = fastcgi_get(sock, "/api/v1/no-such-thing?x=1", "json-log-404")
        assert reply.startswith(b"Status: 404"), reply[:200]
        reply = fastcgi_get(sock, f"/api/v1/invitations/{TOKEN}", "json-log-token")
        assert b"Status: 404" in reply[:40], reply[:200]

        def lines():
            out = []
            for raw in log_path.read_bytes().splitlines():
                out.append(json.loads(raw))  # every line, not only the requests', is one object
            return out

        def request_line(rid):
            found = [o for o in lines() if o.get("request_id") == rid]
            return found[0] if found else None

        mine = wait_until(lambda: request_line("json-log-404"), 5)
        assert mine, log_path.read_text()
        token_line = wait_until(lambda: request_line("json-log-token"), 5)
        assert token_line, log_path.read_text()
    finally:
        stop(proc)
        log.close()
    assert all(isinstance(o, dict) for o in lines())
    assert any(o.get("msg") == "worker ready" for o in lines())

    assert mine["status"] == 404 and isinstance(mine["duration_ms"], (int, float))
    assert isinstance(mine["pid"], int) and mine["level"] == "info" and mine["proc"] == "finicomd-worker"
    assert mine["path"] == "/api/v1/no-such-thing" and mine["ip"] == "192.0.2.7"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", mine["time"])
    # A token in the path is logged as its route's pattern, as in the text log.
    assert token_line["path"] == "/api/v1/invitations/{token}", token_line
    assert TOKEN not in log_path.read_text()

    # The same request through the stack's nginx and text-logging finicomd: the same keys, in order.
    r = requests.get(base_url + "/api/v1/no-such-thing?x=1", timeout=5)
    assert r.status_code == 404
    rid = r.headers["X-Request-Id"]

    def text_line():
        with open(os.path.join(client.LOGDIR, "finicomd.log"), "rb") as f:
            f.seek(max(0, os.path.getsize(f.name) - 200000))
            for raw in f.read().decode("utf-8", "replace").splitlines():
                if f"request_id={rid}" in raw:
                    return raw
        return None

    line = wait_until(text_line, 5)
    assert line, "the stack's text log has no line for the 404"
    assert text_keys(line) == list(mine.keys()), (line, list(mine.keys()))
