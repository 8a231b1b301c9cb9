"""DF401 base-image-pin and DF402 python-slim-base beyond the golden fixtures: what is reported and why,
the user's pins, the contract facet that lets only the tag change, and --pin-digest against a real engine.

The digest tests ask the local engine only (no registry). Where scripts/setup-engine.sh has run (its
env.sh exists, as in CI) the real path is required: podman must know python:3.12-slim-bookworm and the
digest must land in the FROM. Elsewhere the "cannot resolve" path is tested with the same image.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dfix.contract import contract, differences
from dfix.engine import Options, fix_text, guard
from dfix.rules import RuleContext
from dfix.rules import base_image_pin as pin_mod
from dfix.rules.base_image_pin import BaseImagePin, ImageRef, shipped_table
from dfix.rules.python_slim_base import PythonSlimBase
from dfix.syntax import apply_edits, tokenize

from .conftest import FIXTURES, ROOT

ENGINE_ROOT = Path(os.environ.get("DFIX_ENGINE_ROOT") or ROOT / ".engine")
STAND_IN = "python:3.12-slim-bookworm"  # made by scripts/setup-engine.sh


def findings(rule, text: str, **options):
    return list(rule.check(tokenize(text), RuleContext(options=options)))


def fixed(rule, text: str, **options) -> str:
    edits = [e for f in findings(rule, text, **options) for e in f.edits]
    return apply_edits(text, edits)


def reasons(rule, text: str, **options) -> list[str]:
    return [f.reason for f in findings(rule, text, **options) if f.reason]


# -- the table --------------------------------------------------------------------------------------


def test_table_is_dated_and_keeps_variants():
    table = shipped_table()
    assert table.date == "2026-11-01"
    for image, entry in table.images.items():
        tags = entry.get("tags", {})
        # a row of base facts only (dfix/base_images.py) has no pin: DF401 reports it as unknown, as before
        assert tags or entry.get("note") or entry.get("source"), image
        for floating, pinned in tags.items():
            assert pin_mod._valid_pin(pinned), (image, pinned)
            assert pinned != floating
            # the variant the user had is the variant they get
            for variant in ("slim", "alpine"):
                if variant in floating.split("-"):
                    assert variant in pinned, (image, floating, pinned)
            if floating in ("latest", "stable", "current", "lts", "mainline"):
                assert "alpine" not in pinned and "slim" not in pinned, (image, floating, pinned)


def test_a_pin_is_never_pinned_again():
    table = shipped_table()
    for image, entry in table.images.items():
        for pinned in entry.get("tags", {}).values():
            assert table.pin(image, pinned) is None, (image, pinned)
    for line in table.images["python"]["lines"]:
        for suffix in ("", "-slim", "-alpine"):
            pinned = table.pin("python", line + suffix)
            assert pinned is not None and table.pin("python", pinned) is None


def test_the_table_ships_as_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dfix = ["data/*.toml",' in pyproject  # the Compose schema ships beside it (tests/test_compose.py)


@pytest.mark.parametrize(
    ("text", "name", "tag", "digest"),
    [
        ("python", "python", None, None),
        ("python:3.12-slim", "python", "3.12-slim", None),
        ("registry.example.com:5000/team/app", "registry.example.com:5000/team/app", None, None),
        ("localhost:5000/app:1.0@sha256:abc", "localhost:5000/app", "1.0", "sha256:abc"),
        ("python@sha256:abc", "python", None, "sha256:abc"),
    ],
)
def test_image_reference(text, name, tag, digest):
    ref = ImageRef.parse(text)
    assert (ref.name, ref.tag, ref.digest) == (name, tag, digest)


# -- what is reported instead of fixed --------------------------------------------------------------


def _case(group: str, name: str) -> str:
    return (FIXTURES / group / name / "before.Dockerfile").read_text()


def test_private_registry_and_unknown_images_are_reported():
    got = reasons(BaseImagePin(), _case("base-image-pin", "private-registry-not-applied"))
    assert got == [
        "no pin known for registry.example.com:5000/team/base; add one under base-image-pins in .dfix.toml or [tool.dfix]",
        "no pin known for ghcr.io/acme/tools; add one under base-image-pins in .dfix.toml or [tool.dfix]",
        shipped_table().note("openjdk"),
    ]


def test_variables_are_reported_where_they_float():
    got = findings(BaseImagePin(), _case("base-image-pin", "variable-not-applied"))
    assert [(f.line, f.reason) for f in got] == [
        (4, "the image comes from ARG BASE (python); pin it where the ARG is set"),
        (5, "the image comes from ARG TAG (python:latest); pin it where the ARG is set"),
        (6, "the image comes from ARG REGISTRY (?/python); pin it where the ARG is set"),
    ]
    assert not any(f.edits for f in got)


@pytest.mark.parametrize("case", ["stage-reference-untouched", "scratch-untouched", "digest-untouched",
                                  "patch-version-not-applied"])
def test_nothing_to_say(case):
    assert findings(BaseImagePin(), _case("base-image-pin", case)) == []


def test_floating_reference_split_by_an_escape_is_reported():
    got = reasons(BaseImagePin(), "FROM pyt\\\nhon:latest\n")
    assert got == ["the image reference is split over lines or escaped"]


def test_python_slim_base_reasons():
    rule = PythonSlimBase()
    assert reasons(rule, _case("python-slim-base", "apk-not-applied")) == [
        "line 2 runs apk: on slim it needs apt-get and Debian's package names"
    ]
    assert reasons(rule, _case("python-slim-base", "alpine-copy-not-applied")) == [
        "files are copied from stage tools, built on Alpine: musl binaries would land in a glibc image"
    ]
    assert reasons(rule, _case("python-slim-base", "digest-not-applied")) == [
        "the image is pinned by digest; the slim variant needs its own"
    ]
    message = findings(rule, "FROM python:3.12-alpine\n")[0].message
    assert "musl" in message and "manylinux" in message and "python:3.12-slim" in message


def test_python_slim_base_is_unsafe_and_only_applied_when_asked():
    text = "FROM python:3.12-alpine\nCMD [\"python\"]\n"
    options = Options(select=frozenset({"DF402"}))
    assert fix_text(text, options=options).fixed == text
    result = fix_text(text, options=Options(select=frozenset({"DF402"}), unsafe_fixes=True))
    assert result.fixed == "FROM python:3.12-slim\nCMD [\"python\"]\n"


def test_pin_then_switch_settles_with_both_rules():
    text = "FROM python:alpine\nCMD [\"python\"]\n"
    result = fix_text(text, options=Options(select=frozenset({"DF401", "DF402"}), unsafe_fixes=True))
    assert result.fixed == "FROM python:3.15-slim-trixie\nCMD [\"python\"]\n"
    assert result.withheld is None


# -- the user's pins --------------------------------------------------------------------------------


def test_user_pins_come_first():
    pins = {
        "python": "3.12-slim-bookworm",  # untagged and :latest
        "docker.io/library/node:lts": "24-bookworm-slim",
        "registry.example.com:5000/team/base": "2.3",
        "python:3.12-slim": "3.12-slim-bookworm",
    }
    text = (
        "FROM python\nFROM python:latest AS a\nFROM node:lts\nFROM registry.example.com:5000/team/base\n"
        "FROM python:3.12-slim\nFROM python:slim\n"
    )
    assert fixed(BaseImagePin(), text, base_image_pins=pins) == (
        "FROM python:3.12-slim-bookworm\nFROM python:3.12-slim-bookworm AS a\nFROM node:24-bookworm-slim\n"
        "FROM registry.example.com:5000/team/base:2.3\nFROM python:3.12-slim-bookworm\n"
        "FROM python:3.15-slim-trixie\n"
    )
    message = findings(BaseImagePin(), "FROM python\n", base_image_pins=pins)[0].message
    assert "base-image-pins config" in message


def test_a_user_pin_that_is_not_a_tag_is_reported():
    got = reasons(BaseImagePin(), "FROM python\n", base_image_pins={"python": "python 3"})
    assert got == ["the pin for python:latest is not a tag: 'python 3'"]


# -- the contract: only the tag may change -----------------------------------------------------------


def test_base_tag_facet_lets_only_the_tag_change():
    before = tokenize("FROM --platform=linux/amd64 python:latest AS app\nCMD [\"python\"]\n")
    ok = tokenize("FROM --platform=linux/amd64 python:3.15-trixie@sha256:" + "a" * 64 + " AS app\nCMD [\"python\"]\n")
    assert guard(before, ok, frozenset({"base-tag"}), use_oracle=False) is None
    assert differences(contract(before), contract(ok)) == ["final.base-tag"]  # the last stage is the image: "final"
    for other in (
        "FROM --platform=linux/amd64 pypy:latest AS app\n",  # another image
        "FROM --platform=linux/amd64 docker.io/library/python:latest AS app\n",  # another spelling
        "FROM --platform=linux/arm64 python:latest AS app\n",  # another platform
        "FROM python:latest AS app\n",  # no platform
        "FROM --platform=linux/amd64 python:latest AS web\n",  # another stage name
    ):
        after = tokenize(other + "CMD [\"python\"]\n")
        assert guard(before, after, frozenset({"base-tag"}), use_oracle=False), other


def test_registry_port_is_part_of_the_name():
    before = tokenize("FROM localhost:5000/app\n")
    after = tokenize("FROM localhost:5001/app\n")
    assert guard(before, after, frozenset({"base-tag"}), use_oracle=False)


# -- --pin-digest -----------------------------------------------------------------------------------


@pytest.fixture
def engine_env(monkeypatch):
    """The environment scripts/setup-engine.sh prepared, or None where it has not run."""
    env_sh = ENGINE_ROOT / "env.sh"
    if not env_sh.is_file():
        return None
    for line in env_sh.read_text().splitlines():
        key, eq, value = line.removeprefix("export ").partition("=")
        if eq and key.isidentifier():
            monkeypatch.setenv(key, value)
    return dict(os.environ)


def _engine_digest(image: str) -> str | None:
    podman = shutil.which("podman")
    if podman is None:
        return None
    proc = subprocess.run([podman, "image", "inspect", "--format", "{{.Digest}}", image],
                          capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def test_pin_digest_with_a_local_engine(engine_env):
    digest = _engine_digest(STAND_IN)
    text = f"FROM --platform=$BUILDPLATFORM {STAND_IN} AS build\nFROM {STAND_IN}\nCMD [\"python\"]\n"
    got = findings(BaseImagePin(), text, pin_digest=True)
    if engine_env is not None:
        # setup-engine.sh ran (CI does): the real path is the one under test, not a fallback
        assert digest, f"scripts/setup-engine.sh ran but podman does not know {STAND_IN}"
    if digest is None:
        assert [f.reason for f in got][1] == f"no local engine knows {STAND_IN}; digest not pinned"
        pytest.skip(f"no local engine knows {STAND_IN}: only the 'cannot resolve' path was tested")
    assert digest.startswith("sha256:")
    assert got[0].reason.startswith("--platform:")
    assert fixed(BaseImagePin(), text, pin_digest=True) == (
        f"FROM --platform=$BUILDPLATFORM {STAND_IN} AS build\nFROM {STAND_IN}@{digest}\nCMD [\"python\"]\n"
    )
    # a pin from the table or the user's pins gets its digest in the same edit
    pins = {"python": "3.12-slim-bookworm"}
    assert fixed(BaseImagePin(), "FROM python AS app\n", pin_digest=True, base_image_pins=pins) == (
        f"FROM python:3.12-slim-bookworm@{digest} AS app\n"
    )
    # through the engine: applied, guarded, and settled (a second run finds the digest and stops)
    result = fix_text(text, options=Options(select=frozenset({"DF401"}), pin_digest=True))
    assert f"FROM {STAND_IN}@{digest}\n" in result.fixed and result.withheld is None
    assert fix_text(result.fixed, options=Options(select=frozenset({"DF401"}), pin_digest=True)).fixed == result.fixed


def test_pin_digest_through_the_cli(engine_env, tmp_path):
    digest = _engine_digest(STAND_IN)
    if engine_env is None and digest is None:
        pytest.skip("no engine: covered by test_pin_digest_cannot_resolve")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM {STAND_IN}\nCMD [\"python\"]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "dfix", "--write", "--pin-digest", "--select", "DF401", str(dockerfile)],
        capture_output=True, text=True, check=False, env=os.environ,
    )
    assert proc.returncode == 0, proc.stderr
    assert dockerfile.read_text() == f"FROM {STAND_IN}@{digest}\nCMD [\"python\"]\n"


def test_pin_digest_cannot_resolve(monkeypatch, tmp_path):
    text = "FROM registry.invalid/team/app:1.0\nFROM python:latest\nFROM $BASE\n"
    got = findings(BaseImagePin(), text, pin_digest=True)
    assert got[0].reason == "no local engine knows registry.invalid/team/app:1.0; digest not pinned"
    assert got[0].edits == ()
    # no engine at all reads the same, and the tag is still pinned when its digest is unknown (with an
    # engine set up here, python:3.15-trixie has a digest: that case is test_pin_digest_through_the_cli's)
    monkeypatch.setenv("PATH", str(tmp_path))
    got = findings(BaseImagePin(), text, pin_digest=True)
    assert got[1].edits and got[1].edits[0].text == "3.15-trixie"
    got = findings(BaseImagePin(), f"FROM {STAND_IN}\n", pin_digest=True)
    assert [f.reason for f in got] == [f"no local engine knows {STAND_IN}; digest not pinned"]
    result = fix_text("FROM python\n", options=Options(select=frozenset({"DF401"}), pin_digest=True))
    assert result.fixed == "FROM python:3.15-trixie\n"
    assert [f.reason for f in result.remaining] == ["no local engine knows python:3.15-trixie; digest not pinned"]


def test_docker_digest_is_the_one_of_this_repository(monkeypatch):
    other, mine = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    out = f'["mirror.example.com/python@{other}","python@{mine}"]'
    monkeypatch.setattr(pin_mod, "_inspect", lambda engine, image, template: out)
    assert pin_mod._docker_digest("docker.io/library/python:3.12-slim") == mine
    monkeypatch.setattr(pin_mod, "_inspect", lambda engine, image, template: "[]")
    assert pin_mod._docker_digest("python:3.12-slim") is None
