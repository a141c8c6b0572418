"""The Kubernetes manifests (deploy/k8s/), checked without a cluster: every object validates against the
Kubernetes JSON schemas (kubernetes-validate, offline, strict: an unknown field fails), the whole stack is
there, and commands, variables, probes, volumes and scaling agree with the code and its settings."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from implementor.cli.main import app
from implementor.config.settings import Settings
from implementor.workers.names import GPU_QUEUE, LEARN_QUEUE

ROOT = Path(__file__).parents[1]
K8S_VERSION = "1.30.0"  # the oldest release still in upstream support when these were written
SETTINGS = {f"IMPLEMENTOR_{name.upper()}" for name in Settings.model_fields}


def documents() -> list[dict[str, Any]]:
    return [doc for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if doc]


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents() if d["kind"] == kind}


def workloads() -> dict[str, dict[str, Any]]:
    return {**objects("Deployment"), **objects("StatefulSet")}


def containers() -> list[dict[str, Any]]:
    return [c for w in workloads().values() for c in w["spec"]["template"]["spec"]["containers"]]


def config() -> dict[str, str]:
    return objects("ConfigMap")["implementor-config"]["data"]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    """What a container's process sees of our settings: the config map, then its own `env`."""
    from_map = config() if any("configMapRef" in e for e in container.get("envFrom", [])) else {}
    return {**from_map, **{e["name"]: e.get("value", "") for e in container.get("env", [])}}


@pytest.mark.parametrize("doc", [d for d in documents() if not d["apiVersion"].startswith("keda.sh/")],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_every_object_validates_against_the_kubernetes_schema(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_would_catch_a_mistake() -> None:
    broken = copy.deepcopy(objects("Deployment")["implementor-bot"])
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["exec"]["comand"] = ["x"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_the_whole_stack_is_there() -> None:
    assert {"implementor-bot", "implementor-redis", "implementor-worker-gpu", "implementor-learner",
            "implementor-beat"} <= set(workloads())
    assert "implementor-redis" in objects("Service")


@pytest.mark.parametrize("container", [c for c in containers() if c.get("command", [""])[0] == "implementor"],
                         ids=lambda c: c["name"])
def test_every_command_and_probe_is_a_real_command_and_every_variable_a_setting(container: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, [*container["command"][1:], "--help"])
    assert result.exit_code == 0, result.output
    assert {"livenessProbe", "readinessProbe"} <= set(container), container["name"]
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        if kind in container:
            probe = container[kind]["exec"]["command"]
            assert probe[:3] == ["implementor", "health", container["command"][1] if container["command"][1] in
                                 ("bot", "beat") else "worker"], (container["name"], kind)
            assert CliRunner().invoke(app, [*probe[1:], "--help"]).exit_code == 0, probe
    ours = {name for name in env_of(container) if name.startswith("IMPLEMENTOR_")}
    assert ours <= SETTINGS, ours - SETTINGS
    Settings.model_validate({k.removeprefix("IMPLEMENTOR_").lower(): v for k, v in env_of(container).items()
                             if k.startswith("IMPLEMENTOR_")})  # and their values pass the settings' checks


def test_the_visibility_timeout_follows_the_settings_rule_and_the_workers_get_the_time_limit_to_stop() -> None:
    data = config()
    settings = Settings(task_time_limit_s=int(data["IMPLEMENTOR_TASK_TIME_LIMIT_S"]),
                        task_soft_time_limit_s=int(data["IMPLEMENTOR_TASK_SOFT_TIME_LIMIT_S"]),
                        visibility_timeout_s=int(data["IMPLEMENTOR_VISIBILITY_TIMEOUT_S"])
                        if "IMPLEMENTOR_VISIBILITY_TIMEOUT_S" in data else None)
    assert settings.visibility_timeout == 2 * settings.task_time_limit_s + 60  # the rule, not an hour
    worker = workloads()["implementor-worker-gpu"]["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] >= settings.task_time_limit_s


def test_keda_owns_the_gpu_workers_replica_count_and_scales_on_the_gpu_queue() -> None:
    worker = workloads()["implementor-worker-gpu"]
    assert "replicas" not in worker["spec"]  # a fixed count would fight KEDA at every apply
    scaled = objects("ScaledObject")["implementor-worker-gpu"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == "implementor-worker-gpu"
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == GPU_QUEUE
    assert trigger["metadata"]["address"].split(":")[0] in objects("Service")
    low, high = scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]
    assert 1 <= low < high
    [container] = worker["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["command"][container["command"].index("--queues") + 1] == GPU_QUEUE
    assert env_of(container)["IMPLEMENTOR_DEVICE"] == "cuda"


def mounts(name: str) -> dict[str, tuple[str, bool]]:
    """A workload's volumes: claim name -> (mount path, read only)."""
    spec = workloads()[name]["spec"]["template"]["spec"]
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes", [])
              if "persistentVolumeClaim" in v}
    return {claims[m["name"]]: (m["mountPath"], m.get("readOnly", False))
            for c in spec["containers"] for m in c.get("volumeMounts", []) if m["name"] in claims}


def test_the_models_volume_is_shared_written_by_the_learner_and_read_by_the_workers() -> None:
    models_dir = config()["IMPLEMENTOR_MODELS_DIR"]
    assert objects("PersistentVolumeClaim")["implementor-models"]["spec"]["accessModes"] == ["ReadWriteMany"]
    assert mounts("implementor-worker-gpu")["implementor-models"] == (models_dir, True)
    assert mounts("implementor-learner")["implementor-models"] == (models_dir, False)
    learner = workloads()["implementor-learner"]["spec"]["template"]["spec"]["containers"][0]
    assert learner["command"][learner["command"].index("--queues") + 1] == LEARN_QUEUE


def test_the_bot_runs_as_one_process_beside_the_learner_on_its_store() -> None:
    bot = workloads()["implementor-bot"]
    assert bot["spec"]["replicas"] == 1 and bot["spec"]["strategy"]["type"] == "Recreate"  # never two at once
    assert bot["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] <= 10  # its drain takes 7 s at most
    store = str(Path(config()["IMPLEMENTOR_BOT_STORE_PATH"]).parent)
    assert mounts("implementor-bot")["implementor-bot-data"][0] == store
    assert mounts("implementor-learner")["implementor-bot-data"][0] == store
    for name in ("implementor-learner", "implementor-beat"):
        affinity = workloads()[name]["spec"]["template"]["spec"]["affinity"]["podAffinity"]
        [term] = affinity["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["topologyKey"] == "kubernetes.io/hostname"  # SQLite's write-ahead log needs one host
        assert term["labelSelector"]["matchLabels"]["component"] == "bot"
    for name in ("implementor-learner", "implementor-beat"):
        assert workloads()[name]["spec"]["replicas"] == 1


def test_redis_persists_its_append_only_file() -> None:
    redis = workloads()["implementor-redis"]
    [container] = redis["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    [claim] = redis["spec"]["volumeClaimTemplates"]
    assert {"name": claim["metadata"]["name"], "mountPath": "/data"} in container["volumeMounts"]
    assert "redis-cli" in " ".join(container["livenessProbe"]["exec"]["command"])
