"""The licence and the credits: LICENSE is the Apache License 2.0, word for word;
NOTICE credits every piece of someone else's data, code and fonts the package ships;
both go into the wheel and the README points to them."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

from deconfliction import web

ROOT = Path(__file__).resolve().parents[1]
GEO = ROOT / "src" / "deconfliction" / "data" / "geo"
# SHA-256 of https://www.apache.org/licenses/LICENSE-2.0.txt (11,358 bytes), the same
# file a dozen installed distributions ship unchanged.
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
# web/ dev dependencies that build, lint or test the bundle, not in it
BUILD_ONLY = {"esbuild", "eslint", "@eslint/js", "globals"}
DISPLAY_NAMES = {"maplibre-gl": "MapLibre GL JS"}


class TestLicence:
    def test_license_is_the_apache_license_2_0_unchanged(self) -> None:
        text = (ROOT / "LICENSE").read_bytes()
        assert hashlib.sha256(text).hexdigest() == APACHE_2_0_SHA256

    def test_pyproject_declares_it_and_ships_both_files(self) -> None:
        project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
        assert project["project"]["license"] == "Apache-2.0"
        assert project["project"]["license-files"] == ["LICENSE", "NOTICE"]


class TestNotice:
    notice = (ROOT / "NOTICE").read_text("utf-8")

    def test_every_shipped_map_file_is_credited(self) -> None:
        shipped = sorted(GEO.glob("*.geojson"))
        assert shipped, "no map data found: has the layout changed?"
        for path in shipped:
            assert path.name in self.notice, path.name
        for path in GEO.glob("*.LICENSE-*.txt"):
            assert path.name in self.notice, path.name
        for credit in ("Natural Earth", "Public domain", "GSHHG", "Lesser General"):
            assert credit in self.notice, credit

    def test_every_bundled_package_is_credited_at_its_version(self) -> None:
        package = json.loads((ROOT / "web" / "package.json").read_text("utf-8"))
        bundled = {
            name: version
            for name, version in package["devDependencies"].items()
            if name not in BUILD_ONLY
        }
        assert "maplibre-gl" in bundled
        paragraphs = self.notice.split("\n\n")
        for name, version in bundled.items():
            shown = DISPLAY_NAMES.get(name, name)
            assert any(shown in p and version in p for p in paragraphs), (name, version)
        assert "Open Font License" in self.notice
        assert "LICENSES.txt" in self.notice
        assert (web.static_path() / "LICENSES.txt").is_file()

    def test_the_readme_points_to_both(self) -> None:
        readme = (ROOT / "README.md").read_text("utf-8")
        section = readme.split("## Data and licences", 1)[1]
        assert "[LICENSE](LICENSE)" in section and "[NOTICE](NOTICE)" in section
