"""Which OS packages only build, and what a -dev package leaves behind at run time, per distribution release.

Debian's 64-bit time_t transition renamed many libraries in trixie (libssl3 -> libssl3t64), hence the
per-release entries. A package missing from these tables is never guessed: the conversion is reported.
Every Debian name is checked against the release's package index (tests/test_runtime_libs_index.py: the
runtime package exists and is what the -dev package depends on); the Alpine names are not checked there.
"""

from __future__ import annotations

from .. import base_images
from ..lazy_regex import lazy_compile

DEBIAN_RELEASES = ("bullseye", "bookworm", "trixie")
# releases python:* tags have named (or will) that the tables do not cover: never the default's names
OTHER_DEBIAN = ("jessie", "stretch", "buster", "forky", "sid")

DEBIAN_BUILD_ONLY = frozenset({
    "build-essential", "gcc", "g++", "cpp", "make", "cmake", "ninja-build", "meson", "pkg-config", "pkgconf",
    "autoconf", "automake", "libtool", "gfortran", "swig", "bison", "flex", "cargo", "rustc", "python3-dev",
    "python-dev", "python3-pip", "libc6-dev", "libc-dev", "linux-libc-dev", "dpkg-dev", "patch",
})
ALPINE_BUILD_ONLY = frozenset({
    "build-base", "gcc", "g++", "make", "cmake", "musl-dev", "linux-headers", "libc-dev", "pkgconf", "autoconf",
    "automake", "libtool", "gfortran", "cargo", "rust", "python3-dev", "patch",
})

def _same(name: str) -> dict[str, str]:
    return {r: name for r in DEBIAN_RELEASES}


DEBIAN_RUNTIME = {
    "libpq-dev": _same("libpq5"),
    "libjpeg-dev": _same("libjpeg62-turbo"),
    "libjpeg62-turbo-dev": _same("libjpeg62-turbo"),
    "zlib1g-dev": _same("zlib1g"),
    "libffi-dev": {"bullseye": "libffi7", "bookworm": "libffi8", "trixie": "libffi8"},
    "libssl-dev": {"bullseye": "libssl1.1", "bookworm": "libssl3", "trixie": "libssl3t64"},
    "default-libmysqlclient-dev": _same("libmariadb3"),
    "libmariadb-dev": _same("libmariadb3"),
    "libmariadb-dev-compat": _same("libmariadb3"),
    "libxml2-dev": _same("libxml2"),
    "libxslt1-dev": _same("libxslt1.1"),
    "libpng-dev": {"bullseye": "libpng16-16", "bookworm": "libpng16-16", "trixie": "libpng16-16t64"},
    "libfreetype6-dev": _same("libfreetype6"),
    "libfreetype-dev": _same("libfreetype6"),
    "libtiff-dev": {"bullseye": "libtiff5", "bookworm": "libtiff6", "trixie": "libtiff6"},
    "libtiff5-dev": {"bullseye": "libtiff5", "bookworm": "libtiff6", "trixie": "libtiff6"},
    "libwebp-dev": {"bullseye": "libwebp6", "bookworm": "libwebp7", "trixie": "libwebp7"},
    "liblcms2-dev": _same("liblcms2-2"),
    "libopenjp2-7-dev": _same("libopenjp2-7"),
    "libsqlite3-dev": _same("libsqlite3-0"),
    "libbz2-dev": _same("libbz2-1.0"),
    "liblzma-dev": _same("liblzma5"),
    "libyaml-dev": _same("libyaml-0-2"),
    "libgeos-dev": {"bullseye": "libgeos-c1v5", "bookworm": "libgeos-c1v5", "trixie": "libgeos-c1t64"},
    "libsasl2-dev": _same("libsasl2-2"),
    "libldap2-dev": {"bullseye": "libldap-2.4-2", "bookworm": "libldap-2.5-0", "trixie": "libldap2"},
    "libkrb5-dev": _same("libkrb5-3"),
    "unixodbc-dev": {"bullseye": "libodbc1", "bookworm": "libodbc2", "trixie": "libodbc2"},
    "libzmq3-dev": _same("libzmq5"),
    "libsnappy-dev": _same("libsnappy1v5"),
    "libmagic-dev": {"bullseye": "libmagic1", "bookworm": "libmagic1", "trixie": "libmagic1t64"},
    "libcurl4-openssl-dev": {"bullseye": "libcurl4", "bookworm": "libcurl4", "trixie": "libcurl4t64"},
    "libgmp-dev": _same("libgmp10"),
    "libcairo2-dev": _same("libcairo2"),
}

# The -dev packages of the full python image (buildpack-deps) a distribution builds against from source,
# or loads at run time: on the full image they are simply there, so a runtime moved to the slim image needs
# their runtime libraries (DEBIAN_RUNTIME) even where the Dockerfile installed none of them. Canonical
# names; Pillow takes every image library its build finds, and a wheel that bundles its own costs only
# the few megabytes of a library installed in vain.
SOURCE_BUILD_HEADERS = {
    "psycopg2": ("libpq-dev",),
    "psycopg": ("libpq-dev",),  # pure Python: loads libpq itself, unless [binary]
    "psycopg-c": ("libpq-dev",),
    "mysqlclient": ("default-libmysqlclient-dev",),
    "mariadb": ("libmariadb-dev",),
    "lxml": ("libxml2-dev", "libxslt1-dev"),
    "pillow": ("libjpeg-dev", "zlib1g-dev", "libtiff-dev", "libfreetype-dev", "liblcms2-dev", "libopenjp2-7-dev",
               "libwebp-dev"),
    "python-ldap": ("libldap2-dev", "libsasl2-dev"),
    "pyyaml": ("libyaml-dev",),
    "cffi": ("libffi-dev",),
    "pycurl": ("libcurl4-openssl-dev", "libssl-dev"),
    "pyodbc": ("unixodbc-dev",),
    "python-magic": ("libmagic-dev",),
    "pyzmq": ("libzmq3-dev",),
    "python-snappy": ("libsnappy-dev",),
    "gmpy2": ("libgmp-dev",),
    "pycairo": ("libcairo2-dev",),
    "shapely": ("libgeos-dev",),
    "gssapi": ("libkrb5-dev",),
    "pykerberos": ("libkrb5-dev",),
}


def full_image_runtime_libraries(distributions, release: str | None) -> list[str]:
    """The Debian runtime packages the distributions need once the full image's -dev packages are gone."""
    out: list[str] = []
    for name in sorted(distributions):
        for dev in SOURCE_BUILD_HEADERS.get(name, ()):
            runtime = runtime_counterpart(dev, False, release)
            if runtime and runtime not in out:
                out.append(runtime)
    return out


ALPINE_RUNTIME = {
    "postgresql-dev": "libpq", "libpq-dev": "libpq", "jpeg-dev": "libjpeg-turbo", "libjpeg-turbo-dev": "libjpeg-turbo",
    "zlib-dev": "zlib", "libffi-dev": "libffi", "openssl-dev": "libssl3", "libxml2-dev": "libxml2",
    "libxslt-dev": "libxslt", "mariadb-dev": "mariadb-connector-c", "mariadb-connector-c-dev": "mariadb-connector-c",
    "freetype-dev": "freetype", "lcms2-dev": "lcms2", "libwebp-dev": "libwebp", "tiff-dev": "tiff",
    "openjpeg-dev": "openjpeg", "yaml-dev": "yaml", "geos-dev": "geos", "sqlite-dev": "sqlite-libs",
    "libpng-dev": "libpng", "bzip2-dev": "libbz2", "xz-dev": "xz-libs",
}

_DEV = lazy_compile(r"-dev(:\w+)?$")


def debian_release(image: str) -> str | None:
    """The Debian release an image is built on: its tag's codename, else the base-image table's release."""
    return base_images.debian_release(image, DEBIAN_RELEASES, OTHER_DEBIAN)


def is_build_only(package: str, alpine: bool) -> bool:
    name = package.split("=")[0]
    if alpine:
        return name in ALPINE_BUILD_ONLY or bool(_DEV.search(name))
    return name in DEBIAN_BUILD_ONLY or bool(_DEV.search(name))


def runtime_counterpart(package: str, alpine: bool, release: str | None) -> str | None | bool:
    """The runtime package a build-only one needs; None if none is needed; False if unknown."""
    name = package.split("=")[0]
    if alpine:
        if name in ALPINE_BUILD_ONLY:
            return None
        return ALPINE_RUNTIME.get(name, False)
    if name in DEBIAN_BUILD_ONLY:
        return None
    table = DEBIAN_RUNTIME.get(name)
    if table is None or release is None:
        return False
    return table.get(release, False)
