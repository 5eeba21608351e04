"""deploy/nginx as nginx reads it: a small parser (blocks, directives) for the static checks, and a copy of the
site under a temporary prefix that a real nginx can test (`nginx -t`) and run on free ports."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy.units import DEPLOY

NGINX = DEPLOY / "nginx"
SITE = NGINX / "ycc.conf"
PUBLIC_NAME = "line.ycc.example.jp"
CONSOLE_NAME = "console.ycc.example.jp"
TOKEN = re.compile(r'"[^"]*"|\'[^\']*\'|[{};]|[^\s{};]+')


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] = field(default_factory=list)

    def all(self, name: str) -> list[Directive]:
        return [d for d in self.block if d.name == name]

    def values(self, name: str) -> list[list[str]]:
        return [d.args for d in self.all(name)]


def parse(text: str) -> list[Directive]:
    words = TOKEN.findall(re.sub(r"#[^\n]*", "", text))
    stack: list[list[Directive]] = [[]]
    args: list[str] = []
    for word in words:
        if word == ";":
            stack[-1].append(Directive(args[0], args[1:]))
            args = []
        elif word == "{":
            directive = Directive(args[0], args[1:])
            stack[-1].append(directive)
            stack.append(directive.block)
            args = []
        elif word == "}":
            stack.pop()
        else:
            args.append(word.strip("\"'"))
    assert len(stack) == 1 and not args, "unbalanced braces or a missing semicolon"
    return stack[0]


def servers() -> dict[str, Directive]:
    """The https server blocks by name (the port-80 and catch-all blocks are named "_:80" and "_:443")."""
    found = {}
    for d in parse(SITE.read_text(encoding="utf-8")):
        if d.name == "server":
            name = d.values("server_name")[0][0]
            port = "80" if any(a[0] == "80" for a in d.values("listen")) else "443"
            found[name if name != "_" else f"_:{port}"] = d
    return found


def rendered(prefix: Path, *, http_port: int = 80, https_port: int = 443, upstreams: tuple[int, int] | None = None,
             office: str = "") -> Path:
    """The site and its snippets under `prefix` as they would be under /etc/nginx, with only what a test cannot
    use replaced: the certificate (a fresh self-signed one), log and ACME directories, ports and IPv6 listens
    (optional), the upstream ports (optional). Returns the main nginx.conf to give `nginx -c`."""
    (prefix / "snippets").mkdir(parents=True, exist_ok=True)
    (prefix / "log").mkdir(exist_ok=True)
    (prefix / "acme").mkdir(exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    f"/CN={PUBLIC_NAME}", "-addext", f"subjectAltName=DNS:{PUBLIC_NAME},DNS:{CONSOLE_NAME}",
                    "-keyout", str(prefix / "privkey.pem"), "-out", str(prefix / "fullchain.pem")],
                   check=True, capture_output=True)

    def fix(text: str) -> str:
        text = text.replace(f"/etc/letsencrypt/live/{PUBLIC_NAME}/", f"{prefix}/")
        text = text.replace("/etc/nginx/", f"{prefix}/").replace("/var/log/nginx/ycc/", f"{prefix}/log/")
        text = text.replace("/var/www/letsencrypt", f"{prefix}/acme")
        if (http_port, https_port) != (80, 443):
            text = re.sub(r"^\s*listen \[::\]:.*\n", "", text, flags=re.M)
            text = re.sub(r"listen 80\b", f"listen 127.0.0.1:{http_port}", text)
            text = re.sub(r"listen 443\b", f"listen 127.0.0.1:{https_port}", text)
        if upstreams:
            text = text.replace("127.0.0.1:8081", f"127.0.0.1:{upstreams[0]}")
            text = text.replace("127.0.0.1:8082", f"127.0.0.1:{upstreams[1]}")
        return text

    (prefix / "sites-enabled").mkdir(exist_ok=True)
    (prefix / "sites-enabled" / "ycc").write_text(fix(SITE.read_text(encoding="utf-8")))
    for snippet in ("ycc-proxy.conf", "ycc-tls.conf"):
        (prefix / "snippets" / snippet).write_text(fix((NGINX / snippet).read_text(encoding="utf-8")))
    networks = (NGINX / "ycc-office-networks.conf").read_text(encoding="utf-8")
    (prefix / "ycc-office-networks.conf").write_text(networks + office)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the test's private files
    main = prefix / "nginx.conf"
    main.write_text(f"{user}pid {prefix}/nginx.pid;\nerror_log {prefix}/log/main-error.log;\nevents {{}}\n"
                    f"http {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
                    f"  client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n"
                    f"  include {prefix}/sites-enabled/*;\n}}\n")
    if not Path("/etc/nginx/mime.types").exists():
        main.write_text(main.read_text().replace("  include /etc/nginx/mime.types;\n", ""))
    return main


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(binary: str, prefix: Path, upstreams: tuple[int, int], office: str = "127.0.0.2/32 1;\n"
            ) -> Iterator[dict[str, int]]:
    """A real nginx with the site on free ports in front of `upstreams`; 127.0.0.2 counts as the office."""
    import socket
    import time

    ports = {"http": free_port(), "https": free_port()}
    conf = rendered(prefix, http_port=ports["http"], https_port=ports["https"], upstreams=upstreams, office=office)
    nginx = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "log/e.log"),
                              "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", ports["https"])) == 0:
                    break
            assert nginx.poll() is None, nginx.stderr.read() if nginx.stderr else ""
            time.sleep(0.05)
        yield ports
    finally:
        nginx.terminate()
        nginx.wait(10)


def curl(prefix: Path, ports: dict[str, int], name: str, path: str, *, office: bool = False,
         scheme: str = "https", extra: tuple[str, ...] = (), output: Path | None = None) -> tuple[int, str]:
    """(status, response headers) of one request through nginx, with SNI and Host set to `name`; the body goes to
    `output` if given."""
    port = ports["https"] if scheme == "https" else ports["http"]
    headers = prefix / "headers.txt"
    headers.unlink(missing_ok=True)
    args = ["curl", "-sk", "--max-time", "5", "-o", str(output or "/dev/null"), "-D", str(headers),
            "-w", "%{http_code}", "--resolve", f"{name}:{port}:127.0.0.1",
            *(["--interface", "127.0.0.2"] if office else []), *extra,
            f"{scheme}://{name}:{port}{path}"]
    result = subprocess.run(args, capture_output=True, text=True)
    return int(result.stdout or 0), headers.read_text() if headers.exists() else ""
