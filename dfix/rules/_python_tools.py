"""The Python packaging tools a Dockerfile installs to install its dependencies (poetry, pipenv, uv), and
what they bring with them.

A builder stage keeps the tool: the runtime gets only the environment it filled. What the tool pulled
into the system site-packages then leaves the final image too, so an app that imports one of those
without declaring it worked by accident before and would fail after; the conversion checks for that.
"""

from __future__ import annotations

import re

from ..lazy_regex import lazy_compile

# distributions that install one of the tools (and plugins of it), as `pip install` names them
TOOL_DISTRIBUTIONS = {
    "poetry": "poetry", "poetry-core": "poetry", "poetry-plugin-export": "poetry", "poetry-plugin-bundle": "poetry",
    "pipenv": "pipenv", "uv": "uv",
}
# installed next to a tool in the same `pip install`, they change nothing the runtime uses from that RUN
TOOL_COMPANIONS = frozenset({"pip", "setuptools", "wheel"})
# the programs each tool puts on PATH
TOOL_PROGRAMS = {"poetry": ("poetry",), "pipenv": ("pipenv",), "uv": ("uv", "uvx")}
# images that ship the uv binary, copied in with COPY --from
UV_IMAGE = lazy_compile(r"^(ghcr\.io/)?astral-sh/uv(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$")

# Import name -> distributions that provide it, for what poetry 1.8-2.x and pipenv put in site-packages
# (their requirements and those of their requirements). uv is one static binary and brings nothing.
TOOL_DEPENDENCY_IMPORTS: dict[str, dict[str, tuple[str, ...]]] = {
    "poetry": {
        "poetry": ("poetry", "poetry-core"), "build": ("build",), "cachecontrol": ("cachecontrol",),
        "cleo": ("cleo",), "crashtest": ("crashtest",), "dulwich": ("dulwich",), "fastjsonschema": ("fastjsonschema",),
        "installer": ("installer",), "keyring": ("keyring",), "packaging": ("packaging",), "pexpect": ("pexpect",),
        "pkginfo": ("pkginfo",), "platformdirs": ("platformdirs",), "pyproject_hooks": ("pyproject-hooks",),
        "requests": ("requests",), "requests_toolbelt": ("requests-toolbelt",), "shellingham": ("shellingham",),
        "tomlkit": ("tomlkit",), "trove_classifiers": ("trove-classifiers",), "virtualenv": ("virtualenv",),
        "certifi": ("certifi",), "charset_normalizer": ("charset-normalizer",), "idna": ("idna",),
        "urllib3": ("urllib3",), "msgpack": ("msgpack",), "filelock": ("filelock",), "distlib": ("distlib",),
        "rapidfuzz": ("rapidfuzz",), "jaraco": ("jaraco-classes", "jaraco-functools", "jaraco-context"),
        "more_itertools": ("more-itertools",), "importlib_metadata": ("importlib-metadata",), "zipp": ("zipp",),
        "secretstorage": ("secretstorage",), "jeepney": ("jeepney",), "cryptography": ("cryptography",),
        "cffi": ("cffi",), "pycparser": ("pycparser",), "ptyprocess": ("ptyprocess",),
        "backports": ("backports-tarfile",), "findpython": ("findpython",), "pbs_installer": ("pbs-installer",),
        "zstandard": ("zstandard",), "httpx": ("httpx",), "httpcore": ("httpcore",), "anyio": ("anyio",),
        "sniffio": ("sniffio",), "h11": ("h11",),
    },
    "pipenv": {
        "pipenv": ("pipenv",), "certifi": ("certifi",), "packaging": ("packaging",),
        "setuptools": ("setuptools",), "pkg_resources": ("setuptools",), "virtualenv": ("virtualenv",),
        "distlib": ("distlib",), "filelock": ("filelock",), "platformdirs": ("platformdirs",),
    },
    "uv": {},
}


def distribution_name(operand: str) -> str | None:
    """The canonical distribution name of a `pip install` operand (`poetry==1.8.4`, `uv[x]>=0.5`)."""
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([<>=!~;@ ]|$)", operand)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None


def undeclared_tool_imports(tool: str, imported: frozenset[str], declared: set[str]) -> list[str]:
    """Modules the app imports that only the tool's own requirements provide."""
    out = []
    for module, distributions in TOOL_DEPENDENCY_IMPORTS.get(tool, {}).items():
        if module in imported and not any(d in declared for d in distributions):
            out.append(module)
    return sorted(out)
