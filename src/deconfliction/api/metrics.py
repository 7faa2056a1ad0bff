"""``/metrics``: the operator's Prometheus endpoint (``prometheus-client``).

It counts every party's traffic, so it is the operator's only: it answers only to the
operator token (``DECONFLICTION_OPERATOR_TOKEN`` or ``serve --operator-token-file``),
401 without a token, 403 with any other (a party's token included); without an
operator token set, metrics are off (401 to everyone). The registry belongs to the
application (no global state): several servers in one process do not mix.

What is measured here, as it happens: positions accepted and rejected (by party and
reason), batches and their handling time, detection ticks and their duration, the
stream's clients. What is read at each scrape: the detection tick's age, the newest
tick's duration and the lag of the live picture (``service.tick_timing``), the store's
faults, alerts and incidents (from the store, so every process agrees), each party's
feed lag, each stream client's backlog. Names and labels are in docs/operations.md.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from deconfliction.api.deps import Context, bearer_token, get_context
from deconfliction.api.errors import Unauthorized
from deconfliction.api.instruments import PREFIX
from deconfliction.errors import ForbiddenError
from deconfliction.service import stats

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])


class _ScrapeCollector(Collector):
    """What is read when Prometheus scrapes."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def collect(self) -> Iterator[Metric]:
        ctx = self._ctx
        now_t_s = ctx.clock.now_t_s()
        yield from self._detection(now_t_s)
        yield from self._store_health()
        try:
            yield from self._from_store(now_t_s)
            up = 1.0
        except Exception as exc:
            if ctx.store_health.record(exc) is None:
                log.exception("reading the metrics from the store failed")
            up = 0.0
        yield _gauge("store_up", "1 when this scrape could read the store.", up)

    def _detection(self, now_t_s: float) -> Iterator[Metric]:
        live = self._ctx.live
        tick = live.last_tick
        if tick is not None:
            yield _gauge(
                "detection_tick_age_seconds",
                "Seconds since the last detection tick.",
                now_t_s - tick.t_s,
            )
            yield _gauge(
                "detection_aircraft", "Live aircraft at the last tick.", tick.aircraft
            )
            yield _gauge(
                "detection_conflicts",
                "Conflicts found at the last tick.",
                tick.conflicts,
            )
        figures = self._ctx.metrics.ticks.newest
        if figures is not None:
            yield _gauge(
                "detection_tick_last_duration_seconds",
                "How long the newest completed detection tick took.",
                figures.duration_s,
            )
            yield _gauge(
                "detection_tick_lag_seconds",
                "How much older than one interval the newest completed tick's "
                "picture is (0 while ticks keep to the interval).",
                figures.lag_s(now_t_s),
            )
        yield _gauge(
            "detection_interval_seconds", "The detection interval.", live.interval_s
        )
        yield _gauge(
            "detection_failing",
            "1 when the last detection tick failed.",
            1.0 if live.last_error is not None else 0.0,
        )

    def _store_health(self) -> Iterator[Metric]:
        health = self._ctx.store_health
        faults = CounterMetricFamily(
            f"{PREFIX}_store_faults",
            "Store faults met by this process, by kind.",
            labels=["kind"],
        )
        for kind, n in sorted(health.faults_total.items(), key=lambda kv: kv[0].value):
            faults.add_metric([kind.value], n)
        yield faults
        yield _gauge(
            "store_writable",
            "1 unless the last write outcome was a fault.",
            0.0 if health.failing() else 1.0,
        )

    def _from_store(self, now_t_s: float) -> Iterator[Metric]:
        ctx = self._ctx
        clients = ctx.metrics.stream.snapshot()
        with ctx.engine.connect() as conn:
            active = stats.active_alerts_by_level(conn)
            raised = stats.alerts_by_max_level(conn)
            by_status = stats.incidents_by_kind_and_status(conn)
            ongoing = stats.ongoing_incidents_by_kind(conn)
            lags = ctx.metrics.feeds.lags(conn, now_t_s)
            backlogs = [
                (c.party, stats.backlog(conn, c.party, c.last_id)) for c in clients
            ]
        yield _labelled(
            "alerts_active", "Alerts not cleared, by level.", "level", active
        )
        yield _labelled(
            "alerts",
            "Alerts ever raised, by the highest level reached.",
            "level",
            raised,
        )
        incidents = GaugeMetricFamily(
            f"{PREFIX}_incidents",
            "Incidents, by kind and handling status.",
            labels=["kind", "status"],
        )
        for (kind, status), n in sorted(by_status.items()):
            incidents.add_metric([kind, status], n)
        yield incidents
        yield _labelled(
            "incidents_ongoing", "Incidents still going on, by kind.", "kind", ongoing
        )
        lag = GaugeMetricFamily(
            f"{PREFIX}_feed_lag_seconds",
            "Now minus the time of the party's newest position.",
            labels=["party"],
        )
        silent = GaugeMetricFamily(
            f"{PREFIX}_feed_silent_seconds",
            "Seconds since the party's feed last delivered a position.",
            labels=["party"],
        )
        delay = GaugeMetricFamily(
            f"{PREFIX}_feed_delay_seconds",
            "How old the party's freshest recent position was on arrival.",
            labels=["party"],
        )
        for party, feed in sorted(lags.items()):
            lag.add_metric([party], feed.lag_s)
            silent.add_metric([party], feed.silent_s)
            delay.add_metric([party], feed.delay_s)
        yield from (lag, silent, delay)
        count: dict[str, int] = {}
        worst: dict[str, int] = {}
        for party, waiting in backlogs:
            count[party] = count.get(party, 0) + 1
            worst[party] = max(worst.get(party, 0), waiting)
        yield _labelled("stream_clients", "Open streams, by party.", "party", count)
        yield _labelled(
            "stream_backlog_events",
            "Events waiting for the party's furthest-behind stream.",
            "party",
            worst,
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


def _labelled(
    name: str, documentation: str, label: str, values: dict[str, int]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def install(ctx: Context) -> None:
    """Register the scrape-time collector of ``ctx``."""
    ctx.metrics.registry.register(_ScrapeCollector(ctx))


def require_operator(
    request: Request, ctx: Annotated[Context, Depends(get_context)]
) -> None:
    """Let only the operator through.

    Raises:
        Unauthorized: no token, or no operator token set (metrics are off).
        ForbiddenError: a token that is not the operator's.
    """
    token = bearer_token(request.headers.get("authorization"))
    expected = ctx.settings.operator_token
    if expected is None:
        raise Unauthorized("metrics are off: the server has no operator token")
    if token is None:
        raise Unauthorized("the operator token is required")
    if not hmac.compare_digest(
        token.encode("utf-8"), expected.get_secret_value().encode("utf-8")
    ):
        raise ForbiddenError("the operator token is required")


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(require_operator)],
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(ctx: Annotated[Context, Depends(get_context)]) -> Response:
    """Prometheus metrics, for the operator's token only."""
    return Response(
        generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
