"""The Kubernetes manifests (deploy/k8s/), checked without a cluster, as `kubectl apply -k` sends them:
rendered from their kustomization (tests/support/kustomize_lite.py stands in for kustomize), the base and
the base with each optional component (KEDA, PostgreSQL). Every object validates against the Kubernetes JSON schemas
(kubernetes-validate, offline, strict: an unknown field fails), the base needs no KEDA, every image is set
in the kustomization's `images:`, the whole stack is there, and commands, variables, probes, volumes and
scaling agree with the code and its settings."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kustomize_lite import build, split_image
from typer.testing import CliRunner

from implementor.cli.main import app
from implementor.config.settings import Settings
from implementor.workers.names import GPU_QUEUE, LEARN_QUEUE

ROOT = Path(__file__).parents[1]
K8S_VERSION = "1.30.0"  # the oldest release still in upstream support when these were written
SETTINGS = {f"IMPLEMENTOR_{name.upper()}" for name in Settings.model_fields}
BASE = ROOT / "deploy" / "k8s"
KEDA_COMPONENT = BASE / "components" / "keda"
KEDA_OVERLAY = ROOT / "deploy" / "k8s-keda"  # a sibling: kustomize refuses a base holding its user
POSTGRES_COMPONENT = BASE / "components" / "postgres"
POSTGRES_OVERLAY = ROOT / "deploy" / "k8s-postgres"


def documents(keda: bool = True) -> list[dict[str, Any]]:
    """The rendered stack: the base with the KEDA component, or the base alone."""
    return build(KEDA_OVERLAY if keda else BASE)


RENDERS = {"base": BASE, "keda": KEDA_OVERLAY, "postgres": POSTGRES_OVERLAY}


def kustomization(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "kustomization.yaml").read_text())


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents() if d["kind"] == kind}


def workloads() -> dict[str, dict[str, Any]]:
    return {**objects("Deployment"), **objects("StatefulSet")}


def containers() -> list[dict[str, Any]]:
    return [c for w in workloads().values() for c in w["spec"]["template"]["spec"]["containers"]]


def images(docs: list[dict[str, Any]]) -> set[str]:
    pods = [d["spec"]["template"]["spec"] for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")]
    return {c["image"] for pod in pods for c in pod.get("initContainers", []) + pod["containers"]}


def config() -> dict[str, str]:
    return objects("ConfigMap")["implementor-config"]["data"]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    """What a container's process sees of our settings: the config map, then its own `env`."""
    from_map = config() if any("configMapRef" in e for e in container.get("envFrom", [])) else {}
    # A value from the pod's own fields (the bots' shard: their index label) stands as the first pod's.
    return {**from_map, **{e["name"]: e.get("value", "0" if "fieldRef" in e.get("valueFrom", {}) else "")
                           for e in container.get("env", [])}}


@pytest.mark.parametrize("doc", [pytest.param(d, id=f"{render}:{d['kind']}/{d['metadata']['name']}")
                                 for render, folder in RENDERS.items() for d in build(folder)
                                 if not d["apiVersion"].startswith("keda.sh/")])  # KEDA's CRDs: not in the schemas
def test_every_rendered_object_validates_against_the_kubernetes_schema(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_every_manifest_is_in_the_kustomization_and_keda_only_in_its_component() -> None:
    """A manifest left out of `resources:` would never be applied; KEDA's kinds in the base would make
    `kubectl apply -k deploy/k8s` fail wherever KEDA is not installed."""
    base = kustomization(BASE)
    assert sorted(base["resources"]) == sorted(p.name for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml")
    assert "components" not in base
    component = kustomization(KEDA_COMPONENT)
    assert component["kind"] == "Component"
    assert sorted(component["resources"]) == sorted(p.name for p in KEDA_COMPONENT.glob("*.yaml")
                                                    if p.name != "kustomization.yaml")
    overlay = kustomization(KEDA_OVERLAY)
    assert overlay["resources"] == ["../k8s"] and overlay["components"] == ["../k8s/components/keda"]
    component = kustomization(POSTGRES_COMPONENT)
    assert component["kind"] == "Component" and component["resources"] == ["postgres.yaml"]
    overlay = kustomization(POSTGRES_OVERLAY)
    assert overlay["resources"] == ["../k8s"] and overlay["components"] == ["../k8s/components/postgres"]


def test_the_postgres_component_adds_a_database_on_a_volume_and_changes_nothing_else() -> None:
    base, with_postgres = documents(keda=False), build(POSTGRES_OVERLAY)
    added = {(d["kind"], d["metadata"]["name"]): d for d in with_postgres if d not in base}
    assert set(added) == {("Service", "implementor-postgres"), ("StatefulSet", "implementor-postgres")}
    assert [d for d in with_postgres if d in base] == base
    spec = added[("StatefulSet", "implementor-postgres")]["spec"]
    [container] = spec["template"]["spec"]["containers"]
    assert container["image"].startswith("postgres:") and split_image(container["image"])[1] not in ("", ":latest")
    [claim] = spec["volumeClaimTemplates"]
    assert {"name": claim["metadata"]["name"], "mountPath": "/var/lib/postgresql/data"} in container["volumeMounts"]
    assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    password = next(e for e in container["env"] if e["name"] == "POSTGRES_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"]["name"] == "implementor-secrets"  # never in a manifest
    # The URL the secret's instructions give points at this service.
    assert "@implementor-postgres:5432/" in (BASE / "config.yaml").read_text()


def test_the_base_renders_no_keda_object_and_the_component_adds_only_keda_objects() -> None:
    base, with_keda = documents(keda=False), documents()
    assert not [d for d in base if d["kind"] == "ScaledObject" or d["apiVersion"].startswith("keda.sh/")]
    added = [d for d in with_keda if d not in base]
    assert {d["kind"] for d in added} == {"ScaledObject", "TriggerAuthentication"}
    assert all(d["apiVersion"].startswith("keda.sh/") for d in added)
    assert [d for d in with_keda if d in base] == base  # the component changes none of the base's objects


def test_every_image_is_set_in_the_kustomizations_images_section_with_its_build_and_push() -> None:
    entries = {e["name"]: f"{e['newName']}:{e['newTag']}" for e in kustomization(BASE)["images"]}
    text = (BASE / "kustomization.yaml").read_text()
    written = {split_image(c["image"])[0] for path in BASE.glob("*.yaml")
               for d in yaml.safe_load_all(path.read_text())
               if d and d["kind"] in ("Deployment", "StatefulSet", "Job")
               for c in d["spec"]["template"]["spec"]["containers"]}
    ours = {name for name in written if name.startswith("implementor-")}
    assert ours == set(entries)  # every image of ours is overridden, and no entry is a typo that matches nothing
    for keda in (False, True):
        rendered = images(documents(keda))
        assert not [i for i in rendered if i.startswith("implementor-")], rendered  # no bare local name left
        assert {i for i in rendered if "implementor-" in i} == set(entries.values())
        assert not [i for i in rendered if split_image(i)[1] in ("", ":latest")], rendered  # every image pinned
    for name, reference in entries.items():
        registry = reference.split("/")[0]
        assert "." in registry or ":" in registry, f"{name}: {reference} names no registry (Docker Hub would be asked)"
        dockerfile = f"docker/{name.removeprefix('implementor-')}.Dockerfile"
        assert (ROOT / dockerfile).is_file(), dockerfile
        assert f"docker build -f {dockerfile} -t {reference} ." in text and f"docker push {reference}" in text


def test_the_validator_would_catch_a_mistake() -> None:
    broken = copy.deepcopy(workloads()["implementor-bot"])
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["exec"]["comand"] = ["x"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_the_whole_stack_is_there() -> None:
    assert {"implementor-bot", "implementor-redis", "implementor-worker-gpu", "implementor-worker-cpu",
            "implementor-learner", "implementor-beat"} <= set(workloads())
    assert {"implementor-redis", "implementor-bot"} <= set(objects("Service"))
    assert "implementor-migrate" in objects("Job")


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


def test_the_bots_are_interchangeable_processes_one_shard_each_on_any_node() -> None:
    bot = workloads()["implementor-bot"]
    assert bot["kind"] == "StatefulSet" and bot["spec"]["replicas"] >= 3
    assert bot["spec"]["serviceName"] in objects("Service") and bot["spec"]["podManagementPolicy"] == "Parallel"
    spec = bot["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] <= 10  # its drain takes 7 s at most
    assert "nodeAffinity" not in spec.get("affinity", {}) and "podAffinity" not in spec.get("affinity", {})
    [container] = spec["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert int(env["IMPLEMENTOR_SHARD_COUNT"]["value"]) == bot["spec"]["replicas"]  # one shard per pod
    # Pod N serves shard N: the index label the StatefulSet controller sets (0 .. replicas - 1, never two alike).
    assert env["IMPLEMENTOR_SHARD_IDS"]["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.labels['apps.kubernetes.io/pod-index']")
    assert set(mounts("implementor-bot")) == {"implementor-models"}  # no store and no harvested sets on disk
    assert mounts("implementor-bot")["implementor-models"][1] is True
    assert "implementor-bot-data" not in objects("PersistentVolumeClaim")
    health = Path(config()["IMPLEMENTOR_BOT_STORE_PATH"]).parent  # the health file goes beside that path
    assert {"name": "health", "emptyDir": {}} in spec["volumes"]
    assert {"name": "health", "mountPath": str(health)} in container["volumeMounts"]


def test_the_schema_is_migrated_once_by_a_job_that_reruns_with_each_release() -> None:
    job = objects("Job")["implementor-migrate"]
    spec = job["spec"]
    [container] = spec["template"]["spec"]["containers"]
    assert container["command"] == ["implementor", "migrate"]
    assert spec["template"]["spec"]["restartPolicy"] == "OnFailure" and spec["backoffLimit"] >= 5
    assert 0 < spec["ttlSecondsAfterFinished"] <= 3600  # gone before the next release's apply
    assert {"configMapRef": {"name": "implementor-config"}} in container["envFrom"]
    assert {"secretRef": {"name": "implementor-secrets"}} in container["envFrom"]  # IMPLEMENTOR_STORE_URL
    if "store_url" in Settings.model_fields:
        assert CliRunner().invoke(app, ["migrate", "--help"]).exit_code == 0


def test_the_learner_and_two_beats_run_on_any_node() -> None:
    for name in ("implementor-learner", "implementor-beat"):
        affinity = workloads()[name]["spec"]["template"]["spec"].get("affinity", {})
        assert "podAffinity" not in affinity and "nodeAffinity" not in affinity, name
    assert workloads()["implementor-learner"]["spec"]["replicas"] == 1  # one learner: one retraining at a time
    assert set(mounts("implementor-learner")) == {"implementor-learning-data", "implementor-models"}
    beat = workloads()["implementor-beat"]
    assert beat["spec"]["replicas"] == 2  # one leads, one stands by (implementor/workers/beat.py)
    assert mounts("implementor-beat") == {}  # the schedule and the lease are in Redis
    budgets = objects("PodDisruptionBudget")
    assert budgets["implementor-beat"]["spec"]["minAvailable"] == 1  # a drain never takes both beats
    assert budgets["implementor-bot"]["spec"]["maxUnavailable"] == 1
    for name in ("implementor-beat", "implementor-bot"):
        assert budgets[name]["spec"]["selector"] == workloads()[name]["spec"]["selector"], name


def test_redis_persists_its_append_only_file() -> None:
    redis = workloads()["implementor-redis"]
    [container] = redis["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    [claim] = redis["spec"]["volumeClaimTemplates"]
    assert {"name": claim["metadata"]["name"], "mountPath": "/data"} in container["volumeMounts"]
    assert "redis-cli" in " ".join(container["livenessProbe"]["exec"]["command"])


def test_the_cpu_worker_consumes_the_gpu_queue_on_the_cpu_as_compose_does() -> None:
    worker = workloads()["implementor-worker-cpu"]
    spec = worker["spec"]["template"]["spec"]
    [container] = spec["containers"]
    command = container["command"]
    assert command[command.index("--queues") + 1] == GPU_QUEUE
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker-cpu"]
    assert command == compose["command"]  # one process on the CPU, as compose's worker-cpu
    assert env_of(container)["IMPLEMENTOR_DEVICE"] == compose["environment"]["IMPLEMENTOR_DEVICE"] == "cpu"
    assert "nvidia.com/gpu" not in {**container["resources"].get("limits", {}), **container["resources"]["requests"]}
    gpu = workloads()["implementor-worker-gpu"]["spec"]["template"]["spec"]
    assert container["image"] == gpu["containers"][0]["image"]  # the one worker image, llama.cpp built in
    assert mounts("implementor-worker-cpu")["implementor-models"] == (config()["IMPLEMENTOR_MODELS_DIR"], True)
    assert spec["terminationGracePeriodSeconds"] >= int(config()["IMPLEMENTOR_TASK_TIME_LIMIT_S"])
    assert [s["spec"]["scaleTargetRef"]["name"] for s in objects("ScaledObject").values()] == ["implementor-worker-gpu"]
