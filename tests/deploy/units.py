"""Reading deploy/systemd the way systemd does (a key may repeat; later lines add to earlier ones), and building a
throw-away root in which `systemd-analyze` can check the units as they would be installed."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
DROPIN = UNITS / "ycc-.service.d" / "hardening.conf"
# Every long-running process of the service and the unit that runs it (ycc-web@ once per port).
PROCESS_UNITS = ("ycc-web@.service", "ycc-worker.service", "ycc-rasa.service", "ycc-actions.service")
WEB_PORTS = ("8081", "8082")


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """{section: {key: [values in order]}}; comments and blank lines dropped, continuation lines joined."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def service(path: Path) -> dict[str, list[str]]:
    return parse_unit(path).get("Service", {})


def exec_paths() -> set[str]:
    """The executables the units start (first word of every ExecStart=)."""
    found = set()
    for unit in UNITS.glob("*.service"):
        for command in service(unit).get("ExecStart", []):
            found.add(command.lstrip("-@:+!").split()[0])
    return found


def install_root(tmp: Path) -> Path:
    """A root with the host's own unit directory, our units under /etc/systemd/system and an empty stand-in for
    each program they start (systemd-analyze refuses a unit whose ExecStart= is missing)."""
    system = next(p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir())
    root = tmp / "root"
    shutil.copytree(system, root / "usr/lib/systemd/system", symlinks=True)
    shutil.copytree(UNITS, root / "etc/systemd/system")
    for program in exec_paths():
        stub = root / program.lstrip("/")
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nycc:x:990:990::/var/lib/ycc:/usr/sbin/nologin\n"
                                     "ycc_backup:x:991:991::/var/backups/ycc:/usr/sbin/nologin\n"
                                     "www-data:x:33:33::/var/www:/usr/sbin/nologin\n")
    (root / "etc/group").write_text("root:x:0:\nadm:x:4:\nwww-data:x:33:\nycc:x:990:\nycc_backup:x:991:\n")
    return root


def instances() -> list[str]:
    """The unit names systemd would run: templates become one instance per port."""
    names = []
    for unit in sorted(UNITS.glob("*.service")) + sorted(UNITS.glob("*.t*")):
        if unit.name.endswith("@.service"):
            names += [unit.name.replace("@.", f"@{port}.") for port in WEB_PORTS]
        else:
            names.append(unit.name)
    return names
