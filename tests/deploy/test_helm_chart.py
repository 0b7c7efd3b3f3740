"""The Helm chart: what its schema refuses, what it renders, and that it agrees with recipes/."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from lightrag.config.recipes import recipe_choices
from lightrag.config.search_path import ConfigTree
from lightrag.registry.storage import ROLES, storage_registry

from .conftest import CHART, ROOT

pytestmark = pytest.mark.deploy

KUBE_VERSION = "1.33.0"


def render(helm: str, values: dict | None = None, *sets: str) -> subprocess.CompletedProcess[str]:
    """``helm template`` the chart with ``values`` (a values file) and ``--set`` pairs."""
    args = [helm, "template", "rel", str(CHART), "--kube-version", KUBE_VERSION]
    for pair in sets:
        args += ["--set", pair]
    if values is None:
        return subprocess.run(args, capture_output=True, text=True, check=False)
    path = Path(__file__).with_name(".values-under-test.yaml")
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    try:
        return subprocess.run([*args, "-f", str(path)], capture_output=True, text=True, check=False)
    finally:
        path.unlink()


def documents(result: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    """The rendered objects by kind (one of each kind here)."""
    assert result.returncode == 0, result.stderr
    return {doc["kind"]: doc for doc in yaml.safe_load_all(result.stdout) if doc}


def container(objects: dict[str, dict]) -> dict:
    return objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]


# --- refused ---------------------------------------------------------------------------

REFUSED = {
    "unknown top-level key": ({"replicas": 1}, "additional properties 'replicas' not allowed"),
    "unknown nested key": ({"persistence": {"enabled": True, "sise": "1Gi"}}, "'sise' not allowed"),
    "wrong type": ({"replicaCount": "two"}, "got string, want integer"),
    "wrong type in a list": ({"overrides": "llm=openai"}, "got string, want array"),
    "two replicas over file storages": ({"replicaCount": 2}, "value must be one of 'postgres'"),
    "two replicas, shared recipe declared not shared": (
        {"recipe": "postgres", "replicaCount": 2, "storage": {"shared": False}},
        "'anyOf' failed",
    ),
    "secretKeys without existingSecret": (
        {"secretKeys": {"LLM_BINDING_API_KEY": "key"}},
        "existingSecret",
    ),
    "bad env var name": ({"env": {"llm-model": "x"}}, "llm-model"),
    "recipe neither packaged nor extra": ({"recipe": "nosuch"}, 'recipe "nosuch" is neither'),
    "two replicas sharing a ReadWriteOnce volume": (
        {"recipe": "postgres", "replicaCount": 2},
        "needs persistence.accessModes [ReadWriteMany]",
    ),
    "two replicas with local coordination": (
        {"recipe": "postgres", "replicaCount": 2, "coordination": "local"},
        "value must be one of 'postgres', 'redis'",
    ),
    "two replicas, extra shared recipe without coordination": (
        {
            "recipe": "team",
            "replicaCount": 2,
            "storage": {"shared": True},
            "persistence": {"enabled": False},
            "extraRecipes": {"team": "# @package _global_\n"},
        },
        "value must be one of 'postgres', 'redis'",
    ),
    "unknown coordination": ({"coordination": "etcd"}, "value must be one of"),
    "coordination in overrides": (
        {"overrides": ["coordination=postgres"]},
        "choose the coordination with the coordination value",
    ),
    "server.replicas in overrides": (
        {"overrides": ["server.replicas=3"]},
        "the chart sets server.replicas (LIGHTRAG_REPLICAS) from replicaCount",
    ),
    "LIGHTRAG_REPLICAS in env": (
        {"env": {"LIGHTRAG_REPLICAS": "3"}},
        "env.LIGHTRAG_REPLICAS: the chart sets it",
    ),
    "LIGHTRAG_COORDINATION in env": (
        {"env": {"LIGHTRAG_COORDINATION": "postgres"}},
        "env.LIGHTRAG_COORDINATION: the chart sets it",
    ),
}


@pytest.mark.parametrize("values, message", REFUSED.values(), ids=REFUSED.keys())
def test_bad_values_are_refused_with_a_message(helm: str, values: dict, message: str) -> None:
    result = render(helm, values)
    assert result.returncode != 0, f"accepted: {values}"
    assert message in result.stderr, result.stderr


# --- accepted --------------------------------------------------------------------------

ON_POSTGRES = "# @package _global_\ndefaults:\n" + "".join(
    f"  - override /storage/{role}: postgres\n" for role in ("kv", "vector", "graph", "doc_status")
)


@pytest.mark.parametrize(
    "values",
    [
        {"recipe": "postgres", "replicaCount": 3, "persistence": {"enabled": False}},
        {"recipe": "postgres-ha", "replicaCount": 3, "persistence": {"enabled": False}},
        {"recipe": "redis-milvus", "replicaCount": 2, "persistence": {"enabled": False}},
        {
            "recipe": "team",
            "replicaCount": 2,
            "storage": {"shared": True},
            "coordination": "postgres",
            "persistence": {"enabled": False},
            "extraRecipes": {"team": ON_POSTGRES},
        },
    ],
    ids=["postgres x3", "postgres-ha x3", "redis-milvus x2", "extra recipe declared shared x2"],
)
def test_replicas_over_shared_storages_are_accepted(helm: str, values: dict) -> None:
    objects = documents(render(helm, values))
    deployment = objects["Deployment"]["spec"]
    assert deployment["replicas"] == values["replicaCount"]
    assert "strategy" not in deployment  # rolling updates are safe over shared databases
    env = {item["name"]: item.get("value") for item in container(objects)["env"]}
    assert env["LIGHTRAG_REPLICAS"] == str(values["replicaCount"])
    if "coordination" in values:
        assert env["LIGHTRAG_COORDINATION"] == values["coordination"]
    else:
        assert "LIGHTRAG_COORDINATION" not in env  # the recipe chooses it


def test_one_replica_sets_replicas_to_one_and_local_coordination_is_recreated(helm: str) -> None:
    values = {"recipe": "postgres", "coordination": "local"}
    objects = documents(render(helm, values))
    env = {item["name"]: item.get("value") for item in container(objects)["env"]}
    assert env["LIGHTRAG_REPLICAS"] == "1"
    assert env["LIGHTRAG_COORDINATION"] == "local"
    # shared storages but a coordination of one process: the old and new pod never overlap
    assert objects["Deployment"]["spec"]["strategy"] == {"type": "Recreate"}


def test_file_storage_recipe_is_recreated_not_rolled(helm: str) -> None:
    deployment = documents(render(helm))["Deployment"]["spec"]
    assert deployment["strategy"] == {"type": "Recreate"}


def test_recipe_and_overrides_become_the_container_args_in_order(helm: str) -> None:
    values = {"recipe": "openai", "overrides": ["llm.model=gpt-4o", "server.workspace=a b"]}
    assert container(documents(render(helm, values)))["args"] == [
        "+recipe=openai",
        "llm.model=gpt-4o",
        "server.workspace=a b",
    ]


def test_secret_keys_become_secret_refs_and_env_stays_plain(helm: str) -> None:
    values = {
        "env": {"LLM_MODEL": "gpt-4o", "MAX_ASYNC": 8},
        "existingSecret": "creds",
        "secretKeys": {"LLM_BINDING_API_KEY": "openai"},
    }
    env = {item["name"]: item for item in container(documents(render(helm, values)))["env"]}
    assert env["LLM_MODEL"]["value"] == "gpt-4o"
    assert env["MAX_ASYNC"]["value"] == "8"
    assert env["LLM_BINDING_API_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "creds", "key": "openai"}
    }


def test_existing_secret_without_keys_is_mounted_whole_as_env(helm: str) -> None:
    spec = container(documents(render(helm, {"existingSecret": "creds"})))
    assert spec["envFrom"] == [{"secretRef": {"name": "creds"}}]


def test_security_context_is_hardened_with_writable_data_and_tmp(helm: str) -> None:
    objects = documents(render(helm))
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    spec = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in spec["volumeMounts"]}
    assert mounts["/data"] == "data" and mounts["/tmp"] == "tmp"
    assert spec["startupProbe"]["httpGet"]["path"] == "/health"
    assert spec["livenessProbe"]["httpGet"]["path"] == "/health"
    assert spec["readinessProbe"]["httpGet"]["path"] == "/ready"


def test_a_values_change_changes_the_config_checksum(helm: str) -> None:
    def checksum(values: dict) -> str:
        pod = documents(render(helm, values))["Deployment"]["spec"]["template"]
        return pod["metadata"]["annotations"]["checksum/config"]

    recipe = "# @package _global_\nrag:\n  chunk_token_size: 800\n"
    base = checksum({"recipe": "team", "extraRecipes": {"team": recipe}})
    assert checksum({"recipe": "team", "extraRecipes": {"team": recipe + "  top_k: 5\n"}}) != base
    assert checksum({"recipe": "team", "extraRecipes": {"team": recipe}, "env": {"A": "1"}}) != base
    assert checksum({"recipe": "team", "extraRecipes": {"team": recipe}}) == base


def test_extra_recipe_configmap_is_a_config_dir_the_server_reads(helm: str, tmp_path: Path) -> None:
    """Lay the ConfigMap out as the pod mounts it; the server composes the recipe from it."""
    text = (
        '# @package _global_\n# Recipe "team": embedded models, a team workspace.\n'
        "defaults:\n  - override /llm: embedded\n  - override /embedding: embedded\n"
        "server:\n  workspace: team_a\n"
    )
    objects = documents(render(helm, {"recipe": "team", "extraRecipes": {"team": text}}))
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    spec = pod["containers"][0]
    env = {item["name"]: item.get("value") for item in spec["env"]}
    mount = next(m for m in spec["volumeMounts"] if m["name"] == "recipes")
    assert env["LIGHTRAG_CONFIG_PATH"] == mount["mountPath"]
    volume = next(v for v in pod["volumes"] if v["name"] == "recipes")["configMap"]
    data = objects["ConfigMap"]["data"]
    for item in volume["items"]:
        target = tmp_path / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(data[item["key"]], encoding="utf-8")
    result = subprocess.run(
        ["lightrag-server", *spec["args"], "--print-config"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "LIGHTRAG_CONFIG_PATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert "# recipe: team" in result.stdout
    assert "workspace: team_a" in result.stdout


# --- the chart agrees with the repository ----------------------------------------------


def _helper_list(name: str) -> list[str]:
    text = (CHART / "templates" / "_helpers.tpl").read_text(encoding="utf-8")
    match = re.search(r'define "lightrag\.' + name + r'" -\}\}\n(.*?)\n\{\{- end', text, re.S)
    assert match, name
    return match.group(1).split()


def _recipes_on_shared_storages() -> list[str]:
    tree = ConfigTree.build()
    shared = []
    for recipe in sorted(path.stem for path in (ROOT / "recipes").glob("*.yaml")):
        choices = recipe_choices(tree, recipe)
        defaults = {"kv": "json", "vector": "nano", "graph": "networkx", "doc_status": "json"}
        names = {role: choices.get(f"storage/{role}", defaults[role]) for role in ROLES}
        classes = [storage_registry(role).load(name) for role, name in names.items()]
        if not any(getattr(cls, "single_process", False) for cls in classes):
            shared.append(recipe)
    return shared


def _recipes_coordinated() -> list[str]:
    """Recipes choosing a coordination other than local (the defaults' choice)."""
    tree = ConfigTree.build()
    recipes = sorted(path.stem for path in (ROOT / "recipes").glob("*.yaml"))
    return [r for r in recipes if recipe_choices(tree, r).get("coordination", "local") != "local"]


def test_chart_knows_every_packaged_recipe() -> None:
    packaged = sorted(path.stem for path in (ROOT / "recipes").glob("*.yaml"))
    assert sorted(_helper_list("packagedRecipes")) == packaged


def test_shared_recipe_list_matches_the_recipes_storages() -> None:
    """The schema and the templates allow replicas exactly for recipes on databases only."""
    shared = _recipes_on_shared_storages()
    assert sorted(_helper_list("sharedRecipes")) == shared
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    anyof = schema["allOf"][0]["then"]["anyOf"]
    assert sorted(anyof[1]["properties"]["recipe"]["enum"]) == shared


def test_coordinated_recipe_list_matches_the_recipes_coordination() -> None:
    """Replicas without a coordination value are allowed exactly for recipes choosing one."""
    coordinated = _recipes_coordinated()
    assert "postgres-ha" in coordinated
    assert sorted(_helper_list("coordinatedRecipes")) == coordinated
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    rule = next(item for item in schema["allOf"] if "coordination" in item["description"])
    anyof = rule["then"]["anyOf"]
    assert sorted(anyof[1]["properties"]["recipe"]["enum"]) == coordinated


def test_postgres_ha_is_shared_and_coordinated() -> None:
    assert "postgres-ha" in _recipes_on_shared_storages()
    assert "postgres-ha" in _helper_list("packagedRecipes")
    tree = ConfigTree.build()
    assert recipe_choices(tree, "postgres-ha")["coordination"] == "postgres"
