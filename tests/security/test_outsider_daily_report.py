"""Attack: read an agreement one is not party to from one's own daily report
(issue 14, item 6).

The daily report of a party the protocol does not name showed the protocol's title,
its parties and its map (lines and zones), and listed every registered party. Now
it is the party's own data on a blank map: no protocol, no other party.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import Server
from tests.security import world as w

pytestmark = pytest.mark.slow


def test_an_outsiders_report_shows_no_agreement(server: Server) -> None:
    world = w.register(server)
    w.put_protocol_in_effect(world, 1, "conflicts")
    day = datetime.now(tz=UTC).strftime("%Y-%m-%d")
    with world.client(w.C) as c:
        report = c.get("/v1/reports/daily", params={"day": day})
    assert report.status_code == 200, report.text
    secrets = ("Euphrates deconfliction line", "euphrates-2017", w.A, w.B)
    for secret in secrets:
        assert secret.lower() not in report.text.lower(), secret
    # a, a party of it, has the protocol in its report.
    with world.client(w.A) as a:
        own = a.get("/v1/reports/daily", params={"day": day}).text
    assert [s for s in secrets[:2] if s not in own] == [], "a broken test"
