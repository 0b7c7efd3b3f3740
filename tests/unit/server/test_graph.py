"""Knowledge-graph routes: labels, subgraphs, and entity / relation edits with their errors."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

Served = tuple[httpx.AsyncClient, FastAPI]


async def test_label_list_holds_the_extracted_entities(indexed: Served) -> None:
    client, _ = indexed
    labels = (await client.get("/graph/label/list")).json()
    assert {"Alice Smith", "Bob Jones", "Acme Corporation", "Berlin"} <= set(labels)
    assert labels == sorted(labels)


async def test_popular_labels_put_the_most_connected_first(indexed: Served) -> None:
    client, _ = indexed
    popular = (await client.get("/graph/label/popular", params={"limit": 2})).json()
    assert len(popular) == 2
    assert "Alice Smith" in popular


async def test_label_search_finds_partial_names(indexed: Served) -> None:
    client, _ = indexed
    found = (await client.get("/graph/label/search", params={"q": "acme"})).json()
    assert found[0] == "Acme Corporation"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/graph/label/popular", {"limit": 0}),
        ("/graph/label/popular", {"limit": 5000}),
        ("/graph/label/search", {}),
        ("/graph/label/search", {"q": "a", "limit": 101}),
        ("/graphs", {}),
        ("/graphs", {"label": "*", "max_depth": 0}),
        ("/graph/entity/exists", {}),
    ],
)
async def test_bad_graph_query_parameters_are_422(
    served: Served, path: str, params: dict[str, object]
) -> None:
    client, _ = served
    assert (await client.get(path, params=params)).status_code == 422


async def test_graphs_returns_the_neighbourhood_with_truncation_flag(indexed: Served) -> None:
    client, _ = indexed
    body = (await client.get("/graphs", params={"label": "Alice Smith", "max_depth": 1})).json()
    ids = {node["id"] for node in body["nodes"]}
    assert "Alice Smith" in ids and "Acme Corporation" in ids
    assert body["edges"] and body["is_truncated"] is False
    small = (await client.get("/graphs", params={"label": "*", "max_nodes": 2})).json()
    assert len(small["nodes"]) == 2 and small["is_truncated"] is True


async def test_entity_exists(indexed: Served) -> None:
    client, _ = indexed
    yes = (await client.get("/graph/entity/exists", params={"name": "Berlin"})).json()
    no = (await client.get("/graph/entity/exists", params={"name": "Atlantis"})).json()
    assert yes == {"exists": True} and no == {"exists": False}


async def test_create_edit_and_delete_an_entity(indexed: Served) -> None:
    client, _ = indexed
    created = await client.post(
        "/graph/entity/create",
        json={
            "entity_name": "Zeta Labs",
            "entity_data": {"description": "A lab.", "entity_type": "organization"},
        },
    )
    assert created.status_code == 200, created.text
    clash = await client.post("/graph/entity/create", json={"entity_name": "Zeta Labs"})
    assert clash.status_code == 409
    edited = await client.post(
        "/graph/entity/edit",
        json={"entity_name": "Zeta Labs", "updated_data": {"description": "A research lab."}},
    )
    assert edited.status_code == 200, edited.text
    graph = (await client.get("/graphs", params={"label": "Zeta Labs"})).json()
    assert graph["nodes"][0]["properties"]["description"] == "A research lab."
    deleted = await client.request(
        "DELETE", "/graph/entity/delete", json={"entity_name": "Zeta Labs"}
    )
    assert deleted.status_code == 200
    again = await client.request(
        "DELETE", "/graph/entity/delete", json={"entity_name": "Zeta Labs"}
    )
    assert again.status_code == 404


async def test_rename_needs_allow_rename(indexed: Served) -> None:
    client, _ = indexed
    refused = await client.post(
        "/graph/entity/edit",
        json={"entity_name": "Berlin", "updated_data": {"entity_name": "Berlin City"}},
    )
    assert refused.status_code == 400 and "allow_rename" in refused.json()["detail"]
    renamed = await client.post(
        "/graph/entity/edit",
        json={
            "entity_name": "Berlin",
            "updated_data": {"entity_name": "Berlin City"},
            "allow_rename": True,
        },
    )
    assert renamed.status_code == 200, renamed.text
    labels = (await client.get("/graph/label/list")).json()
    assert "Berlin City" in labels and "Berlin" not in labels


async def test_rename_onto_an_existing_entity_needs_allow_merge(indexed: Served) -> None:
    client, _ = indexed
    payload = {
        "entity_name": "Bob Jones",
        "updated_data": {"entity_name": "Alice Smith"},
        "allow_rename": True,
    }
    refused = await client.post("/graph/entity/edit", json=payload)
    assert refused.status_code == 409
    merged = await client.post("/graph/entity/edit", json={**payload, "allow_merge": True})
    assert merged.status_code == 200, merged.text
    labels = (await client.get("/graph/label/list")).json()
    assert "Bob Jones" not in labels and "Alice Smith" in labels


async def test_edit_unknown_entity_is_404(indexed: Served) -> None:
    client, _ = indexed
    response = await client.post(
        "/graph/entity/edit", json={"entity_name": "Nobody", "updated_data": {"description": "x"}}
    )
    assert response.status_code == 404 and "Nobody" in response.json()["detail"]


async def test_create_edit_and_delete_a_relation(indexed: Served) -> None:
    client, _ = indexed
    created = await client.post(
        "/graph/relation/create",
        json={
            "source_entity": "Bob Jones",
            "target_entity": "Robotics Lab",
            "relation_data": {
                "description": "Bob visits the lab.",
                "keywords": "visit",
                "weight": 1.0,
            },
        },
    )
    assert created.status_code == 200, created.text
    clash = await client.post(
        "/graph/relation/create",
        json={"source_entity": "Robotics Lab", "target_entity": "Bob Jones"},
    )
    assert clash.status_code == 409
    edited = await client.post(
        "/graph/relation/edit",
        json={
            "source_id": "Bob Jones",
            "target_id": "Robotics Lab",
            "updated_data": {"description": "Bob runs the lab."},
        },
    )
    assert edited.status_code == 200, edited.text
    deleted = await client.request(
        "DELETE",
        "/graph/relation/delete",
        json={"source_entity": "Bob Jones", "target_entity": "Robotics Lab"},
    )
    assert deleted.status_code == 200
    missing = await client.post(
        "/graph/relation/edit",
        json={"source_id": "Bob Jones", "target_id": "Robotics Lab", "updated_data": {"weight": 2}},
    )
    assert missing.status_code == 404


async def test_relation_to_an_unknown_entity_is_404(indexed: Served) -> None:
    client, _ = indexed
    response = await client.post(
        "/graph/relation/create", json={"source_entity": "Bob Jones", "target_entity": "Mars"}
    )
    assert response.status_code == 404 and "Mars" in response.json()["detail"]


async def test_merge_entities_moves_relations(indexed: Served) -> None:
    client, _ = indexed
    response = await client.post(
        "/graph/entities/merge",
        json={"entities_to_change": ["Berlin"], "entity_to_change_into": "Acme Corporation"},
    )
    assert response.status_code == 200, response.text
    labels = (await client.get("/graph/label/list")).json()
    assert "Berlin" not in labels


async def test_legacy_delete_entity_path_works(indexed: Served) -> None:
    client, _ = indexed
    response = await client.request(
        "DELETE", "/documents/delete_entity", json={"entity_name": "Berlin"}
    )
    assert response.status_code == 200
    exists = (await client.get("/graph/entity/exists", params={"name": "Berlin"})).json()
    assert exists == {"exists": False}


async def test_legacy_delete_relation_path_works(indexed: Served) -> None:
    client, _ = indexed
    response = await client.request(
        "DELETE",
        "/documents/delete_relation",
        json={"source_entity": "Alice Smith", "target_entity": "Acme Corporation"},
    )
    assert response.status_code == 200, response.text


async def test_case_only_rename_changes_the_display_name(indexed: Served) -> None:
    client, _ = indexed
    response = await client.post(
        "/graph/entity/edit",
        json={
            "entity_name": "Berlin",
            "updated_data": {"entity_name": "BERLIN"},
            "allow_rename": True,
        },
    )
    assert response.status_code == 200, response.text
    labels = (await client.get("/graph/label/list")).json()
    assert "BERLIN" in labels and "Berlin" not in labels


async def test_relation_routes_match_entity_names_case_insensitively(indexed: Served) -> None:
    client, _ = indexed
    edited = await client.post(
        "/graph/relation/edit",
        json={
            "source_id": "alice smith",
            "target_id": "ACME CORPORATION",
            "updated_data": {"description": "Alice works there."},
        },
    )
    assert edited.status_code == 200, edited.text
    clash = await client.post(
        "/graph/relation/create",
        json={"source_entity": "acme corporation", "target_entity": "alice smith"},
    )
    assert clash.status_code == 409, clash.text
    deleted = await client.request(
        "DELETE",
        "/graph/relation/delete",
        json={"source_entity": "ALICE SMITH", "target_entity": "acme corporation"},
    )
    assert deleted.status_code == 200, deleted.text
    again = await client.request(
        "DELETE",
        "/graph/relation/delete",
        json={"source_entity": "Alice Smith", "target_entity": "Acme Corporation"},
    )
    assert again.status_code == 404 and "Alice Smith" in again.json()["detail"]


async def test_entity_create_clash_differing_only_in_case_is_409(indexed: Served) -> None:
    client, _ = indexed
    clash = await client.post("/graph/entity/create", json={"entity_name": "berlin"})
    assert clash.status_code == 409 and "already exists" in clash.json()["detail"]


async def test_merge_with_an_unknown_entity_is_404_and_merges_nothing(indexed: Served) -> None:
    client, _ = indexed
    response = await client.post(
        "/graph/entities/merge",
        json={"entities_to_change": ["Berlin", "Atlantis"], "entity_to_change_into": "Bob Jones"},
    )
    assert response.status_code == 404 and "Atlantis" in response.json()["detail"]
    assert (await client.get("/graph/entity/exists", params={"name": "Berlin"})).json() == {
        "exists": True
    }


async def test_merge_of_an_entity_into_itself_is_400(indexed: Served) -> None:
    client, _ = indexed
    response = await client.post(
        "/graph/entities/merge",
        json={"entities_to_change": ["berlin"], "entity_to_change_into": "Berlin"},
    )
    assert response.status_code == 400 and "nothing to merge" in response.json()["detail"]


async def test_relation_of_an_entity_with_itself_is_400(indexed: Served) -> None:
    client, _ = indexed
    response = await client.post(
        "/graph/relation/create", json={"source_entity": "Berlin", "target_entity": "berlin"}
    )
    assert response.status_code == 400 and "two different entities" in response.json()["detail"]


async def test_graph_edit_with_a_forbidden_field_is_400_naming_it(indexed: Served) -> None:
    client, _ = indexed
    response = await client.post(
        "/graph/entity/edit",
        json={"entity_name": "Berlin", "updated_data": {"entity_id": "x"}},
    )
    assert response.status_code == 400 and "entity_id" in response.json()["detail"]


async def test_rename_to_a_blank_name_is_400(indexed: Served) -> None:
    client, _ = indexed
    response = await client.post(
        "/graph/entity/edit",
        json={"entity_name": "Berlin", "updated_data": {"entity_name": ""}, "allow_rename": True},
    )
    assert response.status_code == 400 and "non-empty" in response.json()["detail"]


async def test_null_entity_name_in_an_edit_keeps_the_name(indexed: Served) -> None:
    client, _ = indexed
    response = await client.post(
        "/graph/entity/edit",
        json={
            "entity_name": "Berlin",
            "updated_data": {"entity_name": None, "description": "A city."},
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["entity_name"] == "Berlin"


async def test_graphs_label_is_matched_case_insensitively(indexed: Served) -> None:
    client, _ = indexed
    body = (await client.get("/graphs", params={"label": "alice smith", "max_depth": 1})).json()
    assert "Alice Smith" in {node["id"] for node in body["nodes"]}
    unknown = (await client.get("/graphs", params={"label": "Atlantis"})).json()
    assert unknown == {"nodes": [], "edges": [], "is_truncated": False}


@pytest.mark.parametrize("name", ["**********", "  ", '"'])
async def test_entity_exists_with_a_name_empty_once_normalised_is_400(
    indexed: Served, name: str
) -> None:
    client, _ = indexed
    response = await client.get("/graph/entity/exists", params={"name": name})
    assert response.status_code == 400, response.text
    assert "non-empty" in response.json()["detail"]
