"""deploy/nginx/ycc.conf: what the internet, the office and this host can reach.

Three layers: the parsed site (the public server block proxies only /line/webhook and /secure/), `nginx -t` on the
site as installed (Debian's nginx), and a real nginx on free ports in front of a recording stand-in for the two web
processes, asked from outside (127.0.0.1) and from the office (127.0.0.2, listed in the office networks)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.deploy.nginx import (
    CONSOLE_NAME,
    NGINX,
    PUBLIC_NAME,
    SITE,
    curl,
    free_port,
    parse,
    rendered,
    running,
    servers,
)

BINARY = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
needs_nginx = pytest.mark.skipif(BINARY is None, reason="nginx is not installed (apt-get install nginx)")
NEVER_EXPOSED = ("/internal/hours", "/internal/contacts/x", "/metrics", "/healthz", "/readyz", "/simulator/")


def _proxied(server: object) -> set[str]:
    return {" ".join(loc.args) for loc in server.all("location") if loc.values("proxy_pass")}  # type: ignore[attr-defined]


def test_the_public_server_block_proxies_only_the_line_webhook_the_secure_chat_and_the_public_page() -> None:
    public = servers()[PUBLIC_NAME]
    assert _proxied(public) == {"= /line/webhook", "= /secure/live", "/secure/", "= /about", "/about/"}
    for loc in public.all("location"):
        if not loc.values("proxy_pass"):
            assert loc.values("return") == [["404"]], loc.args
    webhook = next(loc for loc in public.all("location") if loc.args == ["=", "/line/webhook"])
    assert webhook.all("limit_except")[0].args == ["POST"]


def test_the_console_is_for_the_office_only_and_never_proxies_internal_paths() -> None:
    console = servers()[CONSOLE_NAME]
    guard = console.all("if")
    assert guard and guard[0].args == ["($ycc_office", "=", "0)"] and guard[0].values("return") == [["403"]]
    assert _proxied(console) == {"= /console/live", "= /console", "/console/", "/api/", "= /api/broadcasts"}
    live = next(loc for loc in console.all("location") if loc.args == ["=", "/console/live"])
    assert ["Upgrade", "$http_upgrade"] in live.values("proxy_set_header")
    for name, server in servers().items():
        assert not {p for p in _proxied(server) if "internal" in p or "metrics" in p}, name


def test_logs_never_carry_a_query_string_or_a_referer() -> None:
    formats = [d for d in parse(SITE.read_text(encoding="utf-8")) if d.name == "log_format"]
    assert [f.args[0] for f in formats] == ["ycc"]
    line = " ".join(formats[0].args[1:])
    for variable in ("$request ", "$request_uri", "$args", "$query_string", "$http_referer", "$arg_"):
        assert variable not in line + " "
    for name, server in servers().items():
        for log in server.values("access_log"):
            assert log == ["off"] or log[-1] == "ycc", name


def test_hsts_is_sent_once_on_every_https_answer() -> None:
    tls = parse((NGINX / "ycc-tls.conf").read_text(encoding="utf-8"))
    assert [d.args for d in tls if d.name == "add_header"] == [
        ["Strict-Transport-Security", "max-age=31536000; includeSubDomains", "always"]]
    for server in (servers()[PUBLIC_NAME], servers()[CONSOLE_NAME]):
        # nginx drops inherited add_header lines in any block that has its own.
        assert not server.all("add_header") and not any(loc.all("add_header") for loc in server.all("location"))
    proxy = parse((NGINX / "ycc-proxy.conf").read_text(encoding="utf-8"))
    assert ["Strict-Transport-Security"] in [d.args for d in proxy if d.name == "proxy_hide_header"]


@needs_nginx
def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    conf = rendered(tmp_path)
    result = subprocess.run([BINARY, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "t.log")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr


class _Recorder(BaseHTTPRequestHandler):
    """Stands in for a gateway web process: answers 200 and remembers what nginx passed on."""

    seen: ClassVar[list[dict[str, object]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        _Recorder.seen.append({"path": self.path, "method": self.command, "headers": dict(self.headers.items())})
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("strict-transport-security", "max-age=1")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    if BINARY is None:
        pytest.fail("nginx is not installed (Debian: apt-get install nginx; .ci/run installs it)")
    prefix = tmp_path_factory.mktemp("nginx")
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    (prefix / "acme" / ".well-known" / "acme-challenge").mkdir(parents=True)
    (prefix / "acme" / ".well-known" / "acme-challenge" / "probe").write_text("challenge")
    # The first web process is down (nothing listens on its port): requests must reach the second.
    try:
        with running(BINARY, prefix, (free_port(), upstream.server_address[1])) as ports:
            yield {"ports": ports, "prefix": prefix}
    finally:
        upstream.shutdown()


def _curl(proxy: dict[str, object], name: str, path: str, **kwargs: object) -> tuple[int, str]:
    return curl(Path(str(proxy["prefix"])), proxy["ports"], name, path, **kwargs)  # type: ignore[arg-type]


def _seen(path: str) -> list[dict[str, object]]:
    return [r for r in _Recorder.seen if str(r["path"]).split("?")[0] == path]


def test_the_webhook_reaches_a_web_process_with_the_real_address_and_hsts_once(proxy: dict[str, object]) -> None:
    status, headers = _curl(proxy, PUBLIC_NAME, "/line/webhook",
                            extra=("-X", "POST", "-d", '{"events": []}', "-H", "X-Forwarded-For: 203.0.113.9",
                                   "-H", "X-Real-IP: 203.0.113.9"))
    assert status == 200
    passed = _seen("/line/webhook")[-1]["headers"]
    assert passed["X-Real-IP"] == "127.0.0.1" and passed["X-Forwarded-For"] == "127.0.0.1"  # type: ignore[index]
    assert passed["Host"] == PUBLIC_NAME  # type: ignore[index]
    assert [h for h in headers.lower().splitlines() if h.startswith("strict-transport-security")] == [
        "strict-transport-security: max-age=31536000; includesubdomains"]


def test_the_public_name_answers_nothing_else(proxy: dict[str, object]) -> None:
    assert _curl(proxy, PUBLIC_NAME, "/line/webhook")[0] == 403  # GET
    big = Path(str(proxy["prefix"])) / "big.json"
    big.write_bytes(b"x" * 2_000_000)
    assert _curl(proxy, PUBLIC_NAME, "/line/webhook", extra=("--data-binary", f"@{big}"))[0] == 413
    before = len(_Recorder.seen)
    for path in ("/", "/console/", "/console/login", "/api/conversations", "/aboutx", *NEVER_EXPOSED):
        assert _curl(proxy, PUBLIC_NAME, path)[0] == 404, path
        assert _curl(proxy, PUBLIC_NAME, path, office=True)[0] == 404, path
    assert len(_Recorder.seen) == before
    for path in ("/about", "/about/poster"):  # the public page for residents: GET only, from anywhere
        assert _curl(proxy, PUBLIC_NAME, path)[0] == 200, path
        assert _curl(proxy, PUBLIC_NAME, path, extra=("-X", "POST"))[0] == 403, path


def test_the_console_answers_the_office_only(proxy: dict[str, object]) -> None:
    before = len(_Recorder.seen)
    for path in ("/console/", "/api/conversations", "/console/live"):
        assert _curl(proxy, CONSOLE_NAME, path)[0] == 403, path
    assert len(_Recorder.seen) == before
    assert _curl(proxy, CONSOLE_NAME, "/console/", office=True)[0] == 200
    assert _curl(proxy, CONSOLE_NAME, "/api/conversations", office=True)[0] == 200
    for path in NEVER_EXPOSED:
        assert _curl(proxy, CONSOLE_NAME, path, office=True)[0] == 404, path
    assert not any(_seen(path) for path in NEVER_EXPOSED)


def test_the_live_endpoint_is_upgraded_to_a_websocket(proxy: dict[str, object]) -> None:
    _curl(proxy, CONSOLE_NAME, "/console/live", office=True, extra=(
        "--http1.1", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
        "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "-H", f"Origin: https://{CONSOLE_NAME}"))
    passed = _seen("/console/live")[-1]["headers"]
    assert passed["Upgrade"] == "websocket" and passed["Connection"].lower() == "upgrade"  # type: ignore[index]


def test_the_secure_chat_is_public_with_its_socket_and_its_link_token_is_never_logged(
    proxy: dict[str, object],
) -> None:
    assert _curl(proxy, PUBLIC_NAME, "/secure/open?t=s3cret-secure-token")[0] == 200  # a phone, from anywhere
    assert _seen("/secure/open")
    _curl(proxy, PUBLIC_NAME, "/secure/live", extra=(
        "--http1.1", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
        "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "-H", f"Origin: https://{PUBLIC_NAME}"))
    passed = _seen("/secure/live")[-1]["headers"]
    assert passed["Upgrade"] == "websocket" and passed["Connection"].lower() == "upgrade"  # type: ignore[index]
    time.sleep(0.2)
    logs = "".join(p.read_text() for p in (Path(str(proxy["prefix"])) / "log").glob("*.log"))
    assert "/secure/open HTTP" in logs and "s3cret-secure" not in logs


def test_no_query_string_reaches_the_access_log(proxy: dict[str, object]) -> None:
    assert _curl(proxy, CONSOLE_NAME, "/console/?token=s3cret-link-token", office=True)[0] == 200
    time.sleep(0.2)
    logs = "".join(p.read_text() for p in (Path(str(proxy["prefix"])) / "log").glob("*.log"))
    assert "/console/ HTTP" in logs and "s3cret" not in logs


def test_plain_http_serves_acme_challenges_and_redirects_everything_else(proxy: dict[str, object]) -> None:
    assert _curl(proxy, PUBLIC_NAME, "/.well-known/acme-challenge/probe", scheme="http")[0] == 200
    status, headers = _curl(proxy, PUBLIC_NAME, "/line/webhook", scheme="http")
    assert status == 301 and f"location: https://{PUBLIC_NAME}/line/webhook" in headers.lower()


def test_an_unknown_name_gets_no_certificate(proxy: dict[str, object]) -> None:
    assert _curl(proxy, "other.example.jp", "/line/webhook")[0] == 0  # handshake refused
