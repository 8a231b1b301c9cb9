"""Reading the container's command: the shell form's words (ENV expanded, the server's command picked
from a list), what only starts the real program (env, tini, gosu, poetry/uv run, entrypoint scripts ending
in exec), and which server module reads the rest."""

from __future__ import annotations

import posixpath
import shlex
from types import ModuleType

from ...lazy_regex import lazy_compile
from .servers import BY_PROGRAM
from .words import _expand, _first_positional

_SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh"}


_PYTHON = lazy_compile(r"^(python|pypy)(\d+(\.\d+)*)?$")


_ENV_NAME = lazy_compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


_SHELL_OPERATORS = {"&&", "||", ";", "|", "&", ";;", "|&"}


_REDIRECTIONS = {">", ">>", "<", "<<", ">&", "<&", "&>", "&>>", ">|", "<>"}


_UV_RUN_VALUE = frozenset(
    "--with --with-editable --with-requirements --group --extra --env-file --python -p --directory --project "
    "--package --index --index-url --extra-index-url --find-links -f --no-group --only-group".split()
)


class CommandReader:
    """argv to the server invocation."""

    def read_command(self, argv: list[str], depth: int = 0) -> list[str] | None:
        if not argv or not any(w.strip() for w in argv):
            self.note("The image has no command (no ENTRYPOINT or CMD).")
            return None
        head = posixpath.basename(argv[0])
        if head in _SHELLS and len(argv) >= 3 and argv[1].startswith("-") and "c" in argv[1] and not argv[1].startswith("--"):
            return self.shell(argv[2], depth)
        if any("$" in w for w in argv[1:]) or "$" in argv[0]:
            self.note("The exec-form command contains $ words, which Docker passes to the program unexpanded.")
        return self.unwrap(list(argv), shell=False, depth=depth)

    def shell(self, script: str, depth: int) -> list[str] | None:
        used: list[str] = []
        missing: list[str] = []
        expanded = _expand(script, self.env, used, missing)
        for name in dict.fromkeys(missing):
            self.note(f"The shell command reads ${name}, which no ENV sets; dfix kept it as written.")
        self.shell_env_used = list(dict.fromkeys(used))
        if "`" in script or "$(" in script:
            self.note("The shell command uses command substitution, which dfix does not run.")
        try:
            lexer = shlex.shlex(expanded, posix=True, punctuation_chars=";&|()<>")
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError as error:
            self.note(f"The shell command cannot be split into words ({error}).")
            return None
        commands: list[list[str]] = [[]]
        skip_next = False
        for token in tokens:
            if skip_next:
                skip_next = False
                continue
            if token in _SHELL_OPERATORS:
                commands.append([])
            elif token in _REDIRECTIONS:
                skip_next = True
            elif token in ("(", ")", "{", "}"):
                continue
            else:
                commands[-1].append(token)
        commands = [c for c in commands if c]
        if not commands:
            self.note("The shell command is empty.")
            return None
        # the last command that starts a Python program is the server; a `cd` before it moves its cwd
        chosen, chosen_cwd = None, self.cwd
        cwd = self.cwd
        for command in commands:
            words = command[1:] if command[0] == "exec" else command
            if words and words[0] == "cd" and len(words) == 2:
                cwd = self.abs_path(words[1], cwd)
                continue
            unwrapped = self.unwrap(list(words), shell=True, depth=depth, quiet=True)
            if unwrapped and self.server_kind(unwrapped) is not None:
                chosen, chosen_cwd = words, cwd
        if chosen is None:
            chosen, chosen_cwd = commands[-1], cwd
        if len(commands) > 1:
            self.note(f"The shell command runs {len(commands)} commands; dfix read the one that starts the server: "
                      f"{' '.join(chosen)}.")
        self.cwd = chosen_cwd
        return self.unwrap(list(chosen), shell=True, depth=depth)

    def unwrap(self, words: list[str], shell: bool, depth: int, quiet: bool = False) -> list[str] | None:
        """Strip what only starts the real program: env assignments, init shims, `poetry run` and kin,
        an entrypoint script that ends in `exec "$@"`."""
        for _ in range(10):
            if not words:
                return None
            head = posixpath.basename(words[0])
            if shell and _ENV_NAME.match(words[0]):
                name, _, value = words[0].partition("=")
                if not quiet:
                    self.env[name] = value
                words = words[1:]
            elif head == "env":
                rest = words[1:]
                while rest and (rest[0].startswith("-") or _ENV_NAME.match(rest[0])):
                    if _ENV_NAME.match(rest[0]) and not quiet:
                        name, _, value = rest[0].partition("=")
                        self.env[name] = value
                    rest = rest[1:]
                words = rest
            elif head in ("tini", "dumb-init", "tini-static"):
                rest = words[1:]
                while rest and rest[0].startswith("-") and rest[0] != "--":
                    rest = rest[1:]
                words = rest[1:] if rest and rest[0] == "--" else rest
            elif head in ("gosu", "su-exec") and len(words) > 2:
                words = words[2:]
            elif head in ("poetry", "pipenv", "pdm", "hatch", "rye") and len(words) > 1 and words[1] == "run":
                words = words[2:]
            elif head == "uv" and len(words) > 1 and words[1] == "run":
                _, rest = _first_positional(words[2:], _UV_RUN_VALUE)
                words = rest
            elif head == "ddtrace-run":
                words = words[1:]
            elif head == "opentelemetry-instrument":
                rest = words[1:]
                while rest and rest[0].startswith("--"):
                    rest = rest[1:] if "=" in rest[0] else rest[2:]
                words = rest
            elif head == "exec" and shell:
                words = words[1:]
            elif depth < 2 and self.is_shell_script(words):
                replaced = self.entry_script(words, depth, quiet)
                if replaced is None:
                    return words
                words = replaced
            else:
                return words
        return words

    def is_shell_script(self, words: list[str]) -> bool:
        head = posixpath.basename(words[0])
        if head in _SHELLS and len(words) > 1 and not words[1].startswith("-"):
            return True
        return words[0].endswith(".sh")

    def entry_script(self, words: list[str], depth: int, quiet: bool) -> list[str] | None:
        """The command an entrypoint shell script ends in: its last `exec` line, with "$@" standing for
        the words after the script."""
        script_index = 1 if posixpath.basename(words[0]) in _SHELLS else 0
        script = words[script_index]
        rel = self.context_file(self.abs_path(script))
        if rel is None:
            if not quiet:
                self.note(f"The command runs the script {script}, which dfix cannot find in the build context.")
            return None
        try:
            lines = (self.overlay[rel] if rel in self.overlay else (self.root / rel).read_text(encoding="utf-8")).splitlines()
        except (OSError, UnicodeDecodeError):
            return None
        rest = words[script_index + 1:]
        exec_lines = [line.strip() for line in lines if line.strip().startswith("exec ")]
        if not exec_lines:
            if not quiet:
                self.note(f"The entrypoint script {rel} does not end in an exec line; dfix did not follow it.")
            return None
        line = exec_lines[-1][len("exec "):]
        if line.strip() in ('"$@"', "$@"):
            if not quiet:
                self.note(f"The entrypoint script {rel} runs the command given to it (exec \"$@\").")
            return rest
        if not quiet:
            self.note(f"dfix read the server command from the last exec line of {rel}.")
        try:
            inner = shlex.split(line.replace('"$@"', " ".join(shlex.quote(w) for w in rest)))
        except ValueError:
            return None
        return inner

    def server_kind(self, words: list[str]) -> str | None:
        head = posixpath.basename(words[0])
        if head in BY_PROGRAM:
            return BY_PROGRAM[head]
        if _PYTHON.match(head):
            return "python"
        return None

    def start_program(self, server: ModuleType, args: list[str]) -> None:
        server.cli(self, args)
