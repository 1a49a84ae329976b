"""Static checks of the production deployment files (no Docker, no database needed).

Run alone with: .venv/bin/pytest tests/test_deploy_files.py -p no:django
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
DOCKERFILE = ROOT / "Dockerfile"

REQUIRED_SERVICES = ("postgres", "redis", "web", "worker", "beat")
APP_SERVICES = ("web", "worker", "beat")
REQUIRED_ENV_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS")

# ${VAR}, ${VAR:-default}, ${VAR-default}: what compose substitutes with no variables set.
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate_defaults(value: str) -> str:
    return _INTERPOLATION.sub(lambda m: m.group(2) or "", value)


def image_tag(image: str) -> str | None:
    """Tag of an image reference, or None when it has none (which means `latest`)."""
    image = interpolate_defaults(image).split("@", 1)[0]
    last_part = image.rsplit("/", 1)[-1]
    return last_part.split(":", 1)[1] if ":" in last_part else None


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def named_volume_targets(service: dict, declared: dict) -> dict[str, str]:
    """Map container path -> named volume for the service's named-volume mounts."""
    targets = {}
    for entry in service.get("volumes", []):
        if isinstance(entry, str):
            source, _, rest = entry.partition(":")
            target = rest.split(":", 1)[0]
        else:
            if entry.get("type", "volume") != "volume":
                continue
            source, target = entry.get("source", ""), entry.get("target", "")
        # Bind mounts start with a path; named volumes are declared at the top level.
        if source and not source.startswith((".", "/", "~", "$")) and source in declared:
            targets[target] = source
    return targets


def test_required_services_exist(services):
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert not missing, f"missing services: {missing}"


def long_running(services: dict) -> dict:
    """The services `up` starts; those in a profile are one-shot jobs (backup)."""
    return {name: service for name, service in services.items() if not service.get("profiles")}


def test_every_service_has_a_healthcheck(services):
    for name, service in long_running(services).items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        test = check.get("test")
        assert test, f"{name} healthcheck has no test"
        if isinstance(test, list):
            assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}: healthcheck test {test[0]!r}"
            assert len(test) > 1, f"{name}: empty healthcheck command"


def test_every_service_restarts(services):
    for name, service in long_running(services).items():
        assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, name


def test_backup_is_a_one_shot_job_with_the_servers_own_client_tools(compose, services):
    """pg_dump refuses a newer server, so the job runs in the postgres service's image."""
    backup = services["backup"]
    assert backup.get("profiles") and backup.get("restart") == "no"
    assert backup["image"] == services["postgres"]["image"]
    declared = compose.get("volumes") or {}
    media = services["web"]["environment"]["MEDIA_ROOT"]
    web_media = named_volume_targets(services["web"], declared)[media]
    assert named_volume_targets(backup, declared).get(media) == web_media, "no uploaded files"
    assert backup["environment"]["MEDIA_ROOT"] == media
    assert "/deploy/backup.sh" in " ".join(backup["command"])


def test_postgres_and_redis_use_named_volumes(compose, services):
    declared = compose.get("volumes") or {}
    postgres = named_volume_targets(services["postgres"], declared)
    redis = named_volume_targets(services["redis"], declared)
    assert "/var/lib/postgresql/data" in postgres, "postgres data is not on a named volume"
    assert "/data" in redis, "redis data is not on a named volume"
    assert postgres["/var/lib/postgresql/data"] != redis["/data"]


def test_import_inbox_is_a_named_volume(compose, services):
    declared = compose.get("volumes") or {}
    for name in ("web", "worker"):
        targets = named_volume_targets(services[name], declared)
        assert "/data/inbox" in targets, f"{name} does not mount the import inbox volume"
        assert services[name].get("environment", {}).get("STYRKORT_IMPORT_INBOX") == (
            "/data/inbox"
        ), name


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_postgres_and_redis(services, name):
    depends_on = services[name].get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on must use conditions"
    for dependency in ("postgres", "redis"):
        assert dependency in depends_on, f"{name} does not depend on {dependency}"
        assert depends_on[dependency].get("condition") == "service_healthy", (
            f"{name} does not wait for {dependency} to be healthy"
        )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_load_the_env_file(services, name):
    env_file = services[name].get("env_file")
    env_files = [env_file] if isinstance(env_file, str) else list(env_file or [])
    assert any("deploy/env.example" in entry for entry in env_files), env_files


def test_no_service_uses_latest_or_untagged_images(services):
    for name, service in services.items():
        image = service.get("image")
        if image is None:
            assert "build" in service, f"{name} has neither image nor build"
            continue
        tag = image_tag(image)
        assert tag, f"{name}: image {image!r} has no tag (implicitly latest)"
        assert tag != "latest", f"{name}: image {image!r} uses latest"


def test_dockerfile_base_images_are_tagged():
    stages: set[str] = set()
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if not match:
            continue
        image, alias = match.group(1), match.group(2)
        if image not in stages:
            tag = image_tag(image)
            assert tag and tag != "latest", f"Dockerfile: base image {image!r} is not pinned"
        if alias:
            stages.add(alias)


def test_web_runs_gunicorn_and_checks_healthz(services):
    web = services["web"]
    command = web["command"] if isinstance(web["command"], str) else " ".join(web["command"])
    assert "gunicorn" in command and "config.wsgi:application" in command
    assert "--workers" in command
    assert "/healthz" in " ".join(web["healthcheck"]["test"])


def env_example_values() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_env_example_lists_required_variables():
    values = env_example_values()
    missing = [name for name in REQUIRED_ENV_VARS if name not in values]
    assert not missing, f"deploy/env.example lacks {missing}"
    assert values["SECRET_KEY"].startswith("change-me"), "SECRET_KEY must be a placeholder"


ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"


def test_only_web_migrates_and_worker_and_beat_wait_for_it(services):
    """The upgrade path (README "Upgrade"): web migrates on start, the others wait."""
    environments = {name: services[name].get("environment") or {} for name in APP_SERVICES}
    assert environments["web"].get("STYRKORT_MIGRATE_ON_START") == "1"
    assert environments["web"].get("STYRKORT_WAIT_FOR_MIGRATIONS", "0") == "0"
    for name in ("worker", "beat"):
        assert environments[name].get("STYRKORT_MIGRATE_ON_START", "0") == "0", name
        assert environments[name].get("STYRKORT_WAIT_FOR_MIGRATIONS") == "1", name
    entrypoint = ENTRYPOINT.read_text(encoding="utf-8")
    assert "manage.py migrate --noinput" in entrypoint
    assert "manage.py wait_for_migrations" in entrypoint


@pytest.mark.parametrize(
    "script", [".ci/run", "deploy/entrypoint.sh", "deploy/backup.sh", "deploy/restore.sh"]
)
def test_shell_scripts_parse_and_ci_runs_the_readmes_test_command(script):
    # An edit once pasted a block into .ci/run's first comment line: bash refused the file
    # and CI ran no test at all. `bash -n` reads without running.
    import subprocess

    checked = subprocess.run(["bash", "-n", ROOT / script], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    if script == ".ci/run":
        lines = (ROOT / script).read_text().splitlines()
        assert lines[-1] == "make test"
        assert "make test" in (ROOT / "README.md").read_text()
