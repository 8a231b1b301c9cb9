from __future__ import annotations

import posixpath

from ..lazy_regex import lazy_compile
from ..syntax import Edit
from ..syntax.command import shell_text_of, without_final_exec
from ..syntax.packages import package_command
from ..syntax.shell import script_of
from .apt_lists_cleanup import _cleanup_text as _appended
from .. import base_images
from ._runtime_writes import (
    PYTHON, entry_script, final_env, read_context_script, runtime_write_handovers, runtime_writes_blocked, synced_env,
    uv_cache_dirs, within,
)
from .base import Rule, Safety

DEFAULT_UID = 10001
_ROOT = lazy_compile(r"^(root|0)(:.*)?$")
_ROOT_AT_START = lazy_compile(r"\b(gosu|su-exec|setpriv|runuser|chroot|sudo|su)\b|\bchown\b|\bchmod\b|\bsysctl\b|\bmount\b")
# Servers that expect to start as root (privileged ports, switching to their own user, system folders).
_ROOT_DAEMONS = frozenset({
    "nginx", "httpd", "httpd-foreground", "apache2", "apache2ctl", "apachectl", "apache2-foreground", "sshd",
    "cron", "crond", "supervisord", "systemd", "init", "rsyslogd", "postgres", "mysqld", "mariadbd", "mongod",
    "vsftpd", "named", "dnsmasq", "squid", "haproxy", "php-fpm", "caddy", "traefik", "tini-root", "unitd",
})
_SHELLS_AND_REPLS = frozenset({
    "sh", "bash", "zsh", "ash", "dash", "python", "python3", "python2", "ipython", "irb", "node", "jshell",
    "pwsh", "iex", "ghci", "erl", "php", "perl", "R", "julia",
})
_ROOT_ONLY = frozenset({"apt-get", "apt", "apk", "dnf", "yum", "microdnf", "useradd", "adduser", "groupadd", "addgroup"})
_PORT_FLAG = lazy_compile(r"(?:--port[= ]|-p[= ]|--bind[= ]|-b[= ]|:)(\d{1,5})\b")


class NonRootUser(Rule):
    code = "DF302"
    name = "non-root-user"
    hadolint = ("DL3002",)
    title = "the final image runs as root"
    safety = Safety.MIGRATION
    what = (
        "Creates a system group and user with a numeric GID and UID (10001) with the base image's own tools "
        "(groupadd/useradd on Debian, Ubuntu and UBI/Fedora, with shadow-utils installed first by the base's own "
        "microdnf, dnf or yum on minimal RHEL-family images that leave it out; addgroup/adduser on Alpine) right after FROM, "
        "where the layer stays cached, gives it the app's folder and VOLUME folders (not recursively), hands "
        "it the app files with `COPY --chown=` instead of a `chown -R` layer, and switches to it with a numeric "
        "`USER 10001` after the last instruction that writes the filesystem. What the container writes again "
        "at start is handed over in the RUN that made it, so no layer copies it: the environment a `uv run` "
        "(without --no-sync or UV_NO_SYNC) syncs at start (`&& chown -R 10001:10001 /app/.venv` where it is "
        "created, `&& find /app/.venv ! -user 10001 -exec chown -h 10001:10001 {} +` in a later RUN that adds "
        "to it, `COPY --chown` when it comes from another stage, the ENV's UV_CACHE_DIR created for the user); "
        "folders `mkdir` makes in the app's folder (uploads, instance, media); and what Django's management "
        "commands (migrate: a SQLite file; collectstatic) write there at build time."
    )
    why = (
        "A process running as root in a container is root on the files it can reach; a break-out or a "
        "mounted host path turns an app bug into a host compromise. A numeric USER is the only kind "
        "Kubernetes' runAsNonRoot can verify."
    )
    example = (
        "FROM python:3.12-slim\nWORKDIR /app\nRUN pip install flask\nCOPY . .\nCMD [\"python\", \"app.py\"]",
        "FROM python:3.12-slim\nRUN groupadd --system --gid 10001 app "
        "&& useradd --system --uid 10001 --gid 10001 --create-home app && mkdir -p /app && chown 10001:10001 /app\n"
        "WORKDIR /app\nRUN pip install flask\n"
        "COPY --chown=10001:10001 . .\nUSER 10001\nCMD [\"python\", \"app.py\"]",
    )
    fix_safety = (
        "Changes who the process runs as, on purpose. Reported instead when the entrypoint needs root (gosu, "
        "su-exec, chown at start, or a script dfix cannot read), when the app binds a port below 1024, when the "
        "base image has no shell, or no user tool and no package manager to install one, when the distribution cannot be told, when the file "
        "switches back to root after a user of its own, or when the environment `uv run` syncs at start is "
        "built in a parent stage or by a RUN dfix cannot extend. dfix cannot see every write an app makes at "
        "start (a log folder outside the app's folder, a path from a setting it cannot read): `dfix verify` "
        "builds and runs both images to prove the rewrite still answers."
    )
    changes = frozenset({"user", "users-created", "copy-chown", "runtime-ownership"})
    phase = 1

    def check(self, doc, ctx):
        stage = doc.final_stage
        if stage is None:
            return
        chain = doc.stage_chain(stage)
        users = [(i, i.args.strip()) for link in chain for i in link.body if i.keyword == "USER"]
        if users and not _ROOT.match(users[-1][1]):
            return
        base = chain[0].base_expanded.lower()
        if not users and base_images.stage_facts(doc, chain).non_root:
            return  # the base's own user (jovyan, distroless nonroot, …) is not root
        line = users[-1][0].line_number if users else stage.from_instruction.line_number
        message = "the final image runs as root"
        reason = self._why_not(doc, ctx, stage, chain, users, base)
        if reason:
            yield self.finding(line, message, reason=reason)
            return
        uid = int(ctx.options.get("uid", DEFAULT_UID))
        yield self.finding(line, message, _edits(doc, ctx, stage, chain, uid, base))

    def _why_not(self, doc, ctx, stage, chain, users, base) -> str | None:
        earlier = [u for _, u in users if not _ROOT.match(u)]
        if earlier:
            return f"it switches back to root after USER {earlier[-1]}; switch back to that user instead"
        facts = base_images.stage_facts(doc, chain)
        if facts.non_root:
            return f"it switches to root from {base}'s own user {facts.user} (uid {facts.uid}); switch back to it instead"
        if not facts.shell:
            return f"{base} has no shell to create a user with"
        distro = _distro(doc, chain, base)
        if distro == "windows":
            return f"{base} is a Windows image: users are created with other tools there"
        if distro not in base_images.USER_TOOL:
            return f"cannot tell which tool creates users on {base or 'this base'}"
        if distro == "rhel" and _lacks_useradd(doc, chain) and _shadow_utils_installer(doc, chain) is None:
            return f"{base} has no useradd, and no package manager is known to install shadow-utils with"
        if facts.root_start and not _file_sets(chain, "ENTRYPOINT") and not (facts.cmd and _file_sets(chain, "CMD")):
            return f"the base image's own command must start as root: {facts.root_start} (base-image table: {facts.row})"
        command = _command_words(doc, chain) or list(facts.cmd)
        if not command and not _is_app_image(doc, chain):
            return ("no CMD or ENTRYPOINT, and no app code copied and installed: this looks like a base image, "
                    "and images built on it expect root")
        if any(i.keyword == "ONBUILD" for i in stage.body):
            return "ONBUILD triggers make this a base image, and images built on it expect root"
        if len(command) == 1 and posixpath.basename(command[0]) in _SHELLS_AND_REPLS:
            return f"the command is a bare {command[0]}: this looks like a base image, and images built on it expect root"
        program = posixpath.basename(command[0]) if command else ""
        if program in ("sh", "bash", "/bin/sh") and len(command) > 2:
            program = posixpath.basename(command[2].split()[0]) if command[2].split() else program
        for started in (program, *_handed_over_to(doc, chain)):
            if started in _ROOT_DAEMONS:
                return f"{started} expects to start as root (privileged port, its own user switch, system folders)"
        if not facts.runs_as_root and not _runs_root_only_commands(doc, chain):
            return f"nothing shows that {base or 'the base image'} runs as root, so a user cannot be created safely"
        if _ROOT_AT_START.search(" ".join(command)):
            return "the entrypoint needs root at start (" + " ".join(command)[:60] + ")"
        script = entry_script(command)
        if script:
            text = read_context_script(ctx, doc, stage, script)
            if text is None:
                return f"the entrypoint script {script} is not in the build context to check what it needs"
            if _ROOT_AT_START.search(text):
                return f"the entrypoint script {script} switches users or changes ownership at start"
        home = _reads_root_home(doc, chain)
        if home:
            return f"the image keeps what the app needs under /root ({home}), which only root can read"
        port = _low_port(doc, chain, command)
        if port is not None:
            return f"the app binds port {port}, below 1024, which a non-root user cannot bind everywhere"
        return runtime_writes_blocked(doc, ctx, stage, chain, command)


_ROOT_HOME = lazy_compile(r"(?<![\w/])(/root|~)(/|\b)")


# Why /root is not handed over: the app finds what is there through root's HOME (Python's user site
# ~/.local, ~/.cache, ~/.config). Moving it changes paths the app and its ENV name; giving the user /root as
# its home leaves every folder the build made there (pip's cache, ~/.local from a RUN) root's, so a write at
# start fails where dfix cannot see it, and lets the app plant a ~/.bashrc that root sources on `exec`.
def _reads_root_home(doc, chain) -> str | None:
    """/root (or ~ as root) named by a COPY destination, ENV, WORKDIR, VOLUME or the command, or pip --user."""
    for link in chain:
        for ins in link.body:
            if ins.keyword in ("COPY", "ADD", "ENV", "WORKDIR", "VOLUME", "CMD", "ENTRYPOINT") and _ROOT_HOME.search(ins.args):
                return f"line {ins.line_number}"
            if ins.keyword == "RUN":
                script = script_of(doc, ins)
                for command in script.commands if script.ok else []:
                    pkg = package_command(command)
                    if pkg is not None and pkg.tool == "pip" and pkg.has_option("--user"):
                        return f"pip install --user, line {ins.line_number}"
    return None


def _runs_root_only_commands(doc, chain) -> bool:
    """A package install or user creation before any USER proves the base runs as root."""
    for link in chain:
        for ins in link.body:
            if ins.keyword == "USER":
                return False
            if ins.keyword != "RUN":
                continue
            script = script_of(doc, ins)
            if script.ok and any(c.name in _ROOT_ONLY for c in script.commands):
                return True
    return False


def _distro(doc, chain, base) -> str | None:
    """The OS family: what the stage's RUNs prove (apt-get, apk, dnf…), else what the table says of the base."""
    return base_images.family(doc, chain)


def _lacks_useradd(doc, chain) -> bool:
    """A RHEL-family base without shadow-utils: the table says so, or the file calls microdnf, the package
    manager of the minimal images (ubi-minimal, rockylinux/almalinux/fedora minimal), which leave it out;
    only a row naming the image itself (not a name hint) says useradd is there anyway."""
    facts = base_images.stage_facts(doc, chain)
    if facts.user_tool == "none":
        return True
    named = facts.known and not facts.row.startswith("hint ")
    return "microdnf" in base_images.rhel_package_managers_in_file(doc, chain) and not (named and facts.user_tool == "useradd")


def _shadow_utils_installer(doc, chain) -> str | None:
    """The package manager proven on the base: the one the file's RUNs call, else the table's."""
    in_file = base_images.rhel_package_managers_in_file(doc, chain)
    if in_file:
        return in_file[0]
    table = base_images.stage_facts(doc, chain).package_manager
    return table if table in ("dnf", "yum", "microdnf") else None


def _file_sets(chain, keyword: str) -> bool:
    return any(ins.keyword == keyword for link in chain for ins in link.body)


# what installs an app's dependencies: a base image ships tools, an app image installs what its code needs
_DEPENDENCY_INSTALLS = {
    "pip": ("install",), "pip3": ("install",), "uv": ("sync", "pip"), "poetry": ("install",), "pipenv": ("install", "sync"),
    "npm": ("install", "ci"), "yarn": ("install",), "pnpm": ("install",), "bundle": ("install",), "composer": ("install",),
    "conda": ("install", "env"), "mamba": ("install", "env"),
}


def _is_app_image(doc, chain) -> bool:
    """Whether the image copies application code from the context and installs its dependencies: an app
    image whose command lives elsewhere (a compose file, a Kubernetes manifest), not a base image."""
    copies_code = installs = False
    for link in chain:
        for ins in link.body:
            if ins.keyword in ("COPY", "ADD") and not ins.flag("from") and not ins.heredocs:
                args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
                sources = [s for s in args[:-1] if "://" not in s]
                if any(s in (".", "./") or s.endswith("/") or "." not in posixpath.basename(s) or s.endswith(".py")
                       for s in sources):
                    copies_code = True
            elif ins.keyword == "RUN":
                script = script_of(doc, ins)
                for command in script.commands if script.ok else []:
                    argv = [w or "" for w in command.argv]
                    words = argv[1:]
                    if PYTHON.match(command.name or "") and argv[1:3] == ["-m", "pip"]:
                        words = argv[3:]
                    name = "pip" if words is not argv[1:] else posixpath.basename(command.name or "")
                    subcommands = _DEPENDENCY_INSTALLS.get(name, ())
                    if any(w in subcommands for w in words[:2]):
                        installs = True
    return copies_code and installs


def _entry_and_cmd_words(doc, chain) -> tuple[list[str], list[str]]:
    entry, cmd = None, None
    for link in chain:
        for ins in link.body:
            if ins.keyword == "ENTRYPOINT":
                entry, cmd = ins, None  # a new ENTRYPOINT resets an inherited CMD
            elif ins.keyword == "CMD":
                cmd = ins
    words: list[list[str]] = []
    for ins in (entry, cmd):
        args: list[str] = []
        if ins is not None:
            args = ins.json_args if ins.is_json else ins.args.split()
            if ins.is_json and shell_text_of(args) is not None:
                # DF503's `["/bin/sh", "-c", "… && exec server"]` reads as the shell form it came from
                args = without_final_exec(shell_text_of(args)).split()
        words.append(args)
    return words[0], words[1]


def _command_words(doc, chain) -> list[str]:
    entry, cmd = _entry_and_cmd_words(doc, chain)
    return entry + cmd


# init processes that start the command after them (`tini --`, `dumb-init`) as themselves
_INIT_WRAPPERS = frozenset({"tini", "tini-static", "dumb-init", "catatonit"})


def _handed_over_to(doc, chain) -> list[str]:
    """The programs an init wrapper or an entrypoint script starts: the words after `tini --`, and the CMD
    an entrypoint script is given (its `exec "$@"`). A daemon there starts as root as surely as in first
    place: nginx, supervisord and cron behind an entrypoint script need root just the same."""
    entry, cmd = _entry_and_cmd_words(doc, chain)
    command = entry + cmd
    found = []
    if command and posixpath.basename(command[0]) in _INIT_WRAPPERS:
        rest = command[1:]
        rest = rest[rest.index("--") + 1:] if "--" in rest else [w for w in rest if not w.startswith("-")]
        if rest:
            found.append(posixpath.basename(rest[0]))
    if entry and cmd and (entry_script(entry) or posixpath.basename(entry[-1]) in (*_INIT_WRAPPERS, "--")):
        found.append(posixpath.basename(cmd[0]))
    return found


def _low_port(doc, chain, command) -> int | None:
    ports = []
    for link in chain:
        for ins in link.body:
            if ins.keyword == "EXPOSE":
                for word, _, _ in ins.words:
                    head = word.split("/")[0].split("-")[0]
                    if head.isdigit():
                        ports.append(int(head))
    for match in _PORT_FLAG.finditer(" ".join(command)):
        ports.append(int(match.group(1)))
    low = [p for p in ports if 0 < p < 1024]
    return low[0] if low else None


def _last(body, keywords):
    found = None
    for ins in body:
        if ins.keyword in keywords:
            found = ins
    return found


def _create_command(distro: str, uid: int, folders: list[str], installer: str | None = None) -> str:
    if distro == "alpine":
        text = f"addgroup -S -g {uid} app && adduser -S -D -u {uid} -G app app"
    else:
        # --user-group with --system would pick a system gid (999), not the {uid}:{uid} the COPYs name
        text = f"groupadd --system --gid {uid} app && useradd --system --uid {uid} --gid {uid} --create-home app"
        if installer is not None:
            # minimal RHEL-family images leave shadow-utils (groupadd, useradd) out; the cache goes with it
            text = f"{installer} install -y shadow-utils && {installer} clean all && " + text
    if folders:
        joined = " ".join(folders)
        text += f" && mkdir -p {joined} && chown {uid}:{uid} {joined}"
    return text


def _edits(doc, ctx, stage, chain, uid: int, base: str) -> list[Edit]:
    distro = _distro(doc, chain, base)
    body = stage.body
    eol = doc.eol
    keyword_case = str.lower if stage.from_instruction.keyword_text.islower() else str.upper
    # create the user early, after FROM and its ENV/ARG/LABEL block: that layer then never rebuilds
    anchor = stage.from_instruction
    for ins in body:
        if ins.keyword not in ("ENV", "ARG", "LABEL"):
            break
        anchor = ins
    app_dir = doc.workdir_at(stage.instructions[-1], including=True)  # None: a WORKDIR names a variable
    volumes = [w.strip('"[],') for i in body if i.keyword == "VOLUME" for w, _, _ in i.words]
    # the app's own folder and its volumes, handed over without -R: no copy of the tree in a new layer
    folders = ([app_dir] if app_dir not in (None, "/") else []) + [v for v in volumes if v.startswith("/") and v != app_dir]
    synced = synced_env(doc, ctx, stage, chain, _command_words(doc, chain), app_dir)
    if synced is not None:
        # `uv run` writes its cache at start too: a folder the ENV names must exist and be the user's
        folders += [c for c in uv_cache_dirs(final_env(chain)) if not any(within(c, f) for f in folders)]
    folders = [f for f in folders if "$" not in f]
    edits: list[Edit] = []
    installer = _shadow_utils_installer(doc, chain) if distro == "rhel" and _lacks_useradd(doc, chain) else None
    create = f"{keyword_case('RUN')} {_create_command(distro, uid, folders, installer)}"
    edits.append(_insert_line_after(doc, anchor, create))

    # hand the app files in the working directory to the user, in the same COPY
    for ins in body:
        if ins.keyword not in ("COPY", "ADD") or app_dir is None:
            continue
        if ins.flag("chown") or ins.heredocs:
            continue
        args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
        current = doc.workdir_at(ins)
        if len(args) < 2 or "$" in args[-1] or current is None:
            continue
        dest = posixpath.normpath(posixpath.join(current, args[-1]))
        if ins.flag("from"):
            # another stage's files stay root's, unless they hold the environment `uv run` writes at start
            handed = synced is not None and within(synced, dest)
        else:
            handed = app_dir != "/" and within(dest, app_dir)
        if handed:
            start, end = ins.keyword_span
            edits.append(Edit.insert(end, f" --chown={uid}:{uid}"))

    # what a RUN writes as root where the app writes again at start becomes the user's in that RUN's layer
    for ins, commands in runtime_write_handovers(doc, stage, app_dir, synced, uid):
        script = script_of(doc, ins)
        edits.append(Edit.insert(script.end, _appended(doc, ins, script.end, " && ".join(commands))))

    last_write = _last(body, {"RUN", "COPY", "ADD", "WORKDIR", "VOLUME"}) or stage.from_instruction
    user_line = f"{keyword_case('USER')} {uid}"
    if last_write is anchor:
        edits[0] = _insert_line_after(doc, anchor, create + _line_end(doc, anchor, eol) + user_line)
    else:
        edits.append(_insert_line_after(doc, last_write, user_line))
    return edits


def _line_end(doc, ins, eol: str) -> str:
    return doc.lines[ins.last_line].eol or eol


def _insert_line_after(doc, ins, line_text: str) -> Edit:
    """A new line after the instruction, with its EOL; a file without a final newline keeps none."""
    last = doc.lines[ins.last_line]
    eol = last.eol or doc.eol
    indent = doc.text[doc.lines[ins.first_line].start:ins.keyword_span[0]]
    if last.eol:
        return Edit.insert(last.stop, f"{indent}{line_text}{last.eol}")
    return Edit.insert(last.end, f"{eol}{indent}{line_text}")
