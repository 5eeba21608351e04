"""`make run`: start the action server, Rasa and the gateway, show progress until all are ready, stop all on Ctrl-C.
`make run-prod` (`--prod`): the same with the processes of a real host instead of one gateway (handoff/run_prod.py).

One supervisor instead of three terminals: an operator on a fresh machine types one command and gets a console
URL, and Ctrl-C never leaves a Rasa process holding port 5005.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

import httpx

from handoff import run_prod
from handoff.settings import ROOT, SHARED_SECRETS, Settings, SettingsError

BOT_VENV = ROOT / ".venv-bot"
MODEL = ROOT / "models" / "ycc.tar.gz"


def write_endpoints(path: Path, action_server_url: str) -> Path:
    """endpoints.yml with the action server URL the gateway was configured with, so the two never disagree."""
    import yaml

    config = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {}
    config["action_endpoint"] = {**(config.get("action_endpoint") or {}), "url": f"{action_server_url}/webhook"}
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


# The shared secrets each process is given: only those of the hops it is on (README, Security). The action server
# never holds the gateway → Rasa secret, Rasa never holds the gateway's internal token.
SECRETS_OF = {
    "actions": ("YCC_ACTIONS_TOKEN", "YCC_INTERNAL_TOKEN"),
    "rasa": ("YCC_RASA_TOKEN", "YCC_ACTIONS_TOKEN"),
    "gateway": ("YCC_INTERNAL_TOKEN", "YCC_RASA_TOKEN"),
}


def process_env(base: Mapping[str, str], process: str, tokens: Mapping[str, str]) -> dict[str, str]:
    """`base` without any shared secret, plus the ones `process` needs (values from `tokens`, by variable name)."""
    env = {k: v for k, v in base.items() if k not in SHARED_SECRETS}
    env.update({name: tokens[name] for name in SECRETS_OF[process]})
    return env


def bot_commands(rasa_port: int, actions_port: int, endpoints: Path) -> dict[str, list[str]]:
    """The action server and Rasa server command lines, shared by `make run`, the e2e tests and the benchmarks.

    Both bind 127.0.0.1 only. The action server is our launcher (actions/server.py: loopback, YCC_ACTIONS_TOKEN),
    not `rasa run actions`, which binds every interface; Rasa runs without `--enable-api`: the gateway needs only
    the REST channel (bot/channels/gateway.py, YCC_RASA_TOKEN), and the HTTP API would let anyone local read whole
    trackers (the young person's own words), inject turns or replace the model.
    """
    python = str(BOT_VENV / "bin" / "python")
    return {
        "actions": [python, "-m", "actions.server", "--port", str(actions_port), "--actions", "actions"],
        "rasa": [
            str(BOT_VENV / "bin" / "rasa"),
            "run",
            "-i",
            "127.0.0.1",
            "-p",
            str(rasa_port),
            "-m",
            str(MODEL),
            "--endpoints",
            str(endpoints),
            "--credentials",
            "credentials.yml",
        ],
    }


def _port(url: str, default: int) -> int:
    return urlparse(url).port or default


def open_log(path: Path) -> BinaryIO:
    """Append to a log readable by its owner and group only (0640), an existing one included: the logs hold ids
    and times of young people's consultations, not for every account on the machine."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    os.fchmod(fd, 0o640)
    return os.fdopen(fd, "ab")


def _spawn(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    file = name.replace(" ", "-")
    log = open_log(log_dir / f"{file}.log")
    print(f"  starting {name:<13} (log: var/log/{file}.log)", flush=True)
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, proc in reversed(list(procs.items())):
        if proc.poll() is None:
            print(f"  stopping {name}", flush=True)
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    prod = "--prod" in (sys.argv[1:] if argv is None else argv)
    if prod:
        run_prod.apply_defaults(os.environ)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if not MODEL.exists():
        print(f"no trained model at {MODEL}; run `make train` first", file=sys.stderr)
        return 2
    if prod:
        try:
            run_prod.check_services(settings)
        except run_prod.ProdError as exc:
            print(f"run-prod: {exc}", file=sys.stderr)
            return 2
        from handoff.store.migrate import upgrade

        upgrade(settings.database_url)  # once, before the processes that share the database start
    import asyncio

    from handoff.cli import create_first_admin  # the composition root: it alone knows the console's user store

    first_admin = asyncio.run(create_first_admin(settings))
    log_dir = ROOT / "var" / "log"
    log_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
    env = dict(os.environ)
    tokens = {name: getattr(settings, key) for name, key in SHARED_SECRETS.items()}  # from the env, or new per start
    env["YCC_GATEWAY_URL"] = f"http://{settings.host}:{settings.port}"
    env["PYTHONPATH"] = str(ROOT)
    rasa_port = _port(settings.rasa_url, 5005)
    actions_port = _port(settings.action_server_url, 5055)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    checks = {
        "action server": f"{settings.action_server_url}/health",
        "rasa": f"{settings.rasa_url}/",  # Rasa answers only once the model is loaded
    }
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print("Starting the young carer consultation stack…", flush=True)
    endpoints = write_endpoints(log_dir.parent / "endpoints.yml", settings.action_server_url)
    commands = bot_commands(rasa_port, actions_port, endpoints)
    specs: dict[str, tuple[str, list[str], dict[str, str]]] = {  # name → (log name, argv, environment)
        "action server": ("actions", commands["actions"], process_env(env, "actions", tokens)),
        "rasa": ("rasa", commands["rasa"], process_env(env, "rasa", tokens)),
    }
    simulator_url = f"http://{settings.host}:{settings.port}/simulator/" if settings.simulator else None
    if prod:
        layout = run_prod.plan(settings, env)
        for name, args, ready in layout.processes:
            specs[name] = (name, args, {**process_env(env, "gateway", tokens), **layout.env})
            if ready:
                checks[name] = ready
        simulator_url = layout.simulator_url
    else:
        gateway = [str(ROOT / ".venv" / "bin" / "ycc"), "serve"]
        specs["gateway"] = ("gateway", gateway, process_env(env, "gateway", tokens))
        checks["gateway"] = f"http://{settings.host}:{settings.port}/healthz"
    for name, (log_name, args, process_environment) in specs.items():
        procs[name] = _spawn(log_name, args, process_environment, log_dir)
    restarts = run_prod.Restarts()
    started = time.monotonic()
    waiting = dict(checks)
    try:
        while waiting and not stopping:
            for name, url in list(waiting.items()):
                if procs[name].poll() is not None:
                    print(f"\n{name} exited (code {procs[name].returncode}); see var/log/. Stopping.", flush=True)
                    return 1
                if _ready(url):
                    print(f"\r  ✓ {name} ready after {time.monotonic() - started:.0f}s" + " " * 20, flush=True)
                    del waiting[name]
            if waiting:
                print(f"\r  waiting for {', '.join(waiting)} … {time.monotonic() - started:.0f}s", end="", flush=True)
                time.sleep(1)
        if not stopping:
            base = f"http://{settings.host}:{settings.port}"
            print(f"\nAll {len(procs)} processes are up.")
            print(f"  Console:   {base}/console/")
            if first_admin is not None:
                print(
                    f"  Login:     first run — an admin account `{settings.first_admin}` was created; its password and "
                    "2FA secret are in "
                    f"{first_admin.relative_to(ROOT)} (read once, then delete)"
                )
            else:
                print(
                    "  Login:     your console account (new ones: `.venv/bin/ycc user add NAME --role …`, see README)"
                )
            if simulator_url:
                print(f"  Simulator: {simulator_url}  (no LINE credentials: chat here as a LINE user)")
            print("Press Ctrl-C to stop.", flush=True)
        while not stopping:
            for name, proc in list(procs.items()):
                if proc.poll() is None:
                    continue
                if prod and restarts.allow(name, time.monotonic()):  # as systemd's Restart=always does on a host
                    print(f"{name} exited (code {proc.returncode}); restarting it (see var/log/)", flush=True)
                    procs[name] = _spawn(*specs[name], log_dir)
                    continue
                print(f"{name} exited (code {proc.returncode}); see var/log/. Stopping the others.", flush=True)
                stopping = True
            time.sleep(0.5)
    finally:
        _stop(procs)
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
