"""deploy/systemd, as systemd itself reads it: `systemd-analyze verify` (works without systemd running, in a
throw-away root) and `systemd-analyze security --offline`, plus what every process unit must say."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from handoff.run_all import SECRETS_OF
from handoff.settings import Settings
from tests.deploy.units import DEPLOY, DROPIN, PROCESS_UNITS, ROOT, UNITS, install_root, instances, parse_unit, service

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (Debian: systemd)")
ENV_OF = {"ycc-web@.service": "gateway", "ycc-worker.service": "gateway", "ycc-migrate.service": "gateway",
          "ycc-rasa.service": "rasa", "ycc-actions.service": "actions"}
# The exposure score `systemd-analyze security` gives with hardening.conf is 1.2–1.4 ("OK"); 9.2 without it.
MAX_EXPOSURE = 2.0


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_root(tmp_path_factory.mktemp("systemd"))


@needs_analyze
def test_systemd_analyze_verify_accepts_every_unit_without_a_warning(root: Path) -> None:
    result = subprocess.run([ANALYZE, "verify", f"--root={root}", *instances()], capture_output=True, text=True)
    # An unknown or misspelt key is only a warning (exit status 0), so the output must be empty too.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


@needs_analyze
@pytest.mark.parametrize("unit", [u for u in instances() if u.endswith(".service")])
def test_every_service_is_sandboxed(root: Path, unit: str) -> None:
    result = subprocess.run([ANALYZE, "security", "--offline=yes", f"--root={root}", unit],
                            capture_output=True, text=True)
    score = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert score, result.stdout[-500:] + result.stderr[-500:]
    assert float(score.group(1)) <= MAX_EXPOSURE, result.stdout


@pytest.mark.parametrize("name", PROCESS_UNITS)
def test_every_process_restarts_runs_as_ycc_and_reads_the_shared_environment(name: str) -> None:
    unit = parse_unit(UNITS / name)
    svc = unit["Service"]
    assert svc["Restart"] == ["always"]
    assert svc["User"] == ["ycc"] and svc["Group"] == ["ycc"]
    assert svc["EnvironmentFile"] == ["/etc/ycc/ycc.env", f"/etc/ycc/{ENV_OF[name]}.env"]
    assert unit["Unit"]["PartOf"] == ["ycc.target"]
    assert unit["Unit"]["StartLimitIntervalSec"] == ["0"], "a process must never stay down after a long outage"
    assert "/var/lib/ycc" in " ".join(svc["ReadWritePaths"])


def test_the_target_starts_every_process_and_both_web_processes() -> None:
    wanted = " ".join(parse_unit(UNITS / "ycc.target")["Unit"]["Wants"]).split()
    assert sorted(wanted) == sorted(["ycc-migrate.service", "ycc-web@8081.service", "ycc-web@8082.service",
                                     "ycc-worker.service", "ycc-rasa.service", "ycc-actions.service"])


def test_web_processes_take_their_port_from_the_instance_and_leave_the_worker_to_its_unit() -> None:
    web = service(UNITS / "ycc-web@.service")
    assert "YCC_PORT=%i" in web["Environment"]
    assert web["ExecStart"] == ["/opt/ycc/.venv/bin/ycc serve --no-migrate"]
    assert service(UNITS / "ycc-worker.service")["ExecStart"] == ["/opt/ycc/.venv/bin/ycc worker"]


def _recipe(target: str) -> str:
    """The command line of a mk/bot.mk target with its variables filled in as the units use them."""
    text = (ROOT / "mk" / "bot.mk").read_text(encoding="utf-8")
    line = re.search(rf"^{target}:.*\n\t(.+)$", text, re.M).group(1)  # type: ignore[union-attr]
    bot_bin = "/opt/ycc/.venv-bot/bin"
    filled = {"$(RASA)": f"{bot_bin}/rasa", "$(BOT_ENV) ": "", "$(BOT_BIN)": bot_bin, "$(MODEL)": "models/ycc.tar.gz"}
    for var, value in filled.items():
        line = line.replace(var, value)
    return line.strip()


@pytest.mark.parametrize(("target", "name"), [("run-rasa", "ycc-rasa.service"), ("run-actions", "ycc-actions.service")])
def test_bot_units_run_what_the_makefile_runs(target: str, name: str) -> None:
    svc = service(UNITS / name)
    assert svc["ExecStart"] == [_recipe(target)]
    bot_env = re.search(r"^BOT_ENV := (.+)$", (ROOT / "mk" / "bot.mk").read_text(encoding="utf-8"), re.M)
    expected = bot_env.group(1).replace("$(CURDIR)", "/opt/ycc")  # type: ignore[union-attr]
    assert expected in svc["Environment"]


def test_rasa_and_the_action_server_reach_loopback_only() -> None:
    for name in ("ycc-rasa.service", "ycc-actions.service"):
        svc = service(UNITS / name)
        assert svc["IPAddressDeny"] == ["any"] and svc["IPAddressAllow"] == ["localhost"]


def test_hardening_applies_to_every_unit_and_sets_no_user() -> None:
    svc = service(DROPIN)
    for key in ("NoNewPrivileges", "ProtectSystem", "PrivateTmp", "ProtectHome", "CapabilityBoundingSet"):
        assert key in svc
    assert svc["ProtectSystem"] == ["strict"]
    # A drop-in is read after the unit: a User= or StateDirectory= here would also apply to ycc-backup.
    assert not {"User", "Group", "StateDirectory", "Environment", "EnvironmentFile"} & svc.keys()


def _env(name: str) -> dict[str, str]:
    lines = (DEPLOY / "env" / name).read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_each_process_gets_only_the_secrets_of_its_own_hops() -> None:
    """README, Security: the same split `make run` makes (handoff/run_all.py SECRETS_OF)."""
    shared = _env("ycc.env.example")
    assert not {k for k in shared if k.endswith("_TOKEN") or k.startswith("LINE_")}
    for process, secrets in SECRETS_OF.items():
        env = _env(f"{process}.env.example")
        assert {k for k in env if k.startswith("YCC_") and k.endswith("_TOKEN")} == set(secrets), process


def test_no_environment_file_sets_the_port_and_the_shared_one_is_valid() -> None:
    """EnvironmentFile= wins over Environment=: a YCC_PORT in a file would give both web processes one port."""
    for path in (DEPLOY / "env").glob("*.example"):
        assert "YCC_PORT" not in _env(path.name), path.name
    secrets = {name: "x" * 32 for name in ("YCC_INTERNAL_TOKEN", "YCC_RASA_TOKEN")}
    settings = Settings.from_mapping({**_env("ycc.env.example"), **secrets, "YCC_PORT": "8082"})
    assert settings.worker_mode == "off" and str(settings.run_dir) == "/run/ycc"
    assert settings.database_url.startswith("postgresql+asyncpg://") and settings.tracker_store_schema == "rasa"
    assert settings.public_url.startswith("https://") and settings.port == 8082


@pytest.mark.skipif(shutil.which("systemd-tmpfiles") is None, reason="systemd-tmpfiles is not installed")
def test_tmpfiles_make_the_shared_directories_for_their_owners(tmp_path: Path) -> None:
    root = install_root(tmp_path)
    (root / "etc/tmpfiles.d").mkdir()
    shutil.copy(DEPLOY / "tmpfiles.d" / "ycc.conf", root / "etc/tmpfiles.d")
    for parent in ("run", "var/lib", "var/backups", "var/log/nginx"):
        (root / parent).mkdir(parents=True, exist_ok=True)
    subprocess.run(["systemd-tmpfiles", f"--root={root}", "--create", "ycc.conf"], check=True)
    for path, uid in (("run/ycc", 990), ("var/lib/ycc", 990), ("var/backups/ycc", 991)):
        st = (root / path).stat()
        assert (st.st_mode & 0o777, st.st_uid) == (0o700, uid), path


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate is not installed")
def test_logrotate_accepts_the_nginx_log_rules(tmp_path: Path) -> None:
    result = subprocess.run(["logrotate", "--debug", f"--state={tmp_path / 'state'}",
                             str(DEPLOY / "logrotate" / "ycc-nginx")], capture_output=True, text=True)
    assert result.returncode == 0 and "error" not in result.stderr.lower(), result.stderr


def test_the_guide_installs_every_file_of_deploy() -> None:
    """docs/deploy.md is the only installer: a file it never mentions would never reach a server."""
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            shown = path.relative_to(DEPLOY)
            named = f"deploy/{shown}" in guide or (shown.parts[0] in {"systemd", "env"} and
                                                   f"deploy/{shown.parts[0]}/" in guide)
            assert named or path.name in guide, f"docs/deploy.md never installs deploy/{shown}"
