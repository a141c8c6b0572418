"""The stack's files, checked without a Docker engine or a cluster: every command a service runs is a
real `implementor` command, every variable is a real setting, and the parts the design asks for are there."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from kustomize_lite import build
from typer.testing import CliRunner

from implementor.cli.main import app
from implementor.config.settings import Settings, env_example
from implementor.workers.names import GPU_QUEUE

ROOT = Path(__file__).parents[1]
SETTINGS = {f"IMPLEMENTOR_{name.upper()}" for name in Settings.model_fields}


def ours(service: dict) -> bool:  # type: ignore[type-arg]
    """Runs one of our images (redis and postgres are theirs, configured their way)."""
    return str(service.get("image", "")).startswith("implementor-")


def interpolated(value: str) -> str:
    """A compose value with `${NAME:-default}` replaced by its default, as compose does when NAME is unset."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def k8s() -> list[dict]:  # type: ignore[type-arg]
    """Every Kubernetes object we ship, rendered: the base with the KEDA component (tests/test_k8s.py)."""
    return build(ROOT / "deploy" / "k8s-keda")


def dockerfile_commands() -> dict[str, list[str]]:
    out = {}
    for path in (ROOT / "docker").glob("*.Dockerfile"):
        match = re.search(r"^CMD (\[.*\])$", path.read_text(), re.MULTILINE)
        assert match, f"{path} has no exec-form CMD"
        out[path.name] = json.loads(match.group(1))
    return out


def containers(doc: dict) -> list[dict]:  # type: ignore[type-arg]
    """A workload's containers, init containers too (a Job's, a Deployment's, a StatefulSet's)."""
    if doc["kind"] not in ("Deployment", "StatefulSet", "Job"):
        return []
    spec = doc["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def all_commands() -> list[list[str]]:
    commands = [svc["command"] for svc in compose()["services"].values() if "command" in svc]
    commands += list(dockerfile_commands().values())
    commands += [c["command"] for doc in k8s() for c in containers(doc) if "command" in c]
    return commands


@pytest.mark.parametrize("command", [c for c in all_commands() if c[0] == "implementor"], ids=" ".join)
def test_every_service_command_is_a_real_command_with_real_options(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command[1:], "--help"])
    assert result.exit_code == 0, result.output


def test_every_variable_is_a_setting() -> None:
    seen: set[str] = set()
    for service in compose()["services"].values():
        if ours(service):
            seen |= set(service.get("environment", {}))
    for doc in k8s():
        if doc["kind"] == "ConfigMap":
            seen |= set(doc["data"])
        seen |= {env["name"] for c in containers(doc) for env in c.get("env", []) if env["name"].startswith("IMPL")}
    assert seen and seen <= SETTINGS, seen - SETTINGS


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    regenerate = ("python -c 'from implementor.config.settings import env_example; "
                  "print(env_example(), end=\"\")' > .env.example")
    assert text == env_example(), f".env.example is out of date; regenerate it: {regenerate}"
    listed = set(re.findall(r"^(?:# )?(IMPLEMENTOR_[A-Z0-9_]+)=", text, re.MULTILINE))
    assert listed == SETTINGS


def test_redis_keeps_an_append_only_file_and_reports_health() -> None:
    redis = compose()["services"]["redis"]
    assert "--appendonly" in redis["command"] and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert "redis-cli" in redis["healthcheck"]["test"]


def gpu_workers() -> dict[str, dict]:  # type: ignore[type-arg]
    return {name: svc for name, svc in compose()["services"].items() if "deploy" in svc}


def test_each_gpu_worker_reserves_its_own_gpu_under_a_gpu_profile() -> None:
    workers = gpu_workers()
    assert {"worker-gpu", "worker-gpu-1"} <= set(workers)
    devices: list[str] = []
    for name, gpu in workers.items():
        [device] = gpu["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia" and "gpu" in device["capabilities"], name
        assert "count" not in device, f"{name}: a count reserves any GPU, so replicas share GPU 0"
        devices += device["device_ids"]
        assert gpu["profiles"] and all(p.startswith("gpu") for p in gpu["profiles"]), name
        assert gpu["command"][gpu["command"].index("--queues") + 1] == GPU_QUEUE and "--autoscale" in gpu["command"]
        assert gpu["environment"]["IMPLEMENTOR_DEVICE"] == "cuda"
        assert gpu["depends_on"]["redis"]["condition"] == "service_healthy"
    assert len(devices) == len(set(devices)), f"two GPU workers on one device: {devices}"
    assert compose()["services"]["worker-cpu"]["profiles"] == ["cpu"]


def test_a_plain_up_starts_nothing_that_needs_a_gpu() -> None:
    default = {name: svc for name, svc in compose()["services"].items() if not svc.get("profiles")}
    assert {"redis", "bot", "learner", "beat"} <= set(default)
    assert not [name for name, svc in default.items() if "deploy" in svc or svc.get("environment", {}).get(
        "IMPLEMENTOR_DEVICE") == "cuda"]


def test_every_service_has_an_init_a_healthcheck_that_is_a_real_command_and_rotated_logs() -> None:
    for name, service in compose()["services"].items():
        assert service.get("init") is True, name
        options = service["logging"]["options"]
        assert service["logging"]["driver"] == "json-file" and options["max-size"] and int(options["max-file"]) > 1
        if service.get("restart") == "no":  # a one-shot (`migrate`): done is its health
            assert "healthcheck" not in service, name
            continue
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD", name
        if test[1] == "implementor":
            result = CliRunner().invoke(app, [*test[2:], "--help"])
            assert result.exit_code == 0, (name, result.output)
        else:
            assert (name, test[1]) in {("redis", "redis-cli"), ("postgres", "pg_isready")}, name


def test_the_bots_drain_fits_inside_its_stop_grace_period() -> None:
    from implementor.bot.app import DRAIN_GRACE_S

    grace = compose()["services"]["bot"]["stop_grace_period"]
    assert grace.endswith("s") and DRAIN_GRACE_S + 2 <= float(grace[:-1]) <= 10


def test_dockerfiles_copy_what_exists() -> None:
    for path in (ROOT / "docker").glob("*.Dockerfile"):
        for source in re.findall(r"^COPY (?!--from=)(.+) \S+$", path.read_text(), re.MULTILINE):
            for item in source.split():
                assert (ROOT / item).exists(), f"{path.name} copies {item}, which does not exist"


def test_keda_scales_the_worker_deployment_on_the_gpu_queue() -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in k8s()}
    scaled = next(d for (kind, _), d in docs.items() if kind == "ScaledObject")
    assert ("Deployment", scaled["spec"]["scaleTargetRef"]["name"]) in docs
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == GPU_QUEUE
    deployment = docs[("Deployment", scaled["spec"]["scaleTargetRef"]["name"])]
    limits = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == 1


def test_the_bot_image_installs_its_lock_and_no_torch() -> None:
    text = (ROOT / "docker" / "bot.Dockerfile").read_text()
    assert "pip install --no-deps -r requirements/bot.txt" in text
    assert "pip install --no-deps --no-build-isolation ." in text
    assert "torch" not in text.split("--no-deps --no-build-isolation .")[1].split("assert")[0]
    compose_bot = compose()["services"]["bot"]
    assert compose_bot["command"] == ["implementor", "bot"] and "bot-data:/data" in compose_bot["volumes"]


def test_the_worker_image_has_a_torch_transformers_accepts_and_checks_it_at_build() -> None:
    text = (ROOT / "docker" / "worker.Dockerfile").read_text()
    version = re.search(r"^FROM pytorch/pytorch:(\d+)\.(\d+)", text, re.MULTILINE)
    assert version and (int(version[1]), int(version[2])) >= (2, 6)  # transformers 5 disables older torch
    check = text[text.index("RUN HF_HUB_OFFLINE=1 python -c"):]
    assert "import torch, transformers" in check and "ColleaguePipeline.load" in check
    floor = re.search(r'"torch>=(\d+)\.(\d+)"', (ROOT / "pyproject.toml").read_text())
    assert floor and (int(floor[1]), int(floor[2])) >= (2, 6)


def test_the_learning_services_share_what_they_must() -> None:
    from implementor.workers.names import LEARN_QUEUE

    services = compose()["services"]
    beat, learner = services["beat"], services["learner"]
    assert beat["command"] == ["implementor", "beat"]
    assert learner["command"][learner["command"].index("--queues") + 1] == LEARN_QUEUE
    assert "--concurrency" in learner["command"] and learner["command"][-1] == "1"  # one cycle at a time
    # The learner reads consent and the colleague's jobs from the bot's store, and alone holds the harvested
    # sets (it carries out /learn optout); workers read the versions it promotes, and cannot change them.
    assert {"bot-data:/data", "learning-data:/learning", "models-data:/models"} <= set(learner["volumes"])
    assert "bot-data:/data" in services["bot"]["volumes"]
    assert not [v for svc in services.values() if svc.get("command", [""])[-1] in ("bot", "beat")
                for v in svc.get("volumes", []) if v.startswith("learning-data")]
    for name in ("worker-gpu", "worker-gpu-1", "worker-cpu"):
        assert services[name]["environment"]["IMPLEMENTOR_MODELS_DIR"] == "/models", name
        assert "models-data:/models:ro" in services[name]["volumes"], name
    assert services["bot"]["environment"]["IMPLEMENTOR_BOT_STORE_PATH"] == learner["environment"][
        "IMPLEMENTOR_BOT_STORE_PATH"]
    for dockerfile in ("bot.Dockerfile", "worker.Dockerfile"):  # the one package, store and learning included
        assert "COPY implementor ./implementor" in (ROOT / "docker" / dockerfile).read_text(), dockerfile


def test_the_grafana_dashboard_imports_and_charts_only_metrics_we_export() -> None:
    from implementor.bot.metrics import BotMetrics
    from implementor.workers.metrics import WorkerMetrics

    worker = WorkerMetrics()
    worker._metrics()  # made on first use; make them now to read their names
    families = {m.name: m.type for registry in (BotMetrics().registry, worker.registry) for m in registry.collect()}
    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}
    exported = {name + suffix for name, kind in families.items() for suffix in suffixes[kind]}
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "implementor.json").read_text())
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus" and dashboard["panels"]
    charted = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"\bimplementor_[a-z_]+", target["expr"])}
    assert charted and charted <= exported, charted - exported
    assert {"implementor_bot_requests_total", "implementor_bot_refusals_total", "implementor_bot_jobs_open",
            "implementor_bot_reconciler_lag_seconds", "implementor_worker_drafts_passing_total"} <= charted


def test_every_service_that_serves_metrics_exposes_its_port() -> None:
    for name, service in compose()["services"].items():
        env = service.get("environment", {})
        ports = [env[key] for key in ("IMPLEMENTOR_BOT_METRICS_PORT", "IMPLEMENTOR_WORKER_METRICS_PORT") if key in env]
        assert ports == [p for p in service.get("expose", [])], name
        if ours(service):
            assert env.get("IMPLEMENTOR_LOG_FORMAT") == "json", name


def test_the_worker_image_builds_the_writers_cache_where_its_user_finds_it() -> None:
    text = (ROOT / "docker" / "worker.Dockerfile").read_text()
    cache = text.index("ENV IMPLEMENTOR_CACHE_DIR=/cache")
    assert cache < text.index("ColleaguePipeline.load")  # the build check loads the writer, so builds its cache
    assert "chown -R implementor /cache" in text and text.index("chown -R implementor /cache") < text.index("USER")


def test_the_worker_image_drafts_on_llama_cpp_built_for_any_avx2_cpu() -> None:
    """The CPU worker would otherwise fall back to CTranslate2 (twice as slow): the image builds llama.cpp
    in a stage with a compiler, without AVX-512 (it may run on another host), and its build check
    fails unless the writer drafts on it."""
    text = (ROOT / "docker" / "worker.Dockerfile").read_text()
    stage = re.search(r"^FROM (\S+) AS llama-cpp$", text, re.MULTILINE)
    final = re.findall(r"^FROM (\S+)$", text, re.MULTILINE)
    assert stage and final == [stage[1]]  # built on the image it runs on: the same C++ runtime
    assert "build_llama_cpp.sh python --portable --wheel-dir /wheels" in text
    assert "COPY --from=llama-cpp /wheels /wheels" in text
    assert text.index("COPY --from=llama-cpp") < text.index("ColleaguePipeline.load")
    assert "pipeline.engine.name == 'llama.cpp'" in text


@pytest.mark.parametrize("portable", [False, True])
def test_the_llama_cpp_build_uses_avx512_only_where_it_may(tmp_path: Path, portable: bool) -> None:
    import subprocess

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t\t: fpu sse2 avx avx2 fma f16c avx512f avx512_vnni avx512_bf16 amx_bf16\n")
    fake = tmp_path / "python"  # records how pip was called instead of building
    fake.write_text(f'#!/bin/sh\necho "$CMAKE_ARGS" > {tmp_path}/cmake\necho "$@" > {tmp_path}/pip\n')
    fake.chmod(0o755)
    extra = ["--portable", "--wheel-dir", str(tmp_path / "w")] if portable else []
    subprocess.run(["bash", str(ROOT / "requirements" / "build_llama_cpp.sh"), str(fake), *extra], check=True,
                   env={"CPUINFO": str(cpuinfo), "PATH": "/usr/bin:/bin"}, capture_output=True)
    cmake, pip = (tmp_path / "cmake").read_text(), (tmp_path / "pip").read_text()
    assert "-DGGML_NATIVE=OFF" in cmake and "-DGGML_AMX_INT8=OFF" in cmake and "-DGGML_AVX2=ON" in cmake
    assert ("-DGGML_AVX512=OFF" in cmake) is portable and ("-DGGML_AVX512_VNNI=OFF" in cmake) is portable
    assert pip.split()[:2] == (["-m", "pip"]) and pip.split()[2] == ("wheel" if portable else "install")
    assert "--require-hashes" in pip and "--no-cache-dir" in pip and ("--wheel-dir" in pip) is portable


def test_the_postgres_profile_runs_sharded_bots_on_one_store_migrated_once() -> None:
    services = compose()["services"]
    profile = {name: svc for name, svc in services.items() if "postgres" in svc.get("profiles", [])}
    assert {"postgres", "migrate", "bot-0", "bot-1", "learner-pg", "beat-1"} <= set(profile)
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:") and "postgres-data" in compose()["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    migrate = services["migrate"]
    assert migrate["command"] == ["implementor", "migrate"] and migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = migrate["environment"]["IMPLEMENTOR_STORE_URL"]
    assert interpolated(url) == "postgresql://implementor:implementor@postgres:5432/implementor"
    bots = {name: svc for name, svc in profile.items() if svc.get("command") == ["implementor", "bot"]}
    [count] = {int(svc["environment"]["IMPLEMENTOR_SHARD_COUNT"]) for svc in bots.values()}  # one count for all
    shards = [int(i) for svc in bots.values() for i in svc["environment"]["IMPLEMENTOR_SHARD_IDS"].split(",")]
    assert len(bots) >= 2 and sorted(shards) == list(range(count))  # disjoint, and every shard served
    for name, svc in {**bots, "learner-pg": services["learner-pg"]}.items():
        env = svc["environment"]
        assert env["IMPLEMENTOR_STORE_URL"] == url and "bot-data:/data" not in svc.get("volumes", []), name
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy", name
        # What each process is told reads as valid settings.
        Settings.model_validate({k.removeprefix("IMPLEMENTOR_").lower(): interpolated(v) for k, v in env.items()})
    for name, bot in bots.items():  # interchangeable: nothing of their own on disk
        assert not [v for v in bot.get("volumes", []) if not v.endswith(":ro")], name
    beats = [name for name, svc in services.items() if svc.get("command") == ["implementor", "beat"]]
    assert len(beats) == 2 and not [v for name in beats for v in services[name].get("volumes", [])]
    assert services["learner-pg"]["command"][-1] == "1"  # still one learner
