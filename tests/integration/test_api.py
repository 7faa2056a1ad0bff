"""The HTTP API through a real client against a real server process on loopback,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.conftest import Server, add_party
from tests.integration.helpers import (
    StreamReader,
    encounter,
    protocol_text,
    put_in_effect,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def tokens(server: Server) -> dict[str, str]:
    return {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
        "russia_observer": add_party(server.database_url, "russia", "observer", "ru"),
        "admin": add_party(server.database_url, "coalition", "admin"),
        "syria": add_party(server.database_url, "syria", "officer", "ar"),
    }


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestBasics:
    def test_health_and_openapi(self, server: Server) -> None:
        health = httpx.get(f"{server.url}/healthz").json()
        assert health["store"] == "ok"
        spec = httpx.get(f"{server.url}/openapi.json").json()
        paths = set(spec["paths"])
        for resource in (
            "/v1/protocols",
            "/v1/parties",
            "/v1/tracks",
            "/v1/alerts",
            "/v1/incidents",
        ):
            assert resource in paths
        assert {"/healthz", "/readyz", "/livez"} <= paths

    def test_authentication(self, server: Server, tokens: dict[str, str]) -> None:
        missing = httpx.get(f"{server.url}/v1/alerts")
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["status"] == 401
        wrong = httpx.get(f"{server.url}/v1/alerts", headers=_auth("not-a-token"))
        assert wrong.status_code == 401
        me = httpx.get(
            f"{server.url}/v1/parties/me", headers=_auth(tokens["russia_observer"])
        )
        assert me.json() == {"party_id": "russia", "role": "observer"}

    def test_roles(self, server: Server, tokens: dict[str, str]) -> None:
        # Parties are registered from the command line only; admins issue tokens
        # for their own party only (tests/security covers every route and role).
        body = {"id": "jordan", "name": "Jordan", "language": "ar"}
        admin = httpx.post(
            f"{server.url}/v1/parties", json=body, headers=_auth(tokens["admin"])
        )
        assert admin.status_code == 405
        officer = httpx.post(
            f"{server.url}/v1/parties/coalition/tokens",
            json={"role": "officer"},
            headers=_auth(tokens["coalition"]),
        )
        assert officer.status_code == 403
        tok = httpx.post(
            f"{server.url}/v1/parties/coalition/tokens",
            json={"role": "officer"},
            headers=_auth(tokens["admin"]),
        )
        assert tok.status_code == 201
        me = httpx.get(
            f"{server.url}/v1/parties/me", headers=_auth(tok.json()["token"])
        )
        assert me.json() == {"party_id": "coalition", "role": "officer"}
        batch = {"batch_id": "b", "positions": []}
        observer = httpx.post(
            f"{server.url}/v1/tracks",
            json=batch,
            headers=_auth(tokens["russia_observer"]),
        )
        assert observer.status_code == 403


class TestProtocolLifecycle:
    def test_takes_effect_when_all_accept(
        self, server: Server, tokens: dict[str, str]
    ) -> None:
        text = protocol_text(1, "conflicts").encode()
        proposed = httpx.post(
            f"{server.url}/v1/protocols",
            content=text,
            headers={**_auth(tokens["coalition"]), "content-type": "application/toml"},
        )
        assert proposed.status_code == 201, proposed.text
        assert proposed.json()["status"] == "proposed"
        assert proposed.json()["awaiting"] == ["russia"]
        none = httpx.get(
            f"{server.url}/v1/protocols/current", headers=_auth(tokens["russia"])
        )
        assert none.status_code == 404
        by_observer = httpx.post(
            f"{server.url}/v1/protocols/euphrates-2017/versions/1/accept",
            headers=_auth(tokens["russia_observer"]),
        )
        assert by_observer.status_code == 403
        not_named = httpx.post(
            f"{server.url}/v1/protocols/euphrates-2017/versions/1/accept",
            headers=_auth(tokens["syria"]),
        )
        assert not_named.status_code == 404
        accepted = httpx.post(
            f"{server.url}/v1/protocols/euphrates-2017/versions/1/accept",
            headers=_auth(tokens["russia"]),
        )
        assert accepted.json()["status"] == "in_effect"
        current = httpx.get(
            f"{server.url}/v1/protocols/current", headers=_auth(tokens["russia"])
        ).json()
        assert current["version"] == 1
        # The parties' names as the protocol states them (the console shows them).
        assert current["party_names"] == {
            "coalition": "US-led coalition (Combined Air Operations Center, Al Udeid)",
            "russia": "Russian Federation (Hmeimim air base)",
        }
        kinds = sorted(f["properties"]["kind"] for f in current["geometry"]["features"])
        assert kinds == ["line", "zone", "zone"]

        put_in_effect(server.url, tokens, version=2, sharing="full")
        versions = httpx.get(
            f"{server.url}/v1/protocols", headers=_auth(tokens["russia"])
        ).json()
        assert [(v["version"], v["status"]) for v in versions] == [
            (1, "superseded"),
            (2, "in_effect"),
        ]
        old = httpx.get(
            f"{server.url}/v1/protocols/euphrates-2017/versions/1",
            headers=_auth(tokens["coalition"]),
        )
        assert old.status_code == 200 and "Euphrates" in old.json()["toml"]
        stale = httpx.post(
            f"{server.url}/v1/protocols",
            content=text,
            headers={**_auth(tokens["coalition"]), "content-type": "application/toml"},
        )
        assert stale.status_code == 409

    def test_invalid_protocol_is_located(
        self, server: Server, tokens: dict[str, str]
    ) -> None:
        text = protocol_text(1).replace('coalition = "east"', 'coalition = "wast"')
        bad = httpx.post(
            f"{server.url}/v1/protocols",
            content=text.encode(),
            headers=_auth(tokens["coalition"]),
        )
        assert bad.status_code == 422
        problems = bad.json()["problems"]
        assert any(
            p["field"] == "lines[0].sides.coalition" and p["line"] for p in problems
        )


class TestIngestion:
    def test_json_batches_are_idempotent(
        self, server: Server, tokens: dict[str, str]
    ) -> None:
        now = time.time()
        rows = [
            {
                "id": "A1",
                "time": now - 2,
                "lat": 35.0,
                "lon": 38.0,
                "alt_ft": 20000,
                "gs_kt": 400,
                "trk_deg": 90,
                "vs_fpm": 0,
            },
            {
                "id": "A1",
                "time": now - 1,
                "lat": 95.0,
                "lon": 38.0,
                "alt_ft": 20000,
                "gs_kt": 400,
                "trk_deg": 90,
                "vs_fpm": 0,
            },
            {
                "id": "A2",
                "time": now + 3600,
                "lat": 35.0,
                "lon": 38.0,
                "alt_ft": 20000,
                "gs_kt": 400,
                "trk_deg": 90,
                "vs_fpm": 0,
            },
            {
                "id": "A3",
                "time": "2017-12-13T10:00:00",
                "lat": 35.0,
                "lon": 38.0,
                "alt_ft": 20000,
                "gs_kt": 400,
                "trk_deg": 90,
                "vs_fpm": 0,
            },
        ]
        with server.client(tokens["coalition"]) as client:
            first = client.post(
                "/v1/tracks", json={"batch_id": "b-1", "positions": rows}
            )
            assert first.status_code == 201, first.text
            body = first.json()
            assert body["accepted"] == 1
            assert {(r["row"], r["field"]) for r in body["rejected"]} == {
                (2, "lat"),
                (3, "time"),
                (4, "time"),
            }
            again = client.post(
                "/v1/tracks", json={"batch_id": "b-1", "positions": rows}
            )
            assert again.status_code == 200
            assert again.json()["duplicate"] is True
            assert again.json()["accepted"] == 1
            hist = client.get("/v1/tracks/coalition/A1")
            assert len(hist.json()) == 1

    def test_csv_batch(self, server: Server, tokens: dict[str, str]) -> None:
        now = time.time()
        csv_text = (
            "id,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm\n"
            + "".join(
                f"C{k},{now - 1:.3f},35.{k},38.0,21000,410,45,0\n" for k in range(5)
            )
            + "C9,yesterday,35,38,1,1,1,1\n"
        )
        with server.client(tokens["russia"]) as client:
            r = client.post(
                "/v1/tracks?batch_id=csv-1",
                content=csv_text.encode(),
                headers={"content-type": "text/csv"},
            )
            assert r.status_code == 201, r.text
            assert r.json()["accepted"] == 5
            assert r.json()["rejected"][0]["row"] == 6
            picture = client.get("/v1/tracks").json()
            assert sorted(p["id"] for p in picture) == [f"C{k}" for k in range(5)]

    def test_batch_with_no_valid_row_is_not_stored(
        self, server: Server, tokens: dict[str, str]
    ) -> None:
        bad = [{"id": "X", "time": time.time(), "lat": "north"}]
        with server.client(tokens["coalition"]) as client:
            r = client.post("/v1/tracks", json={"batch_id": "fix-me", "positions": bad})
            assert r.status_code == 422
            assert r.headers["content-type"] == "application/problem+json"
            good = [
                {
                    "id": "X",
                    "time": time.time(),
                    "lat": 35,
                    "lon": 38,
                    "alt_ft": 1000,
                    "gs_kt": 200,
                    "trk_deg": 10,
                    "vs_fpm": 0,
                }
            ]
            retry = client.post(
                "/v1/tracks", json={"batch_id": "fix-me", "positions": good}
            )
            assert retry.status_code == 201
            garbage = client.post(
                "/v1/tracks",
                content=b"{not json",
                headers={"content-type": "application/json"},
            )
            assert garbage.status_code == 422


class TestTwoPartyScenario:
    def test_line_crossing_and_closing_aircraft(
        self, server: Server, tokens: dict[str, str]
    ) -> None:
        put_in_effect(server.url, tokens, sharing="conflicts")
        coalition = StreamReader(server.url, tokens["coalition"])
        russia = StreamReader(server.url, tokens["russia"])
        coalition.collect(
            lambda got: any(e["type"] == "protocol.effective" for e in got)
        )
        russia.collect(lambda got: any(e["type"] == "protocol.effective" for e in got))

        viper, rf = encounter(time.time())
        with (
            server.client(tokens["coalition"]) as c,
            server.client(tokens["russia"]) as r,
        ):
            assert c.post(
                "/v1/tracks", json={"batch_id": "v1", "positions": viper}
            ).is_success
            assert r.post(
                "/v1/tracks", json={"batch_id": "r1", "positions": rf}
            ).is_success

        def has(types: set[str]):  # type: ignore[no-untyped-def]
            return lambda got: types <= {e["type"] for e in got}

        c_events = coalition.collect(has({"alert.raised", "incident.opened"}))
        r_events = russia.collect(has({"alert.raised", "incident.opened"}))

        c_alert = next(e for e in c_events if e["type"] == "alert.raised")["data"]
        r_alert = next(e for e in r_events if e["type"] == "alert.raised")["data"]
        assert c_alert["id"] == r_alert["id"]
        assert c_alert["level"] in {"conflict", "advisory", "warning"}
        c_sides = {s["party"]: s for s in c_alert["aircraft"]}
        assert c_sides["coalition"]["id"] == "VIPER11"
        assert set(c_sides["russia"]) == {"party", "cpa"}, (
            "the other aircraft is reduced"
        )
        r_sides = {s["party"]: s for s in r_alert["aircraft"]}
        assert r_sides["russia"]["id"] == "RF93"
        assert "id" not in r_sides["coalition"]

        # The coalition's own violation: in full for the coalition, reduced for Russia.
        c_inc = [e["data"] for e in c_events if e["type"] == "incident.opened"]
        own = next(i for i in c_inc if i["party_id"] == "coalition")
        assert own["kind"] == "line_violation" and own["boundary_id"] == "euphrates"
        assert own["aircraft"][0]["id"] == "VIPER11"
        assert own["evidence"]["tracks"]["coalition"]["VIPER11"]
        r_inc = [e["data"] for e in r_events if e["type"] == "incident.opened"]
        theirs = next(i for i in r_inc if i["party_id"] == "coalition")
        assert "id" not in theirs["aircraft"][0]
        assert theirs["evidence"]["tracks"] == {}

        # Lifecycle and remarks from each side.
        with (
            server.client(tokens["russia"]) as r,
            server.client(tokens["coalition"]) as c,
        ):
            inc_id = theirs["id"]
            reported = r.post(
                f"/v1/incidents/{inc_id}/status",
                json={"status": "reported", "version": theirs["version"]},
            ).json()
            assert reported["status"] == "reported"
            acknowledged = c.post(
                f"/v1/incidents/{inc_id}/status",
                json={"status": "acknowledged", "version": reported["version"]},
            ).json()
            assert acknowledged["status"] == "acknowledged"
            bad = r.post(
                f"/v1/incidents/{inc_id}/status",
                json={"status": "open", "version": acknowledged["version"]},
            )
            assert bad.status_code == 409
            r.post(f"/v1/incidents/{inc_id}/remarks", json={"text": "crossed at FL250"})
            detail = c.post(
                f"/v1/incidents/{inc_id}/remarks",
                json={"text": "navigation error, corrected"},
            ).json()
            assert [m["party"] for m in detail["remarks"]] == ["russia", "coalition"]
            stats = c.get("/v1/incidents/stats").json()["by_party"]
            assert (
                sum(
                    stats["coalition"][d].get("line_violation", 0)
                    for d in stats["coalition"]
                )
                >= 1
            )

        # Resume: a reconnect after the last id seen repeats nothing and loses nothing.
        seen = {e["id"] for e in c_events}
        later = coalition.collect(has({"incident.remark"}))
        assert not seen & {e["id"] for e in later}
        replay = StreamReader(server.url, tokens["coalition"], after=0).collect(
            lambda got: got[-1]["id"] >= later[-1]["id"]
        )
        ids = [e["id"] for e in replay]
        assert ids == sorted(set(ids))
        assert set(ids) >= seen | {e["id"] for e in later}

    def test_stream_refuses_bad_token(self, server: Server) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        ws_url = server.url.replace("http://", "ws://") + "/v1/stream"
        with connect(ws_url) as ws:
            ws.send(json.dumps({"token": "nope"}))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=15)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
