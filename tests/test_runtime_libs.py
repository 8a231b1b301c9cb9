"""Which Debian release DF403 names runtime libraries for; the names themselves are checked against
Debian's package indexes in test_runtime_libs_index.py (needs the network)."""

from __future__ import annotations

import pytest

from dfix.rules._runtime_libs import debian_release, runtime_counterpart


@pytest.mark.parametrize("image, release", [
    ("python:3.12-slim", "trixie"),  # the floating tags are trixie since Aug 2025
    ("python:latest", "trixie"),
    ("python", "trixie"),
    ("python:3.11-bookworm", "bookworm"),
    ("docker.io/library/python:3.12-slim-trixie@sha256:" + "0" * 64, "trixie"),
    ("pypy:3.10-bullseye", "bullseye"),
    ("debian:stable-slim", "trixie"),
    # a release the tables do not cover: not the default's names (libssl3t64 does not exist in buster)
    ("python:3.9-slim-buster", None),
    ("python:3.8-stretch", None),
    ("python:3.14-slim-forky", None),
    ("python:3.12-alpine3.20", None),
    ("debian:buster-slim", None),
])
def test_debian_release(image, release):
    assert debian_release(image) == release


def test_runtime_counterpart_per_release():
    assert runtime_counterpart("libssl-dev", alpine=False, release="bookworm") == "libssl3"
    assert runtime_counterpart("libssl-dev", alpine=False, release="trixie") == "libssl3t64"
    assert runtime_counterpart("libssl-dev", alpine=False, release=None) is False
    assert runtime_counterpart("gcc", alpine=False, release="trixie") is None


def test_full_image_libraries_have_a_runtime_package_in_every_release():
    """DF402 names the full image's libraries by the -dev packages of DF403's table: each must resolve, so a
    distribution in SOURCE_BUILD_HEADERS never silently loses a library on one release."""
    from dfix.rules._runtime_libs import DEBIAN_RELEASES, SOURCE_BUILD_HEADERS, full_image_runtime_libraries

    for name, devs in SOURCE_BUILD_HEADERS.items():
        for release in DEBIAN_RELEASES:
            assert len(full_image_runtime_libraries({name}, release)) == len({
                runtime_counterpart(d, False, release) for d in devs}), (name, release)
            assert all(runtime_counterpart(d, False, release) for d in devs), (name, release)
    assert full_image_runtime_libraries({"psycopg2", "lxml", "flask"}, "bookworm") == ["libxml2", "libxslt1.1", "libpq5"]
    assert full_image_runtime_libraries({"pillow"}, "trixie")[:2] == ["libjpeg62-turbo", "zlib1g"]
    assert full_image_runtime_libraries({"psycopg2"}, None) == []
