"""Contract tests: imports point inward, units are in names, the error tree holds."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import re
import sys
import typing
from pathlib import Path

import pytest

import deconfliction
import deconfliction.domain
from deconfliction import errors

SRC = Path(deconfliction.__file__).parent
DOMAIN_ALLOWED_TOP = {"numpy", "shapely", "pyproj", "scipy", "deconfliction"}
DOMAIN_ALLOWED_OWN = (
    "deconfliction.domain",
    "deconfliction.errors",
    "deconfliction.units",
)
UNIT_SUFFIXES = (
    "_nm",
    "_ft",
    "_kt",
    "_s",
    "_fpm",
    "_deg",
    "_rad",
    "_m",
    "_mps",
    "_mps2",
)
# Dimensionless float fields, named for what they are.
DIMENSIONLESS = {"probability", "fraction", "ratio", "weight", "up"}
_UNIT_RE = re.compile(r"_(nm|ft|kt|s|fpm|deg|rad|m|mps|mps2)(_at_[a-z]+)?$")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


class TestLayering:
    @pytest.mark.parametrize(
        "path", sorted((SRC / "domain").rglob("*.py")), ids=lambda p: p.name
    )
    def test_domain_is_pure(self, path: Path) -> None:
        for name in _imports(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names:
                assert top not in {
                    "socket",
                    "sqlite3",
                    "http",
                    "urllib",
                    "asyncio",
                    "subprocess",
                    "logging",
                }, f"{path.name} imports {name}"
                continue
            assert top in DOMAIN_ALLOWED_TOP, f"{path.name} imports {name}"
            if top == "deconfliction":
                assert name.startswith(DOMAIN_ALLOWED_OWN), (
                    f"{path.name} imports {name}"
                )

    def test_only_geodesy_calls_pyproj(self) -> None:
        for path in (SRC / "domain").rglob("*.py"):
            if path.name != "geodesy.py":
                assert not any(n.startswith("pyproj") for n in _imports(path)), (
                    path.name
                )

    @pytest.mark.parametrize(
        ("layer", "forbidden"),
        [
            # Services own the store: routes and reports ask a service.
            ("api/routes", ("deconfliction.store", "sqlalchemy")),
            ("reports", ("deconfliction.store", "sqlalchemy")),
            # The record is below the services that keep it.
            ("hotline", ("deconfliction.service", "deconfliction.api")),
            # The blind computation knows no command line.
            ("blind", ("deconfliction.cli",)),
            # Adapters, analysis and the ground floor serve the outer layers.
            ("analysis", ("deconfliction.service", "deconfliction.cli")),
        ],
    )
    def test_layer_does_not_import(
        self, layer: str, forbidden: tuple[str, ...]
    ) -> None:
        for path in sorted((SRC / layer).rglob("*.py")):
            for name in _imports(path):
                assert not name.startswith(forbidden), (
                    f"{path.relative_to(SRC)} imports {name}"
                )

    @pytest.mark.parametrize("module", ["errors", "units", "timetext"])
    def test_the_ground_floor_imports_nothing_of_ours(self, module: str) -> None:
        for name in _imports(SRC / f"{module}.py"):
            assert not name.startswith("deconfliction"), f"{module} imports {name}"

    def test_adapters_name_no_command_line_flag(self) -> None:
        """An adapter does not know the command line: the command that took a value
        from a flag names it (``cli/_common.as_option``)."""
        flag = re.compile(r"--[a-z][a-z0-9-]*")
        for path in sorted((SRC / "adapters").rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    assert not flag.fullmatch(node.value), (
                        f"{path.name}:{node.lineno} names the flag {node.value}"
                    )

    def test_adapters_do_not_import_cli_or_service(self) -> None:
        for path in (SRC / "adapters").rglob("*.py"):
            for name in _imports(path):
                assert not name.startswith(
                    ("deconfliction.cli", "deconfliction.service")
                ), f"{path.name} imports {name}"


def _domain_dataclasses() -> list[type]:
    found: list[type] = []
    for info in pkgutil.walk_packages(
        deconfliction.domain.__path__, "deconfliction.domain."
    ):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__:
                found.append(obj)
    return found


class TestUnitsInNames:
    @pytest.mark.parametrize("cls", _domain_dataclasses(), ids=lambda c: c.__qualname__)
    def test_float_fields_carry_units(self, cls: type) -> None:
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            hint = hints[field.name]
            text = str(hint)
            is_float = hint is float or "float64" in text or text.startswith("float")
            if is_float and field.name not in DIMENSIONLESS:
                assert _UNIT_RE.search(field.name), (
                    f"{cls.__qualname__}.{field.name}: a quantity without a unit"
                )

    @pytest.mark.parametrize("cls", _domain_dataclasses(), ids=lambda c: c.__qualname__)
    def test_domain_values_are_frozen(self, cls: type) -> None:
        params = cls.__dataclass_params__  # type: ignore[attr-defined]
        assert params.frozen, f"{cls.__qualname__} is not frozen"


class TestErrorTree:
    def test_every_error_derives_from_the_root(self) -> None:
        for _, obj in inspect.getmembers(errors, inspect.isclass):
            if issubclass(obj, Exception):
                assert issubclass(obj, errors.DeconflictionError)

    def test_every_exception_class_is_in_the_tree(self) -> None:
        """Every public exception class of the package derives from
        :class:`DeconflictionError` (private ones, named ``_X``, are control flow
        caught in their own module)."""
        outside = []
        for info in pkgutil.walk_packages(deconfliction.__path__, "deconfliction."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for name, obj in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(obj, BaseException)
                    and obj.__module__ == module.__name__
                    and not name.startswith("_")
                    and not issubclass(obj, errors.DeconflictionError)
                ):
                    outside.append(f"{module.__name__}.{name}")
        assert outside == []

    def test_input_errors_are_value_errors(self) -> None:
        for cls in (
            errors.InputError,
            errors.ProtocolError,
            errors.StatesError,
            errors.GeometryError,
            errors.PolarRegionError,
        ):
            assert issubclass(cls, ValueError)

    def test_problems_build_the_message(self) -> None:
        err = errors.ProtocolError(
            [errors.Problem("p.toml", 3, "lines[0].buffer_nm", "bad")]
        )
        assert "p.toml:3: lines[0].buffer_nm: bad" in str(err)
        assert err.problems[0].line == 3
