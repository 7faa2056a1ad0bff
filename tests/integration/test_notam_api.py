"""GET /v1/operations/{id}/notam (issue 19, item 4) on a real server: the NOTAM of an
operation whose kind the protocol makes public, for any token; 404 otherwise."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aviconv_notam.parser import parse

from tests.conftest import Server, add_party
from tests.integration.helpers import protocol_text

pytestmark = pytest.mark.slow

NOTAM_SECTION = '\n[notam]\npublic = ["air_refuelling"]\nfir = "OSTT"\n'


def _iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, tz=UTC).isoformat().replace("+00:00", "Z")


def _op(op_id: str, kind: str, now: float) -> dict[str, Any]:
    return {
        "id": op_id,
        "kind": kind,
        "aircraft": ["X1"],
        "volumes": [
            {
                "volume": {
                    "outline_circle": {
                        "center": {"lat": 36.3, "lng": 41.0},
                        "radius": {"value": 10, "units": "NM"},
                    },
                    "altitude_lower": {
                        "value": 15000,
                        "reference": "W84",
                        "units": "FT",
                    },
                    "altitude_upper": {
                        "value": 25000,
                        "reference": "W84",
                        "units": "FT",
                    },
                },
                "time_start": {"value": _iso(now + 7200)},
                "time_end": {"value": _iso(now + 14400)},
            }
        ],
    }


def test_public_operations_have_a_notam(server: Server) -> None:
    tokens = {
        "coalition": add_party(server.database_url, "coalition", "officer"),
        "russia": add_party(server.database_url, "russia", "officer", "ru"),
    }
    proposed = httpx.post(
        f"{server.url}/v1/protocols",
        content=(protocol_text(1) + NOTAM_SECTION).encode(),
        headers={
            "Authorization": f"Bearer {tokens['coalition']}",
            "content-type": "application/toml",
        },
    )
    assert proposed.status_code == 201, proposed.text
    accepted = httpx.post(
        f"{server.url}/v1/protocols/euphrates-2017/versions/1/accept",
        headers={"Authorization": f"Bearer {tokens['russia']}"},
    )
    assert accepted.status_code == 200, accepted.text
    now = time.time()
    with server.client(tokens["coalition"]) as c, server.client(tokens["russia"]) as r:
        filed = c.post("/v1/operations", json=_op("tanker-1", "air_refuelling", now))
        assert filed.status_code == 201, filed.text
        filed = c.post("/v1/operations", json=_op("cap-1", "air_patrol", now))
        assert filed.status_code == 201, filed.text
        answer = r.get("/v1/operations/tanker-1/notam")  # the other party: public
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/plain")
        notam = parse(answer.text)
        assert notam.q_line.fir == "OSTT" and notam.q_line.qcode == "QRTCA"
        assert (notam.q_line.lower_fl, notam.q_line.upper_fl) == (150, 250)
        assert notam.q_line.radius_nm >= 10
        assert abs(notam.effective_from.timestamp() - (now + 7200)) < 60
        assert (notam.lower_limit, notam.upper_limit) == ("FL150", "FL250")
        assert c.get("/v1/operations/cap-1/notam").status_code == 404
        assert c.get("/v1/operations/nothing/notam").status_code == 404
