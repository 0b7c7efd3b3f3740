"""The compose file of the pytest-docker services and its staging helper, without Docker:
every service has its local image as the default of an overridable variable, listens on
127.0.0.1 on a port distinct from the others, and the staging mirrors trees and picks
which services to build, pull or leave out."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from integration.servers import compose
from integration.servers.compose import PORTS, SERVICES, Staging

COMPOSE = yaml.safe_load(compose._COMPOSE_FILE.read_text(encoding="utf-8"))


def test_every_service_builds_its_local_image_unless_the_variable_names_another() -> None:
    assert set(COMPOSE["services"]) == set(SERVICES)
    for name, (variable, default) in SERVICES.items():
        service = COMPOSE["services"][name]
        assert service["image"] == f"${{{variable}:-{default}}}"
        assert service["network_mode"] == "host"
        context = compose._COMPOSE_FILE.parent / service["build"]["context"]
        assert (context / "Dockerfile").is_file()


def test_services_listen_on_loopback_on_distinct_ports() -> None:
    defaults = [default for _, default in PORTS.values()]
    assert len(set(defaults)) == len(defaults)
    text = compose._COMPOSE_FILE.read_text(encoding="utf-8")
    for name, (variable, default) in PORTS.items():
        if name == "gremlin":  # its port is in the config compose.py writes
            continue
        assert f"${{{variable}:-{default}}}" in text
    for name, service in COMPOSE["services"].items():
        if name == "gremlin":  # bound in its config (test below)
            continue
        rendered = str(service.get("command", "")) + str(service.get("environment", ""))
        assert "127.0.0.1" in rendered, name
        assert "0.0.0.0" not in rendered, name


def test_the_comment_names_the_official_images() -> None:
    text = compose._COMPOSE_FILE.read_text(encoding="utf-8")
    for image in ("neo4j:5.26-community", "tinkerpop/gremlin-server:3.8.1", "mongo:8"):
        assert re.search(rf"LIGHTRAG_TEST_\w+_IMAGE={re.escape(image)}", text), image


def test_gremlin_config_is_the_launchers_on_the_compose_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIGHTRAG_TEST_DOCKER_GREMLIN_PORT", "18999")
    compose._gremlin_config(tmp_path)
    conf = tmp_path / "stage" / "conf"
    server = yaml.safe_load((conf / "gremlin-server.yaml").read_text())
    assert (server["host"], server["port"]) == ("127.0.0.1", 18999)
    assert server["graphs"]["graph"] == "/opt/gremlin-server/conf/lightrag/tinkergraph.properties"
    assert "graphLocation=/tmp/lightrag-graph.json" in (conf / "tinkergraph.properties").read_text()
    mount = COMPOSE["services"]["gremlin"]["volumes"][0]
    assert mount == "./docker/gremlin/stage/conf:/opt/gremlin-server/conf/lightrag:ro"


def test_link_tree_mirrors_the_source_and_drops_what_it_lacks(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    (source / "lib").mkdir(parents=True)
    (source / "lib" / "a.jar").write_bytes(b"a")
    (source / "top.txt").write_text("top")
    (target / "old").mkdir(parents=True)
    (target / "old" / "gone.jar").write_bytes(b"x")
    (target / "top.txt").write_text("stale, and longer")
    compose._link_tree(source, target)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*"))
    assert files == ["lib", "lib/a.jar", "top.txt"]
    assert (target / "top.txt").read_text() == "top"
    assert os.path.samefile(source / "lib" / "a.jar", target / "lib" / "a.jar")
    compose._link_tree(source, target)  # a second run changes nothing
    assert (target / "lib" / "a.jar").read_bytes() == b"a"


def test_official_images_are_pulled_and_left_out_services_not_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIGHTRAG_TEST_MONGO_IMAGE", "mongo:8")
    assert not compose.builds_here("mongo") and compose.builds_here("neo4j")
    staging = Staging(
        build=["postgres", "redis", "gremlin"],
        pull=["mongo"],
        unavailable={"neo4j": "staging the neo4j image failed: no Maven"},
    )
    assert staging.commands() == [
        "build postgres redis gremlin",
        "pull mongo",
        "up -d --no-build postgres redis gremlin mongo",
    ]
