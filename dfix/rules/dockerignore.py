from __future__ import annotations

import functools
import os
import stat
import time
from pathlib import Path

from ..context.dockerignore import DockerIgnore
from ..context.dockerignore import parsed as parsed_ignore
from ..lazy_regex import lazy_compile
from ..records import record
from .base import FileChange, Rule, Safety

HEADER = "# Written by dfix: keeps the build context small and secrets and caches out of the image."
PYTHON = [
    ("# version control, local environments and caches", [
        ".git/", ".venv/", "venv/", "__pycache__/", "*.pyc", ".pytest_cache/", ".mypy_cache/", ".coverage", "htmlcov/",
    ]),
]
NODE = [("# dependencies and build output made outside the image", ["node_modules/", "dist/"])]
VCS = [("# version control", [".git/"])]
SECRETS = [("# local secrets (the example stays)", [".env", ".env.*", "!.env.example"])]
# Compose reads compose.yaml, compose.yml, docker-compose.yaml and docker-compose.yml (and their overrides)
BUILD = [("# build definitions", ["Dockerfile*", "docker-compose*.yml", "docker-compose*.yaml", "compose*.yml",
                                  "compose*.yaml"])]
OPTIONAL_COMMENT = (
    "# tests/ and docs/ are ignored because nothing copies them; shipping them is a judgment call: "
    "delete these lines to send them to the build"
)
ESSENTIALS = [".git", ".env"]
PYTHON_ESSENTIALS = [".venv"]
_APPENDED = "# added by dfix: never sent to the build"
_WORD = lazy_compile(r"[\w.\-]+")
_DOTENV = lazy_compile(r"\b(dotenv|load_dotenv|python-dotenv|environs|pydantic_settings|env_file)\b")
# `.env.production` and the like, named in the code: loaded by name, so never hidden by `.env.*`
_NAMED_ENV_FILE = lazy_compile(r"""["'](?:\./)?(\.env\.[\w.-]+)["']""")


@record(frozen=True)
class EnvPlan:
    """What the ignore file does with .env: keep it (the app needs it in the image) or leave it out, and the
    comment that says why when the app loads it (a file the app reads is never hidden without a word)."""
    keep: bool
    comment: str | None = None
    named: tuple[str, ...] = ()

    def group(self):
        reinclude = [f"!{name}" for name in self.named if name != ".env.example"]
        if self.keep:
            return [(self.comment or "# local secrets (.env itself stays: the build uses it)",
                     [".env.*", "!.env.example", *reinclude])]
        return [(self.comment or SECRETS[0][0], [*SECRETS[0][1], *reinclude])]


class DockerIgnoreRule(Rule):
    code = "DF601"
    name = "dockerignore"
    hadolint = ()
    title = "no .dockerignore, or one without the essentials"
    safety = Safety.MIGRATION
    what = (
        "Writes a .dockerignore for the detected stack when the build context has none; when it has one, "
        "appends only the missing essentials (.git, .env, .venv) under a comment, never reordering or dropping "
        "a line. Honours `<Dockerfile>.dockerignore`, which BuildKit reads first."
    )
    why = (
        "Without it the whole folder is sent to the builder and `COPY . .` puts .git (history, sometimes "
        "credentials), .env files, local virtualenvs and caches into the image."
    )
    example = ("(no .dockerignore)", ".dockerignore with .git/, .venv/, __pycache__/, .env, ...")
    fix_safety = (
        "No pattern may hide a file a COPY/ADD names (checked with Docker's matching rules); a pattern whose "
        "name the instructions use (a venv on PATH, a dist/ the command runs) is left out, unless a RUN makes "
        "it in the image (uv sync, `python -m venv .venv`), where the context's copy would mix in; .env stays when "
        "the app loads it at run time (python-dotenv, pydantic-settings) and it is a committed file the build copies, "
        "and is left out otherwise (none here, git ignores it, nothing copies it), with a comment saying which and "
        "why; `.env.*` names the code loads are kept; tests/ and docs/ only when nothing copies them. Not written "
        "when the folder does not look like the build context (a COPY source is missing from it)."
    )
    changes = frozenset()
    phase = 1
    about_the_file = True

    def check(self, doc, ctx):
        context = ctx.build_context
        if context is None or not doc.instructions:
            return
        facts = _context_facts(doc, context)
        if facts is None:
            yield self.finding(1, "no .dockerignore", reason="another Dockerfile in this folder cannot be read, and "
                               "a .dockerignore applies to it too")
            return
        sources, used_words, copies_everything, python_base = facts
        missing = next((s for s in sources if not context.exists(s)), None)  # the first is all it says
        if missing is not None:
            if not context.exists(context.ignore_file()):
                yield self.finding(1, "no .dockerignore", reason=f"{missing} is not in this folder, so the build "
                                   "context is somewhere else")
            return
        name = context.ignore_file()
        current = context.read_text(name)
        env = _env_plan(context, sources, used_words, copies_everything)
        if current is None:
            lines = _template(context, python_base, sources, used_words, copies_everything, env)
            yield self.finding(1, "no .dockerignore: the build sends and may copy .git, .env, virtualenvs and caches",
                               files=[FileChange(name, "\n".join(lines) + "\n")])
            return
        ignore = parsed_ignore(current)
        essentials = ESSENTIALS + (PYTHON_ESSENTIALS if _is_python(context, python_base) else [])
        wanted = [e for e in essentials if not ignore.ignored(e) and not (e == ".env" and env.keep)]
        wanted = _filter(wanted, sources, used_words)
        if not wanted:
            return
        eol = "\r\n" if "\r\n" in current else "\n"
        text = current if current.endswith(("\n", "\r")) or not current else current + eol
        appended = [line for e in wanted for line in ([env.comment, e] if e == ".env" and env.comment else [e])]
        text += eol.join([_APPENDED, *appended]) + eol
        yield self.finding(1, f"{name} lets {', '.join(wanted)} into the build", files=[FileChange(name, text)])


def _context_facts(doc, context):
    """What this Dockerfile and every other one in the folder that shares its .dockerignore copy and use
    (sources, words, whether a copy takes everything, whether a base is Python); None if one is unreadable."""
    own = _facts(doc)
    if context.dockerfile is None:
        return _merged([own])
    root = str(context.root)
    if not any(name != context.dockerfile for name, _ in _shared_dockerfiles(root)):
        return _merged([own])  # the common case, a Dockerfile alone in its folder: nothing to stat
    return _folder(root).merged_with(own, context.dockerfile)


# A folder's Dockerfiles as last seen, by folder, and the folder's own stat then. A Dockerfile is rewritten
# by a rename into its folder (dfix writes atomically), which changes the folder's ctime: while that stays
# the same, no sibling has been replaced, and one stat answers for all of them. Without it every pass of
# every Dockerfile stats all the others, and a folder of a thousand Dockerfiles costs a million stats a run.
_FOLDERS: dict[str, _Folder] = {}
_FOLDERS_KEPT = 256
# File times come from a coarse clock (a few ms on Linux, up to 2 s on FAT): a folder changed this recently
# may change again with the same ctime, so its Dockerfiles are stat'ed each time until it has been quiet.
_QUIET_NS = 2_000_000_000


def _folder(root: str) -> _Folder:
    """The folder's Dockerfiles and their facts as they are now."""
    now = time.time_ns()  # before anything is read: a change after it gives the folder a later ctime
    try:
        info = os.stat(root)
        key = (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)
    except OSError:
        info, key = None, None
    folder = _FOLDERS.get(root)
    if folder is not None and key is not None and folder.key == key and folder.settled:
        return folder
    stats = _dockerfile_stats(root)
    if folder is None or folder.stats != stats:
        folder = _Folder(stats)
        _FOLDERS.pop(root, None)
        if len(_FOLDERS) >= _FOLDERS_KEPT:
            del _FOLDERS[next(iter(_FOLDERS))]
        _FOLDERS[root] = folder
    folder.key = key
    # a sibling reached through a symlink may be rewritten elsewhere, leaving this folder as it was; and
    # only a POSIX ctime changes with every rename into the folder (Windows' is the creation time)
    folder.settled = (info is not None and os.name == "posix" and not folder.links
                      and info.st_ctime_ns <= now - _QUIET_NS)
    return folder


def _dockerfile_stats(root: str):
    """(name, path, (ino, mtime, ctime, size)) of each Dockerfile sharing the folder's .dockerignore that is
    a regular file (None for the stat: one that cannot be stat'ed), and whether one is a symlink."""
    out, links = [], False
    for name, path in _shared_dockerfiles(root):
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                links = True
                info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            out.append((name, path, None))
            continue
        if stat.S_ISREG(info.st_mode):
            out.append((name, path, (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)))
    return tuple(out), links


class _Folder:
    """The facts of a folder's Dockerfiles, merged once per version of the folder, so that each Dockerfile
    there gets "all the others" without merging the others again: the folder's cost grows with its size."""

    __slots__ = ("stats", "links", "key", "settled", "names", "unreadable", "sources", "spans", "words",
                 "unique", "everything", "python", "counts")

    def __init__(self, stats) -> None:
        self.stats = stats
        entries, self.links = stats
        self.key, self.settled = None, False
        self.names: dict[str, int] = {}  # a readable sibling's name -> its index in the lists below
        self.unreadable: set[str] = set()
        self.sources: list[str] = []  # every sibling's sources, in name order
        self.spans: list[tuple[int, int]] = []  # where each sibling's lie in them
        facts = []
        for name, path, version in entries:
            fact = None if version is None else _sibling_facts(path, *version)
            if fact is None:
                self.unreadable.add(name)
                continue
            self.names[name] = len(facts)
            self.spans.append((len(self.sources), len(self.sources) + len(fact[0])))
            self.sources.extend(fact[0])
            facts.append(fact)
        # the words only one sibling uses: the ones the others lack when that sibling asks
        counts: dict[str, int] = {}
        for fact in facts:
            for word in fact[1]:
                counts[word] = counts.get(word, 0) + 1
        self.words = frozenset(counts)
        self.unique = [frozenset(w for w in fact[1] if counts[w] == 1) for fact in facts]
        self.everything = [bool(fact[2]) for fact in facts]
        self.python = [bool(fact[3]) for fact in facts]
        self.counts = (sum(self.everything), sum(self.python))

    def merged_with(self, own, dockerfile: str):
        """_merged([own, <the facts of every other sibling>]), as if merged afresh; None if another sibling
        is unreadable."""
        if self.unreadable and (len(self.unreadable) > 1 or dockerfile not in self.unreadable):
            return None
        index = self.names.get(dockerfile)
        if len(self.names) - (index is not None) == 0:
            return _merged([own])
        sources = list(own[0])
        words, unique = own[1], frozenset()
        everything, python = self.counts
        if index is None:
            sources += self.sources
        else:
            start, end = self.spans[index]
            sources += self.sources[:start]
            sources += self.sources[end:]
            unique = self.unique[index]
            everything -= self.everything[index]
            python -= self.python[index]
        if unique <= words <= self.words:
            words = self.words  # the usual case: the others' words and its own are the folder's
        else:
            words = words | (self.words - unique)
        return sources, words, own[2] or everything > 0, own[3] or python > 0


# Facts, not documents, and room for a large folder: with hundreds of Dockerfiles sharing one folder, a
# cache smaller than the folder evicts each sibling before it is asked again, and every file re-reads all.
@functools.lru_cache(maxsize=8192)
def _sibling_facts(path: str, ino: int, mtime_ns: int, ctime_ns: int, size: int):
    """A sibling Dockerfile read once per version (a rename gives it another inode and ctime)."""
    from ..syntax import DockerfileSyntaxError, tokenize

    try:
        text = Path(path).read_bytes().decode("utf-8")
        return _FACTS_BY_TEXT.get(text) or _facts(tokenize(text))
    except (OSError, UnicodeDecodeError, DockerfileSyntaxError):
        return None


# A Dockerfile's facts by its text: each pass asks again, mostly of a text no fix changed, and a folder's
# siblings are read as the texts their own first passes have.
_FACTS_BY_TEXT: dict[str, tuple] = {}
_FACTS_KEPT = 4096


def _facts(doc):
    fact = _FACTS_BY_TEXT.get(doc.text)
    if fact is None:
        sources, words, everything = _copy_facts([doc])
        fact = tuple(sources), words, everything, any("python" in s.base_expanded for s in doc.stages)
        if len(_FACTS_BY_TEXT) >= _FACTS_KEPT:
            del _FACTS_BY_TEXT[next(iter(_FACTS_BY_TEXT))]
        _FACTS_BY_TEXT[doc.text] = fact
    return fact


def _merged(facts):
    sources = [source for fact in facts for source in fact[0]]
    words = frozenset().union(*(fact[1] for fact in facts)) if len(facts) > 1 else facts[0][1]
    return sources, words, any(fact[2] for fact in facts), any(fact[3] for fact in facts)


@functools.lru_cache(maxsize=256)
def _names_in(root: str) -> tuple[str, ...]:
    """A folder's entry names in the order the system lists them (the order glob yields them too), read
    once for every question this rule asks about the folder. Raises OSError as os.scandir does."""
    with os.scandir(root) as entries:
        return tuple(entry.name for entry in entries)


@functools.lru_cache(maxsize=256)
def _dockerfiles_in(root: str) -> tuple[str, ...]:
    """The Dockerfile names in a folder, listed once: every Dockerfile there asks."""
    from ..files import is_dockerfile_name

    try:
        return tuple(sorted(name for name in _names_in(root) if is_dockerfile_name(name)))
    except OSError:
        return ()


@functools.lru_cache(maxsize=256)
def _shared_dockerfiles(root: str) -> tuple[tuple[str, str], ...]:
    """(name, path) of the Dockerfiles in a folder that read its .dockerignore (not their own
    `<name>.dockerignore`), in name order; listed once, as _names_in is."""
    names = _dockerfiles_in(root)
    if not names:
        return ()
    own_ignores = set(_names_in(root))
    return tuple((name, os.path.join(root, name)) for name in names if f"{name}.dockerignore" not in own_ignores)


def _python_files_in(root: str) -> list[Path]:
    """What Path(root).glob("*.py") yields, from the folder's listing: names ending in .py, in listing
    order; nothing for a folder that is not one or cannot be read."""
    if not os.path.isdir(root):
        return []
    try:
        names = _names_in(root)
    except PermissionError:
        return []
    return [Path(root, name) for name in names if name.endswith(".py")]


def _copy_facts(docs):
    """Context sources COPY/ADD name, the words other instructions use, and whether a copy takes everything."""
    sources: list[str] = []
    words: set[str] = set()
    made: set[str] = set()
    everything = False
    read: list[str] = []  # the logical lines whose words count, read in one findall: "\n" is no word's
    for ins in (i for doc in docs for i in doc.instructions):
        if ins.keyword in ("COPY", "ADD") and not ins.flag("from") and not ins.heredocs:
            args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
            for source in args[:-1]:
                if source in (".", "./", "*"):
                    everything = True
                elif "://" not in source and not source.startswith("git@") and "$" not in source:
                    if not any(ch in source for ch in "*?["):
                        sources.append(source.lstrip("/").rstrip("/") or ".")
        elif ins.keyword not in ("COPY", "ADD", "FROM"):
            read.append(ins.logical)
            if ins.keyword == "RUN":
                made.update(_environments_made(ins.logical))
    words.update(_WORD.findall("\n".join(read)))
    # A virtualenv the image makes itself (uv sync, python -m venv .venv) is named by the command, yet the
    # context's own copy must stay out: `COPY . .` would mix a host's environment into the image's.
    words -= made
    # frozen: _filter's cache key, hashed once however often the pass asks
    return sources, frozenset(words), everything


# Option words are matched as `-` and any non-space run, one way only: patterns where `--x` could split
# two ways backtrack exponentially on a RUN with many options and no match (every RUN is read in bulk).
_UV_SYNC = lazy_compile(r"\buv\s+(?:-\S*\s+)*sync\b")
_POETRY_IN_PROJECT = lazy_compile(r"virtualenvs\.in-project\s+true|POETRY_VIRTUALENVS_IN_PROJECT")
_VENV_COMMAND = lazy_compile(r"\b(?:python[\d.]*\s+-m\s+venv|uv\s+venv|virtualenv)((?:\s+-\S*)*)(?:\s+([^\s;&|-]\S*))?")


def _environments_made(run: str) -> set[str]:
    """Names of the virtualenvs a RUN creates in its working directory, where `COPY . .` would also put the
    context's own (an absolute target such as /opt/venv is elsewhere, and tells nothing about the context)."""
    made = set()
    if "uv" not in run and "venv" not in run and "virtualenv" not in run and "poetry" not in run:
        return made  # each pattern below names one of these: most RUNs are not read further
    if _UV_SYNC.search(run) or ("poetry" in run and _POETRY_IN_PROJECT.search(run)):
        made.add(".venv")
    for match in _VENV_COMMAND.finditer(run):
        target = match.group(2) or (".venv" if "uv" in match.group(0).split()[0] else None)
        if target and not target.startswith(("/", "$", "~")) and "/" not in target.rstrip("/"):
            made.add(target.rstrip("/"))
    return made


def _env_plan(context, sources, used_words, copies_everything) -> EnvPlan:
    """Keep .env only where leaving it out breaks the app: the app loads it at run time and the image gets
    it from this folder as a committed file. Elsewhere it is left out, and said so if the app loads it."""
    # variants a RUN or the command names (`cp .env.production .env`) are used by the build: `.env.*` spares them
    used = tuple(sorted(w for w in used_words if w.startswith(".env.")))
    if ".env" in used_words:
        return EnvPlan(keep=True, named=used)  # the Dockerfile itself uses it
    reader, named = _context_loads_dotenv(str(context.root))
    named = tuple(sorted({*named, *used}))
    if reader is None:
        return EnvPlan(keep=False)
    if not context.exists(".env"):
        why = "there is none here"
    elif not copies_everything and ".env" not in sources:
        why = "nothing copies it"
    elif _git_ignores(context.root, ".env"):
        why = "git ignores it, so it is a local file a clean checkout does not have"
    else:
        return EnvPlan(keep=True, named=named, comment=(
            f"# .env stays: {reader} loads it at run time and it is committed, so it goes into the image; "
            "keep secrets out of it (pass them with --env-file at run time)"))
    return EnvPlan(keep=False, named=named, comment=(
        f"# .env is left out though {reader} loads one when present ({why}): pass its values at run time "
        "(--env-file), or delete the .env line to ship it"))


@functools.lru_cache(maxsize=256)
def _context_loads_dotenv(root: str) -> tuple[str | None, tuple[str, ...]]:
    """The first file that shows the app loads a .env (None if none does), and the .env.* names the code
    loads. Read once per folder (no fix rewrites these files to add dotenv): every pass and Dockerfile asks."""
    base = Path(root)
    reader = None
    for rel in ("requirements.txt", "pyproject.toml", "Pipfile"):
        try:
            if _DOTENV.search((base / rel).read_text(encoding="utf-8", errors="ignore")):
                reader = rel
                break
        except OSError:
            continue
    named: set[str] = set()
    for path in _python_files_in(root)[:50] + list(base.glob("*/*.py"))[:200]:
        try:
            text = path.read_text(encoding="utf-8", errors="ignore")
        except OSError:
            continue
        if _DOTENV.search(text):
            named.update(_NAMED_ENV_FILE.findall(text))
            if reader is None or not reader.endswith(".py"):
                reader = path.relative_to(base).as_posix()  # the code that loads it says more than a requirement
    return reader, tuple(sorted(named))


def _git_ignores(root: Path, name: str) -> bool:
    """Whether a .gitignore in the folder or above it, up to the repository's top, ignores this top-level file
    (patterns without a slash match at any depth, as git reads them)."""
    folder, rel = Path(root).resolve(), name
    for _ in range(8):
        try:
            text = (folder / ".gitignore").read_text(encoding="utf-8", errors="ignore")
            lines = [line.strip() for line in text.splitlines()]
        except OSError:
            lines = []
        lines = [line for line in lines if line and not line.startswith("#")]
        anywhere = [line for line in lines if "/" not in line.rstrip("/")]
        anchored = [line.lstrip("/") for line in lines if "/" in line.rstrip("/")]
        if DockerIgnore(anywhere).ignored(name) or DockerIgnore(anchored).ignored(rel):
            return True
        if (folder / ".git").exists() or folder.parent == folder:
            return False
        rel = f"{folder.name}/{rel}"
        folder = folder.parent
    return False


def _filter(patterns: list[str], sources: list[str], used_words: set[str]) -> list[str]:
    return list(_filter_cached(tuple(patterns), tuple(sources), frozenset(used_words)))


@functools.lru_cache(maxsize=1024)
def _filter_cached(patterns: tuple[str, ...], sources: tuple[str, ...], used_words: frozenset[str]) -> tuple[str, ...]:
    """Drop patterns that would hide a named source, or whose name the instructions use."""
    kept = []
    for pattern in patterns:
        if pattern.startswith("!"):
            kept.append(pattern)
            continue
        bare = pattern.strip("/").replace("*", "")
        if bare and bare.strip(".") and bare in used_words:
            continue
        single = DockerIgnore([pattern])
        if any(single.ignored(source) for source in sources):
            continue
        kept.append(pattern)
    return tuple(kept)


def _template(context, python_base, sources, used_words, copies_everything, env) -> list[str]:
    groups = []
    is_node = context.exists("package.json")
    if _is_python(context, python_base) or not is_node:
        groups += PYTHON
    else:
        groups += VCS
    if is_node:
        groups += NODE
    groups += env.group()
    groups += BUILD
    lines = [HEADER]
    for comment, patterns in groups:
        kept = _filter(patterns, sources, used_words)
        if [p for p in kept if not p.startswith("!")]:
            lines += [comment, *kept]
    optional = [f"{d}/" for d in ("tests", "docs") if context.exists(d) and not copies_everything
                and not any(s == d or s.startswith(d + "/") for s in sources)]
    optional = _filter(optional, sources, used_words)
    if optional:
        lines += [OPTIONAL_COMMENT, *optional]
    return lines


def _is_python(context, python_base: bool) -> bool:
    # the base image first: it needs no disk
    return python_base or \
        any(context.exists(f) for f in ("requirements.txt", "pyproject.toml", "setup.py", "Pipfile")) or \
        _has_python_files(str(context.root))


@functools.lru_cache(maxsize=256)
def _has_python_files(root: str) -> bool:
    return bool(_python_files_in(root))
