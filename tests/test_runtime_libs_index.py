"""DF403's per-release package tables against Debian's real package indexes (issue #5).

Every runtime package DF403 can write into a runtime stage must be a real package of the release it is
written for (not only a name another package provides: trixie's libssl3t64 provides `libssl3` on amd64,
but bookworm has no libssl3t64), and it must be the library its -dev package depends on, directly or
through the -dev packages that one pulls in. The -dev names the table is keyed by must be installable in
each release it has an entry for, and every build-only name must exist in some release.

Reads `dists/<release>/main/binary-amd64/Packages.xz` from Debian's mirror (DFIX_DEBIAN_MIRROR, default
deb.debian.org), so it needs the network: marker `build`, like the tests that need the engine.
Alpine's tables are not checked here: its mirror is not reachable from the machines these run on.
"""

from __future__ import annotations

import lzma
import os
import re
import urllib.request
from dataclasses import dataclass, field

import pytest

from dfix.rules._runtime_libs import DEBIAN_BUILD_ONLY, DEBIAN_RELEASES, DEBIAN_RUNTIME, is_build_only

MIRROR = os.environ.get("DFIX_DEBIAN_MIRROR", "http://deb.debian.org/debian").rstrip("/")
# packages a -dev package pulls in to complete its headers: followed when looking for the runtime library
_DEV_LIKE = re.compile(r"-(dev|multidev|dev-compat)$")

pytestmark = pytest.mark.build


@dataclass
class Index:
    release: str
    depends: dict[str, set[str]] = field(default_factory=dict)  # real package -> names it depends on
    provided: dict[str, set[str]] = field(default_factory=dict)  # virtual name -> real packages providing it

    def installable(self, name: str) -> bool:
        """`apt-get install NAME` finds it: a real package, or a name exactly one package provides."""
        return name in self.depends or len(self.provided.get(name, ())) == 1

    def libraries_of(self, dev: str) -> set[str]:
        """Every package the -dev package, and the -dev packages it pulls in, depend on."""
        todo, seen, found = [dev, *self.provided.get(dev, ())], set(), set()
        while todo:
            name = todo.pop()
            if name in seen or name not in self.depends:
                continue
            seen.add(name)
            for dep in self.depends[name]:
                found.add(dep)
                if _DEV_LIKE.search(dep) or dep in self.provided:
                    todo.append(dep)
        return found


def _names(value: str) -> set[str]:
    """Package names of a Depends/Provides field: alternatives, versions and arch qualifiers dropped."""
    return {alt.split()[0].split(":")[0] for alt in re.split(r"[,|]", value) if alt.strip()}


def read_index(release: str) -> Index:
    url = f"{MIRROR}/dists/{release}/main/binary-amd64/Packages.xz"
    with urllib.request.urlopen(url, timeout=120) as response:
        text = lzma.decompress(response.read()).decode("utf-8")
    index = Index(release)
    for stanza in text.split("\n\n"):
        fields = dict(re.findall(r"^(Package|Depends|Pre-Depends|Provides): (.*)$", stanza, re.M))
        name = fields.get("Package")
        if not name:
            continue
        index.depends[name] = _names(fields.get("Depends", "")) | _names(fields.get("Pre-Depends", ""))
        for virtual in _names(fields.get("Provides", "")):
            index.provided.setdefault(virtual, set()).add(name)
    return index


@pytest.fixture(scope="module")
def indexes() -> dict[str, Index]:
    return {release: read_index(release) for release in DEBIAN_RELEASES}


def test_the_indexes_tell_the_releases_apart(indexes):
    # what makes the table per release: the 64-bit time_t transition renamed libssl3 in trixie
    bookworm, trixie = indexes["bookworm"], indexes["trixie"]
    assert "libssl3" in bookworm.depends and "libssl3t64" not in bookworm.depends
    assert "libssl3t64" in trixie.depends and "libssl3" not in trixie.depends
    assert trixie.provided["libssl3"] == {"libssl3t64"}  # a provided name is not a runtime package
    assert "libssl3" in bookworm.libraries_of("libssl-dev") and "libssl3t64" in trixie.libraries_of("libssl-dev")
    assert "libldap-2.5-0" in bookworm.libraries_of("libldap2-dev")  # through libldap-dev


@pytest.mark.parametrize("release", DEBIAN_RELEASES)
def test_runtime_packages_are_what_the_dev_packages_link(release, indexes):
    index = indexes[release]
    wrong = []
    for dev, per_release in DEBIAN_RUNTIME.items():
        runtime = per_release.get(release)
        if runtime is None:
            continue
        if not index.installable(dev):
            wrong.append(f"{dev}: not in {release}")
        elif runtime not in index.depends:
            wrong.append(f"{dev} -> {runtime}: no package {runtime} in {release}")
        elif runtime not in index.libraries_of(dev):
            libs = sorted(d for d in index.libraries_of(dev) if d.startswith("lib") and not _DEV_LIKE.search(d))
            wrong.append(f"{dev} -> {runtime}: {dev} does not depend on it in {release} (it does on {libs})")
        if is_build_only(runtime, alpine=False):
            wrong.append(f"{dev} -> {runtime}: the runtime package is itself build-only")
    assert not wrong, "\n".join(wrong)


def test_build_only_names_exist(indexes):
    missing = [name for name in sorted(DEBIAN_BUILD_ONLY)
               if not any(index.installable(name) for index in indexes.values())]
    assert not missing, missing
