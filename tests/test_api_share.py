"""The API under the protection policy: the shared map for viewers, the policy governing what
each role sees, and the audit log of exact reads and key changes."""

from __future__ import annotations

import h3
import pytest

from geoplan.audit import read_log, verify_log
from geoplan.policy import change_policy, read_policy, set_policy
from tests.api_fixtures import DC_POINT, TestClient, Workspace

ITEMS = "/collections/gathering_points/items"


def _set(ws: Workspace, layer: str, setting: str, value: str) -> None:
    policy = change_policy(read_policy(ws.store), layer, setting, value)
    set_policy(ws.store, policy, who="cli:test", what=f"{layer} {setting} = {value}")


def test_viewer_gets_the_shared_map(client: TestClient, ws: Workspace) -> None:
    """A viewer reads /maps/share.html: the rule on its face, no site's position in it."""
    response = client.get("/maps/share.html", headers=ws.headers("viewer"))
    assert response.status_code == 200, response.text
    page = response.text
    assert "Suppression rule" in page
    assert "fewer than 5 sites" in page
    for lon, lat in (DC_POINT, (13.18, 32.88), (13.25, 32.85)):
        assert f"{lon}, {lat}" not in page
        assert f"{lat}, {lon}" not in page


def test_viewer_share_level_finer_than_policy_is_refused(client: TestClient, ws: Workspace) -> None:
    """A viewer cannot ask the shared map for hexagons finer than the policy allows: a
    well-formed request the policy forbids (403, as /coverage/areas), not a malformed one."""
    response = client.get("/maps/share.html?by=h3:8", headers=ws.headers("viewer"))
    assert response.status_code == 403
    assert "coarser" in response.text
    beyond_h3 = client.get("/maps/share.html?by=h3:16", headers=ws.headers("viewer"))
    assert beyond_h3.status_code == 422


def test_viewers_still_refused_exact_maps(client: TestClient, ws: Workspace) -> None:
    """The exact maps stay closed to viewers."""
    assert client.get("/maps/layers.html", headers=ws.headers("viewer")).status_code == 403


def test_planner_read_of_exact_positions_is_logged_once(client: TestClient, ws: Workspace) -> None:
    """A planner's read of gathering points leaves one entry naming the key and the rows; a
    viewer's generalised read and a read of a public layer leave none."""
    before = len(read_log(ws.store))
    body = client.get(ITEMS, headers=ws.headers("planner")).json()
    log = read_log(ws.store)
    assert len(log) == before + 1
    entry = log[-1]
    assert entry.action == "read_exact"
    assert entry.who.startswith("api:planner")
    assert entry.rows == body["numberReturned"]
    assert ITEMS in entry.what
    client.get(ITEMS, headers=ws.headers("viewer"))
    client.get("/collections/clinics/items", headers=ws.headers("planner"))
    assert len(read_log(ws.store)) == before + 1
    client.get(f"{ITEMS}/GP-1", headers=ws.headers("admin"))
    assert read_log(ws.store)[-1].rows == 1
    assert verify_log(ws.store).ok


def test_keys_made_through_the_api_are_logged(client: TestClient, ws: Workspace) -> None:
    """Creating and revoking a key through the API leaves one entry each, by the admin key."""
    before = len(read_log(ws.store))
    made = client.post(
        "/keys", json={"role": "viewer", "name": "donor"}, headers=ws.headers("admin")
    )
    assert made.status_code == 201
    client.delete(f"/keys/{made.json()['key_id']}", headers=ws.headers("admin"))
    log = read_log(ws.store)[before:]
    assert [e.action for e in log] == ["key_created", "key_revoked"]
    assert all(e.who.startswith("api:admin") for e in log)


def test_policy_resolution_governs_viewers(client: TestClient, ws: Workspace) -> None:
    """Setting the resolution to 5 moves every viewer's site to a resolution-5 cell centre."""
    _set(ws, "detention_centres", "resolution", "5")
    body = client.get("/collections/detention_centres/items", headers=ws.headers("viewer")).json()
    lon, lat = body["features"][0]["geometry"]["coordinates"]
    cell = h3.latlng_to_cell(DC_POINT[1], DC_POINT[0], 5)
    centre = h3.cell_to_latlng(cell)
    assert (round(lat, 5), round(lon, 5)) == (round(centre[0], 5), round(centre[1], 5))


def test_policy_exact_roles_govern_planners(client: TestClient, ws: Workspace) -> None:
    """With exact_roles = admin, a planner sees detention centres generalised and no read is
    logged; an admin still sees them exact."""
    _set(ws, "detention_centres", "exact_roles", "admin")
    before = len(read_log(ws.store))
    body = client.get("/collections/detention_centres/items", headers=ws.headers("planner")).json()
    assert body["features"][0]["geometry"]["coordinates"] != list(DC_POINT)
    assert len(read_log(ws.store)) == before
    exact = client.get("/collections/detention_centres/items", headers=ws.headers("admin")).json()
    assert exact["features"][0]["geometry"]["coordinates"] == pytest.approx(list(DC_POINT))


def test_policy_governs_viewer_coverage(client: TestClient, ws: Workspace) -> None:
    """A viewer's coverage hexagons may be no finer than the policy's viewer resolution."""
    _set(ws, "gathering_points", "resolution", "6")
    _set(ws, "detention_centres", "resolution", "6")
    refused = client.get("/coverage/areas?by=h3&resolution=7", headers=ws.headers("viewer"))
    assert refused.status_code == 403
    assert (
        client.get("/coverage/areas?by=h3&resolution=6", headers=ws.headers("viewer")).status_code
        == 200
    )
