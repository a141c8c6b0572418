"""A stand-in for `kustomize build` (`kubectl kustomize`) for the tests, which run where only PyPI can be
reached and no package there ships the kustomize binary.

It renders exactly the subset that deploy/k8s/ uses, with kustomize's meaning, and refuses anything else
rather than ignore what real kustomize would apply:

- a directory's `kustomization.yaml`: `kind: Kustomization` (kustomize.config.k8s.io/v1beta1), or for a
  directory listed under `components:`, `kind: Component` (v1alpha1);
- `resources:`: YAML files in or below the kustomization's own directory (kustomize's default load
  restriction), or directories holding a Kustomization, rendered in turn; as in kustomize, such a
  directory may not be, or contain, a directory whose kustomization led to it (a cycle);
- `components:`: directories holding a Component, applied after the resources in the order listed: their
  resources are added, then their own `images:` rewrite everything rendered so far;
- `images:`: entries with `name` and `newName` and/or `newTag`, applied last, to every container and
  init container whose image name (the reference without its tag or digest) is `name`.

Two objects of one kind and name (and namespace) are an error, as in kustomize. Objects come out in the
order the files list them; kustomize sorts them by kind, which nothing here depends on.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

KINDS = {"Kustomization": "kustomize.config.k8s.io/v1beta1", "Component": "kustomize.config.k8s.io/v1alpha1"}
FIELDS = {"apiVersion", "kind", "resources", "components", "images"}
IMAGE_FIELDS = {"name", "newName", "newTag"}

Object = dict[str, Any]


class KustomizeError(ValueError):
    """A kustomization that real kustomize would refuse, or that uses more than this renderer knows."""


def build(directory: Path) -> list[Object]:
    """What `kustomize build directory` prints, as a list of objects."""
    return _render(Path(directory).resolve(), "Kustomization", ())


def _load(directory: Path, kind: str) -> dict[str, Any]:
    path = directory / "kustomization.yaml"
    if not path.is_file():
        raise KustomizeError(f"{directory} holds no kustomization.yaml")
    spec = yaml.safe_load(path.read_text()) or {}
    unknown = set(spec) - FIELDS
    if unknown:
        raise KustomizeError(f"{path}: {sorted(unknown)} is beyond what kustomize_lite renders")
    if spec.get("kind") != kind or spec.get("apiVersion") != KINDS[kind]:
        raise KustomizeError(f"{path} is {spec.get('apiVersion')} {spec.get('kind')}, where {KINDS[kind]} "
                             f"{kind} is expected")
    return spec


def _render(directory: Path, kind: str, chain: tuple[Path, ...]) -> list[Object]:
    return _accumulate(directory, _load(directory, kind), [], chain)


def _enter(target: Path, chain: tuple[Path, ...], where: Path) -> tuple[Path, ...]:
    """The chain of kustomization roots with `target` added; kustomize refuses a root that is, or holds, one
    already on the chain ("cycle detected: candidate root contains visited root")."""
    for root in chain:
        if root == target or target in root.parents:
            raise KustomizeError(f"{where}: {target} contains {root}, which uses it: kustomize refuses the cycle")
    return (*chain, target)


def _accumulate(directory: Path, spec: dict[str, Any], objects: list[Object], chain: tuple[Path, ...]) -> list[Object]:
    """`spec`'s resources added to `objects`, its components applied, then its images: a Kustomization
    starts from nothing, a Component from what the kustomization that lists it has rendered so far."""
    where = directory / "kustomization.yaml"
    chain = _enter(directory, chain, where)
    for entry in spec.get("resources", []):
        target = (directory / entry).resolve()
        if target.is_dir():
            new = _render(target, "Kustomization", chain)
        elif target.is_file():
            if not target.is_relative_to(directory):
                raise KustomizeError(f"{where}: {entry} is a file outside its directory, which kustomize's "
                                     "load restriction refuses")
            new = [doc for doc in yaml.safe_load_all(target.read_text()) if doc]
        else:
            raise KustomizeError(f"{where}: resource {entry} does not exist")
        objects = _add(objects, new, where)
    for entry in spec.get("components", []):
        target = (directory / entry).resolve()
        if not target.is_dir():
            raise KustomizeError(f"{where}: component {entry} is not a directory")
        objects = _accumulate(target, _load(target, "Component"), objects, chain)
    return _set_images(objects, spec.get("images", []), where)


def _identity(obj: Object) -> tuple[str, str, str, str]:
    """kustomize's id of an object: API group (not version), kind, namespace, name."""
    api, meta = obj.get("apiVersion", ""), obj.get("metadata", {})
    return api.rpartition("/")[0], obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", "")


def _add(objects: list[Object], new: list[Object], where: Path) -> list[Object]:
    seen = {_identity(obj) for obj in objects}
    for obj in new:
        if _identity(obj) in seen:
            raise KustomizeError(f"{where}: {obj['kind']} {obj['metadata']['name']} is listed twice")
        seen.add(_identity(obj))
    return [*objects, *new]


def split_image(reference: str) -> tuple[str, str]:
    """("registry/name", ":tag" or "@digest" or "") from an image reference."""
    if "@" in reference:
        name, digest = reference.split("@", 1)
        return name, "@" + digest
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:  # a colon before the last slash is a registry's port
        return reference[:colon], reference[colon:]
    return reference, ""


def _containers(node: Any) -> list[dict[str, Any]]:
    """Every container and init container in an object, wherever its pod template sits."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                found += [c for c in value if isinstance(c, dict) and "image" in c]
            else:
                found += _containers(value)
    elif isinstance(node, list):
        for item in node:
            found += _containers(item)
    return found


def _set_images(objects: list[Object], images: list[dict[str, Any]], where: Path) -> list[Object]:
    if not images:
        return objects
    for image in images:
        unknown = set(image) - IMAGE_FIELDS
        if unknown or "name" not in image or not {"newName", "newTag"} & set(image):
            raise KustomizeError(f"{where}: images entry {image} needs a name and newName and/or newTag, "
                                 f"and nothing else kustomize_lite renders ({sorted(unknown)})")
        if "newTag" in image and not isinstance(image["newTag"], str):
            raise KustomizeError(f"{where}: newTag {image['newTag']!r} must be a string: quote it")
    objects = copy.deepcopy(objects)
    for obj in objects:
        for container in _containers(obj):
            name, tag = split_image(container["image"])
            for image in images:
                if image["name"] == name:
                    tag = ":" + image["newTag"] if "newTag" in image else tag
                    container["image"] = image.get("newName", name) + tag
                    break
    return objects
