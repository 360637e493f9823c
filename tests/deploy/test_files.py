"""The deployment files read the way Docker, compose and the service read them: compose.yaml
against the compose specification's schema, the Dockerfile's stages and instructions, every
setting the service reads documented, the ``server`` extra in step with the dependencies."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement

from tests.deploy.conftest import DEPLOY, REPO

COMPOSE = DEPLOY / "compose.yaml"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                           str(path)], capture_output=True, text=True, timeout=60)


def test_compose_file_is_valid_against_the_compose_spec_schema(tmp_path: Path) -> None:
    r = _check_compose(COMPOSE)
    assert r.returncode == 0, r.stdout + r.stderr
    # and the schema does refuse a broken file (the check is not vacuous)
    bad = tmp_path / "compose.yaml"
    bad.write_text(COMPOSE.read_text().replace("    restart: unless-stopped\n", "    restart: 7\n", 1)
                   .replace("healthcheck:", "healthcheck_typo:", 1))
    assert _check_compose(bad).returncode == 1


def test_compose_wires_replicas_healthchecks_tls_and_backups() -> None:
    c = _compose()
    services = c["services"]
    assert set(services) == {"db", "api", "nginx", "backup"}
    api, nginx, db, backup = services["api"], services["nginx"], services["db"], services["backup"]
    # N replicas x N workers, built from this repository's Dockerfile
    assert api["deploy"]["replicas"] == "${API_REPLICAS:-2}"
    assert api["command"] == ["--workers", "${API_WORKERS:-2}"]
    assert (COMPOSE.parent / api["build"]["context"] / api["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    # readiness of the api is /ready; nginx waits for it; nginx checks /health through itself
    assert "/ready" in " ".join(api["healthcheck"]["test"])
    assert nginx["depends_on"]["api"]["condition"] == "service_healthy"
    assert "http://127.0.0.1/health" in nginx["healthcheck"]["test"]
    assert db["healthcheck"]["test"][1] == "pg_isready"
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    # only nginx is published; the api trusts forwarded headers from nginx's fixed address only
    assert "ports" not in api and "ports" not in db
    assert sorted(nginx["ports"]) == ["443:443", "80:80"]
    assert api["environment"]["STOCKSCANNER_ENV"] == "production"
    assert api["environment"]["STOCKSCANNER_TRUSTED_PROXIES"] == nginx["networks"]["backend"]["ipv4_address"]
    assert api["read_only"] is True and api["cap_drop"] == ["ALL"]
    # every file compose mounts exists in deploy/ (secrets and tls are made by gen-secrets.sh)
    made = {"./tls", "./backups", "${BACKUP_HOST_DIR:-./backups}"}
    for svc in services.values():
        for vol in svc.get("volumes", []):
            source = vol.split(":")[0] if not vol.startswith("${") else vol.rsplit(":", 1)[0]
            if source.startswith((".", "$")) and source not in made:
                assert (COMPOSE.parent / source).exists(), source
        for env_file in svc.get("env_file", []):
            assert env_file in ("stockscanner.env", "secrets/db.env")
    # backups: pg-backup.sh in a loop on an interval, with rotation
    assert "/usr/local/bin/pg-backup.sh" in backup["entrypoint"][-1] and "BACKUP_INTERVAL_S" in backup["entrypoint"][-1]
    assert backup["environment"]["BACKUP_KEEP"] == "${BACKUP_KEEP:-14}"


def _stages(dockerfile: str) -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions (continuations joined), split into stages."""
    text = re.sub(r"\\\n", " ", dockerfile)
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        op, _, rest = line.partition(" ")
        if op.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((op.upper(), rest.strip()))
    return stages


def test_dockerfile_is_multi_stage_non_root_with_healthcheck_and_server_deps_only() -> None:
    stages = _stages((DEPLOY / "Dockerfile").read_text())
    assert len(stages) == 2
    assert stages[0][0][1].endswith("AS build") and stages[1][0][1].endswith("AS runtime")
    build, runtime = stages
    build_runs = " ".join(arg for op, arg in build if op == "RUN")
    # the server extra's requirements, then the project itself without its desktop dependencies
    assert "server_requirements.py" in build_runs and "--no-deps ." in build_runs
    for op, arg in build:
        if op == "COPY":
            *sources, _dest = arg.split()
            for src in sources:
                assert (REPO / src).exists(), src
    # runtime: copies only the venv from the build stage, runs as a numeric non-root user
    copies = [arg for op, arg in runtime if op == "COPY"]
    assert copies == ["--from=build /opt/stockscanner /opt/stockscanner"]
    user = [arg for op, arg in runtime if op == "USER"]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    health = [arg for op, arg in runtime if op == "HEALTHCHECK"]
    assert len(health) == 1 and "http://127.0.0.1:8000/health" in health[0]
    entry = [arg for op, arg in runtime if op == "ENTRYPOINT"]
    assert entry == ['["stockscanner", "serve", "--host", "0.0.0.0", "--port", "8000"]']
    assert ("EXPOSE", "8000") in runtime


def test_dockerignore_lets_through_exactly_what_the_dockerfile_copies() -> None:
    allowed = {line[1:].rstrip("/") for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
               if line.startswith("!")}
    stages = _stages((DEPLOY / "Dockerfile").read_text())
    copied = {src.rstrip("/") for op, arg in stages[0] if op == "COPY" for src in arg.split()[:-1]}
    assert copied == allowed


def _pyproject() -> dict[str, Any]:
    with (REPO / "pyproject.toml").open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    return data


def test_server_extra_names_only_project_dependencies_and_the_script_prints_it() -> None:
    project = _pyproject()["project"]
    main = {Requirement(r).name.lower(): Requirement(r) for r in project["dependencies"]}
    extra = [Requirement(r) for r in project["optional-dependencies"]["server"]]
    for req in extra:
        assert req.name.lower() in main, f"{req} is not a dependency of the project"
        assert req.specifier == main[req.name.lower()].specifier, f"{req} differs from {main[req.name.lower()]}"
    assert not {"pyside6-essentials", "pyqtgraph", "numpy", "pandas", "numba"} & {r.name.lower() for r in extra}
    out = subprocess.run([sys.executable, str(DEPLOY / "server_requirements.py")], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out == project["optional-dependencies"]["server"]


def _settings_read() -> set[str]:
    config = (REPO / "server" / "config.py").read_text()
    names = set(re.findall(r'(?:e\.get\(|e\[|_flag\(e, |_int\(e, )"([A-Z][A-Z0-9_]+)"', config))
    paths = (REPO / "engine" / "paths.py").read_text()
    names |= set(re.findall(r'environ\.get\("([A-Z][A-Z0-9_]+)"', paths))
    return names


def test_every_environment_variable_the_service_reads_is_documented() -> None:
    read = _settings_read()
    assert {"DATABASE_URL", "SECRET_KEY", "STOCKSCANNER_ENV", "SMTP_HOST", "STOCKSCANNER_HOME"} <= read
    doc = (DEPLOY / "README.md").read_text()
    section = doc.split("## Environment variables", 1)[1].split("Used by the deployment files only", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, re.M))
    assert read <= documented, f"read by the service but not documented in deploy/README.md: {read - documented}"
    # and nothing documented is a name no code mentions (a stale row)
    sources = "".join(p.read_text() for p in (REPO / "server").rglob("*.py")) + (REPO / "engine" / "paths.py").read_text()
    stale = {name for name in documented - read if f'"{name}"' not in sources}
    assert not stale, f"documented but read nowhere: {stale}"


def test_generated_env_files_hold_only_settings_the_service_reads() -> None:
    """gen-secrets.sh's stockscanner.env and setup-debian.sh's env file name no variable the
    service would ignore (a typo there is a silently missing setting)."""
    read = _settings_read()
    for script in ("gen-secrets.sh", "setup-debian.sh"):
        body = (DEPLOY / script).read_text()
        block = body.split("<<ENV", 1)[1].split("\nENV\n", 1)[0]
        keys = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", block, re.M))
        assert keys and keys <= read, (script, keys - read)
