"""The console: ``/`` serves the page, ``/static/...`` its assets (from the package),
``/geo/...`` the offline base map data (from ``deconfliction/data/geo``).

The page and its assets are public: they hold no data; everything the console shows
comes from the API with the party's token, and nothing is fetched from anywhere
else. Responses are revalidated on every load (``no-cache``, with ETag and
Last-Modified): the file names carry no version, and an upgraded server must not
leave a stale console on a duty officer's screen.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from deconfliction import web
from deconfliction.errors import NotFoundError

router = APIRouter(include_in_schema=False)

CACHE_CONTROL: str = "no-cache"
GEO_FILES: frozenset[str] = frozenset({"countries.geojson", "rivers.geojson"})
GEO_MEDIA_TYPE: str = "application/geo+json"  # RFC 7946


def geo_path() -> Path:
    """The directory of the shipped base map data."""
    return Path(__file__).resolve().parents[2] / "data" / "geo"


class ConsoleAssets(StaticFiles):
    """Starlette's StaticFiles on the package's ``deconfliction/web/static``, with the
    console's cache policy. A missing directory (assets not built) answers 404; it
    does not stop the server from starting."""

    def __init__(self) -> None:
        super().__init__(directory=web.static_path(), check_dir=False)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: object,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file, marked to be revalidated before reuse."""
        response = super().file_response(
            full_path,
            stat_result,  # type: ignore[arg-type]
            scope,
            status_code,
        )
        response.headers["cache-control"] = CACHE_CONTROL
        return response


router.mount("/static", ConsoleAssets(), name="static")


@router.get("/")
def index() -> FileResponse:
    """The console page.

    Raises:
        NotFoundError: if the assets were not built (a checkout without them).
    """
    page = web.static_path() / "index.html"
    if not page.is_file():
        raise NotFoundError("the console is not built (run web/build.sh)")
    return FileResponse(
        page,
        media_type="text/html; charset=utf-8",
        headers={"cache-control": CACHE_CONTROL},
    )


@router.get("/geo/{name}")
def geo(name: str) -> FileResponse:
    """Base map data: country borders and coastlines, rivers (data/geo/README.md).

    Raises:
        NotFoundError: for any other name.
    """
    if name not in GEO_FILES:
        raise NotFoundError(f"map data {name}")
    return FileResponse(
        geo_path() / name,
        media_type=GEO_MEDIA_TYPE,
        headers={"cache-control": CACHE_CONTROL},
    )
