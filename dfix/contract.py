"""What an image does, as facets that a fix must leave equal (apart from the ones it changes on purpose).

Hygiene edits are normalised away here on purpose: the flags dfix adds (-y, --no-install-recommends,
--no-cache-dir, --no-cache), `apt-get update` and the apt lists cleanup, the layer boundaries between
RUNs, ADD of plain local files versus COPY, MAINTAINER versus a maintainer label. Everything else —
every other word of every command, every instruction, every flag — must match.
"""

from __future__ import annotations

from .syntax import Document, Instruction
from .syntax.document import add_source_is_remote
from .syntax.packages import package_command
from .syntax.shell import script_of

_HYGIENE_OPTIONS = {
    "apt": frozenset({"-y", "--no-install-recommends"}),
    "apk": frozenset({"--no-cache"}),
    "pip": frozenset({"--no-cache-dir"}),
}
_LISTS = "/var/lib/apt/lists"


def contract(doc: Document) -> dict[str, object]:
    facets: dict[str, object] = {
        "directives": [(d.name, d.value) for d in doc.directives],
        "preamble": [_instruction_key(doc, i) for i in doc.instructions if doc.stage_of(i) is None],
        "stages": [(s.name, s.base_expanded, _flags(s.from_instruction)) for s in doc.stages],
    }
    for stage in doc.stages:
        labels: dict[str, str] = {}
        copies, runs, others = [], [], []
        for ins in stage.body:
            keyword = ins.keyword
            if keyword == "LABEL":
                labels.update(ins.key_values())
            elif keyword == "MAINTAINER":
                labels["maintainer"] = ins.args
            elif keyword in ("COPY", "ADD"):
                copies.append(_copy_key(doc, ins))
            elif keyword == "RUN":
                runs.extend(_run_items(doc, ins))
            else:
                others.append(_instruction_key(doc, ins))
        facets[f"stage{stage.index}.labels"] = labels
        facets[f"stage{stage.index}.copies"] = copies
        facets[f"stage{stage.index}.runs"] = runs
        facets[f"stage{stage.index}.instructions"] = others
    return facets


def differences(before: dict[str, object], after: dict[str, object], allowed: frozenset[str] = frozenset()) -> list[str]:
    out = []
    for key in sorted(set(before) | set(after)):
        if any(key == a or key.endswith("." + a) for a in allowed):
            continue
        if before.get(key) != after.get(key):
            out.append(key)
    return out


def _flags(ins: Instruction) -> tuple[str, ...]:
    return tuple(sorted(f"{f.name}={f.value}" for f in ins.flags))


def _normal(text: str) -> str:
    return " ".join(text.split())


def _instruction_key(doc: Document, ins: Instruction) -> tuple:
    inner = ins.inner
    if inner is not None and inner.keyword == "RUN":
        return ("ONBUILD", "RUN", tuple(_run_items(doc, ins)))
    if inner is not None:
        return ("ONBUILD", inner.keyword, _flags(inner), _normal(inner.args), _bodies(doc, ins))
    return (ins.keyword, _flags(ins), _normal(ins.args))


def _bodies(doc: Document, ins: Instruction) -> tuple[str, ...]:
    out = []
    for heredoc in ins.heredocs:
        lines = [doc.lines[i] for i in heredoc.body_lines]
        out.append("".join(doc.text[line.start:line.stop] for line in lines))
    return tuple(out)


def _copy_key(doc: Document, ins: Instruction) -> tuple:
    keyword = ins.keyword
    args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
    if keyword == "ADD" and not ins.heredocs and not any(add_source_is_remote(s) for s in args[:-1]):
        plain = {f.name for f in ins.flags} <= {"chown", "chmod", "link", "exclude"}
        if plain:
            keyword = "COPY"
    return (keyword, _flags(ins), tuple(args), _bodies(doc, ins))


def _run_items(doc: Document, ins: Instruction) -> list[tuple]:
    script = script_of(doc, ins)
    flags = _flags(ins.inner or ins)
    if not script.ok:
        return [(flags, "raw", _normal(ins.args), _bodies(doc, ins))]
    items = []
    for command in script.commands:
        pkg = package_command(command)
        if pkg is not None and pkg.tool == "apt" and pkg.action == "update":
            continue
        if command.name == "rm" and any((w.value or "").startswith(_LISTS) for w in command.words):
            continue
        hygiene = _HYGIENE_OPTIONS.get(pkg.tool, frozenset()) if pkg else frozenset()
        words = tuple(
            w.value if w.value is not None else "<" + _normal(doc.text[w.start:w.end]) + ">"
            for w in command.words
            if w.value not in hygiene
        )
        items.append((flags, tuple(sorted(command.assignments.items(), key=str)), words))
    return items
