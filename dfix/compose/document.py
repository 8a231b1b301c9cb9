"""A Compose file as dfix reads and edits it: ruamel.yaml's node tree for positions, splices for edits.

Edits are splices into the original text at the offsets ruamel.yaml's parser gives each node (the
`start_mark`/`end_mark` of the composed node graph), not a dump of ruamel's round-trip model. The
round-trip dumper re-emits the whole file from its model: it keeps comments, key order and most
quoting, but re-indents sequences to one global setting, normalizes flow-style spacing, moves some
comments, drops a BOM, writes `\\n` for CRLF and adds a final newline. Only a splice can promise
what dfix promises for Dockerfiles: every byte no fix touches comes out identical (comments, key
order, quoting, anchors and aliases, flow style, CRLF, a BOM, a missing final newline). The inserted
text copies its surroundings: the file's line ending, the indentation step of the mapping it goes
into, block or flow style as the neighbouring node has it.

ruamel.yaml is imported only when a Compose file is read, so a run over Dockerfiles never loads it.
"""

from __future__ import annotations

import os
import re
from functools import cached_property

from ..records import field, record
from ..syntax import DockerfileSyntaxError

DB_IMAGES = ("postgres", "mysql", "mariadb", "redis", "mongo", "rabbitmq")
_DEV_WORDS = frozenset({"dev", "develop", "development", "local", "debug"})


class ComposeSyntaxError(DockerfileSyntaxError):
    """A file that is not YAML, or not a Compose mapping: reported like a bad Dockerfile."""


def _yaml(kind: str):
    from ruamel.yaml import YAML  # lazy: only a run that meets a Compose file pays for it

    return YAML(typ=kind, pure=True)


def load_model(text: str):
    """The plain data a Compose implementation sees: anchors resolved, merge keys applied."""
    from ruamel.yaml.error import YAMLError

    try:
        return _yaml("safe").load(text)
    except YAMLError as err:
        raise ComposeSyntaxError(f"not valid YAML: {_one_line(err)}") from None


def _one_line(err) -> str:
    return " ".join(str(err).split())


@record
class Service:
    name: str
    key: object  # the key's ScalarNode
    node: object  # the service's MappingNode
    model: dict  # the resolved service (merge keys applied)

    @property
    def image(self) -> str | None:
        image = self.model.get("image")
        return image if isinstance(image, str) else None

    @property
    def database(self) -> str | None:
        """postgres, mysql, … when the service runs one of those images (by its name, whatever registry)."""
        if self.image is None or "$" in self.image:
            return None
        name = self.image.partition("@")[0]
        last = name.rsplit("/", 1)[-1].partition(":")[0]
        return last if last in DB_IMAGES else None


@record
class ComposeDocument:
    text: str
    path: str  # the file's name decides whether it is a development file
    root: object  # ruamel's MappingNode
    model: dict
    services: dict[str, Service] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, path: str) -> "ComposeDocument":
        from ruamel.yaml.error import YAMLError

        if not text.strip():
            raise ComposeSyntaxError("empty file")
        model = load_model(text)
        try:
            root = _yaml("rt").compose(text)
        except YAMLError as err:
            raise ComposeSyntaxError(f"not valid YAML: {_one_line(err)}") from None
        if not isinstance(model, dict) or type(root).__name__ != "MappingNode":
            raise ComposeSyntaxError("not a Compose file: the top level is not a mapping")
        doc = cls(text, path, root, model)
        services = model.get("services")
        node = mapping_get(root, "services")
        if isinstance(services, dict) and node is not None and _kind(node) == "mapping":
            for key, value in node.value:
                name = key.value
                if isinstance(services.get(name), dict) and _kind(value) == "mapping":
                    doc.services[name] = Service(name, key, value, services[name])
        return doc

    # -- positions -------------------------------------------------------------------------------

    @cached_property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text.split("\n", 1)[0] + "\n" else "\n"

    def line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def line_end(self, offset: int) -> int:
        """The offset of the line break that ends the line holding `offset` (its \\r for CRLF), or the end."""
        end = self.text.find("\n", offset)
        if end < 0:
            return len(self.text)
        return end - 1 if end > 0 and self.text[end - 1] == "\r" else end

    def column(self, node) -> int:
        return node.start_mark.column

    @cached_property
    def shared(self) -> frozenset[int]:
        """ids of nodes reached more than once (an anchor with aliases, a merged mapping): an edit there
        would change every place that uses them."""
        seen: dict[int, int] = {}

        def walk(node, inherited: bool):
            count = seen.get(id(node), 0) + 1
            seen[id(node)] = count
            if count > 1 and not inherited:
                return
            for child in _children(node):
                walk(child, inherited)

        walk(self.root, False)
        out: set[int] = set()

        def mark(node, under: bool):
            under = under or seen.get(id(node), 0) > 1
            if under:
                out.add(id(node))
            for child in _children(node):
                mark(child, under)

        mark(self.root, False)
        return frozenset(out)

    def node_flow(self, node) -> bool:
        return bool(getattr(node, "flow_style", False))

    def is_shared(self, node) -> bool:
        return id(node) in self.shared

    def indent_step(self, service: Service) -> int:
        """How far this file indents a mapping's keys under their parent key (services: -> app:)."""
        step = self.column(service.node.value[0][0]) - self.column(service.key) if service.node.value else 2
        return step if step > 0 else 2

    def end_of_mapping(self, node) -> int:
        """Where a key appended to the block mapping `node` goes: the start of the line after its last
        value (after a trailing comment on that line), before any blank or comment lines that follow."""
        last = node
        while _kind(last) in ("mapping", "sequence") and not last.flow_style and last.value:
            last = last.value[-1][1] if _kind(last) == "mapping" else last.value[-1]
        end = last.end_mark.index
        if _kind(last) == "scalar" and last.style in ("|", ">"):
            header = self.text[last.start_mark.index:self.line_end(last.start_mark.index)]
            if "+" in header.split("#", 1)[0]:
                return end  # kept trailing newlines belong to the value
            body = self.text[last.start_mark.index:end]
            stripped = body.rstrip(" \t\r\n")
            return self.text.find("\n", last.start_mark.index + len(stripped)) + 1 or len(self.text)
        if end > 0 and self.text[end - 1] == "\n":
            return end
        brk = self.text.find("\n", end)
        return len(self.text) if brk < 0 else brk + 1

    # -- what kind of file -----------------------------------------------------------------------

    @cached_property
    def development(self) -> str | None:
        """Why this file is for development (an override, named for dev, an app bind-mounting its
        source), or None: a production file."""
        name = os.path.basename(self.path).lower()
        words = set(re.split(r"[.\-_]", re.sub(r"\.ya?ml$", "", name)))
        if "override" in words:
            return "an override file"
        if words & _DEV_WORDS:
            return "named for development"
        for service in self.services.values():
            mounted = _source_mount(service.model, os.path.dirname(self.path))
            if mounted:
                return f"service {service.name} bind-mounts its source ({mounted})"
        return None


def _source_mount(service: dict, folder: str) -> str | None:
    build = service.get("build")
    if build is None:
        return None
    context = build if isinstance(build, str) else (build.get("context", ".") if isinstance(build, dict) else None)
    if not isinstance(context, str) or "://" in context or context.startswith("git@"):
        return None
    context = os.path.normpath(os.path.join(folder, context))
    for volume in service.get("volumes") or ():
        source = None
        if isinstance(volume, str):
            parts = volume.split(":")
            if len(parts) >= 2 and parts[0].startswith((".", "/", "~")):
                source = parts[0]
        elif isinstance(volume, dict) and volume.get("type") == "bind":
            source = volume.get("source")
        if not isinstance(source, str) or source.startswith("~"):
            continue
        full = os.path.normpath(os.path.join(folder, source))
        if full == context or full.startswith(context + os.sep) or context.startswith(full + os.sep):
            return str(volume) if isinstance(volume, str) else f"{source}"
    return None


def _kind(node) -> str:
    name = type(node).__name__
    return {"MappingNode": "mapping", "SequenceNode": "sequence", "ScalarNode": "scalar"}.get(name, name)


kind = _kind


def _children(node):
    """A node's keys and values (a mapping) or items (a sequence), in the file's order."""
    kind = _kind(node)
    if kind == "mapping":
        for key, value in node.value:
            yield key
            yield value
    elif kind == "sequence":
        yield from node.value


def mapping_get(node, key: str):
    """The value node under `key` written in this mapping itself (not one a merge key brings in)."""
    if _kind(node) != "mapping":
        return None
    for k, v in node.value:
        if _kind(k) == "scalar" and k.value == key and str(getattr(k.tag, "value", k.tag)) != "tag:yaml.org,2002:merge":
            return v
    return None


def mapping_key(node, key: str):
    if _kind(node) != "mapping":
        return None
    for k, _ in node.value:
        if _kind(k) == "scalar" and k.value == key:
            return k
    return None


def source(doc: ComposeDocument, node) -> str:
    return doc.text[node.start_mark.index:node.end_mark.index]
