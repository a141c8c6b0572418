"""tests/support/kustomize_lite.py, the stand-in for `kustomize build` that tests/test_k8s.py renders
deploy/k8s/ with: it applies what kustomize would (resources, bases, components, image overrides) and
refuses what it would refuse, or what the stand-in does not know, instead of rendering it wrong.

Where kubectl is installed, its own kustomize checks the stand-in: the same objects from deploy/k8s and
deploy/k8s-keda, and the same refusals."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from kustomize_lite import KustomizeError, build, split_image

ROOT = Path(__file__).parents[1]
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: no real kustomize to compare")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  selector: {matchLabels: {app: NAME}}
  template:
    metadata: {labels: {app: NAME}}
    spec:
      initContainers:
        - {name: init, image: implementor-worker:latest}
      containers:
        - {name: main, image: IMAGE}
        - {name: side, image: redis:7-alpine}
"""


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(textwrap.dedent(text))
    return directory


def deployment(name: str, image: str) -> str:
    return DEPLOYMENT.replace("NAME", name).replace("IMAGE", image)


def kustomization(body: str, kind: str = "Kustomization") -> str:
    version = "v1beta1" if kind == "Kustomization" else "v1alpha1"
    return f"apiVersion: kustomize.config.k8s.io/{version}\nkind: {kind}\n" + textwrap.dedent(body)


def kubectl_kustomize(directory: Path) -> subprocess.CompletedProcess[str]:
    assert KUBECTL
    return subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=60)


def by_id(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def images(objects: list[dict]) -> dict[str, list[str]]:  # type: ignore[type-arg]
    spec = {o["metadata"]["name"]: o["spec"]["template"]["spec"] for o in objects}
    return {name: [c["image"] for c in s.get("initContainers", []) + s["containers"]] for name, s in spec.items()}


def test_an_image_override_rewrites_every_container_of_that_image_and_no_other(tmp_path: Path) -> None:
    write(tmp_path, {
        "a.yaml": deployment("a", "implementor-worker:latest"),
        "b.yaml": deployment("b", "implementor-bot"),
        "kustomization.yaml": kustomization("""\
            resources: [a.yaml, b.yaml]
            images:
              - {name: implementor-worker, newName: reg.example:5000/team/implementor-worker, newTag: "1.2"}
              - {name: implementor-bot, newTag: "3"}
            """),
    })
    assert images(build(tmp_path)) == {
        "a": ["reg.example:5000/team/implementor-worker:1.2", "reg.example:5000/team/implementor-worker:1.2",
              "redis:7-alpine"],
        "b": ["reg.example:5000/team/implementor-worker:1.2", "implementor-bot:3", "redis:7-alpine"],
    }
    assert (tmp_path / "a.yaml").read_text() == deployment("a", "implementor-worker:latest")  # files untouched


def test_an_overlay_renders_its_base_then_adds_a_components_resources_and_images(tmp_path: Path) -> None:
    write(tmp_path, {
        "base/app.yaml": deployment("app", "implementor-worker:latest"),
        "base/kustomization.yaml": kustomization("""\
            resources: [app.yaml]
            images: [{name: implementor-worker, newName: reg/implementor-worker, newTag: "1"}]
            """),
        "component/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
        "component/kustomization.yaml": kustomization("""\
            resources: [extra.yaml]
            images: [{name: redis, newTag: 7.4-alpine}]
            """, kind="Component"),
        "overlay/kustomization.yaml": kustomization("""\
            resources: [../base]
            components: [../component]
            """),
    })
    base, overlay = build(tmp_path / "base"), build(tmp_path / "overlay")
    assert [o["kind"] for o in base] == ["Deployment"]
    assert [o["kind"] for o in overlay] == ["Deployment", "ConfigMap"]
    assert images(overlay[:1])["app"] == ["reg/implementor-worker:1", "reg/implementor-worker:1", "redis:7.4-alpine"]
    if KUBECTL:  # and kustomize itself agrees
        result = kubectl_kustomize(tmp_path / "overlay")
        assert result.returncode == 0, result.stderr
        assert by_id([doc for doc in yaml.safe_load_all(result.stdout) if doc]) == by_id(overlay)


# (kustomization, its kind, the stand-in's error, whether kustomize refuses it too: where it does not, the
# stand-in refuses what it does not render rather than render it wrong)
REFUSED = {
    "missing": ("resources: [missing.yaml]", "Kustomization", "missing.yaml does not exist", True),
    "outside": ("resources: [../outside.yaml]", "Kustomization", "outside its directory", True),
    "twice": ("resources: [a.yaml, a.yaml]", "Kustomization", "listed twice", True),
    "float-tag": ("resources: [a.yaml]\nimages: [{name: x, newTag: 1.0}]", "Kustomization", "quote it", True),
    "kustomization-as-component": ("components: [sub]", "Kustomization", "is expected", True),
    # the overlay-inside-its-base layout: the base holds the overlay that uses it
    "cycle": ("resources: [a.yaml]", "Kustomization", "refuses the cycle", True),
    "namespace": ("resources: [a.yaml]\nnamespace: prod", "Kustomization", "beyond what kustomize_lite", False),
    "patches": ("resources: [a.yaml]\npatches: []", "Kustomization", "beyond what kustomize_lite", False),
    "digest": ("resources: [a.yaml]\nimages: [{name: x, digest: 'sha256:00'}]", "Kustomization", "needs a name",
               False),
    "component-as-base": ("resources: [a.yaml]", "Component", "is expected", False),
}


def refused_case(tmp_path: Path, case: str) -> tuple[Path, str, bool]:
    body, kind, error, kustomize_too = REFUSED[case]
    write(tmp_path, {"outside.yaml": deployment("o", "x"), "root/a.yaml": deployment("a", "x"),
                     "root/sub/kustomization.yaml": kustomization("resources: []\n"),
                     "root/kustomization.yaml": kustomization(body + "\n", kind=kind),
                     "root/overlay/kustomization.yaml": kustomization("resources: [..]\n")})
    return tmp_path / "root" / ("overlay" if case == "cycle" else ""), error, kustomize_too


@pytest.mark.parametrize("case", REFUSED)
def test_what_kustomize_refuses_or_the_stand_in_does_not_know_fails(tmp_path: Path, case: str) -> None:
    directory, error, _ = refused_case(tmp_path, case)
    with pytest.raises(KustomizeError, match=error):
        build(directory)


@needs_kubectl
@pytest.mark.parametrize("case", REFUSED)
def test_kustomize_refuses_what_the_stand_in_says_it_does(tmp_path: Path, case: str) -> None:
    directory, _, kustomize_too = refused_case(tmp_path, case)
    result = kubectl_kustomize(directory)
    assert (result.returncode != 0) is kustomize_too, result.stderr


@needs_kubectl
@pytest.mark.parametrize("directory", ["deploy/k8s", "deploy/k8s-keda"])
def test_the_stand_in_renders_the_manifests_as_kustomize_does(directory: str) -> None:
    result = kubectl_kustomize(ROOT / directory)
    assert result.returncode == 0, result.stderr
    real = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert by_id(build(ROOT / directory)) == by_id(real) and len(real) == len(build(ROOT / directory))


@pytest.mark.parametrize("reference, parts", [
    ("implementor-worker", ("implementor-worker", "")),
    ("implementor-worker:latest", ("implementor-worker", ":latest")),
    ("localhost:5000/implementor-bot", ("localhost:5000/implementor-bot", "")),
    ("localhost:5000/implementor-bot:0.1.0", ("localhost:5000/implementor-bot", ":0.1.0")),
    ("redis@sha256:abc", ("redis", "@sha256:abc")),
])
def test_an_image_reference_splits_into_name_and_tag_past_a_registry_port(
        reference: str, parts: tuple[str, str]) -> None:
    assert split_image(reference) == parts
