from __future__ import annotations

# dfix.compose is imported inside the functions: a run over Dockerfiles alone never loads it
from ..syntax import Edit
from ._compose import ComposeRule
from .base import Safety


# what each image ships to ask itself whether it is ready (compose doubles `$` so the shell gets one)
HEALTH_TESTS = {
    "postgres": 'pg_isready -U "$${POSTGRES_USER:-postgres}"',
    "mysql": "mysqladmin ping -h localhost",
    "mariadb": "healthcheck.sh --connect --innodb_initialized",
    "redis": "redis-cli ping",
    "mongo": "mongosh --quiet --eval 'db.runCommand({ ping: 1 }).ok'",
    "rabbitmq": "rabbitmq-diagnostics -q ping",
}
TIMING = (("interval", "5s"), ("timeout", "5s"), ("retries", "5"), ("start_period", "10s"))


class ComposeDependsHealthy(ComposeRule):
    code = "DF701"
    name = "compose-depends-healthy"
    title = "depends_on a database, cache or broker without waiting for it to be healthy"
    safety = Safety.MIGRATION
    what = (
        "In a Compose file, a `depends_on` that names a PostgreSQL, MySQL, MariaDB, Redis, MongoDB or "
        "RabbitMQ service (recognised by its `image:`) without a condition becomes the long form: "
        "`condition: service_healthy` for those, `service_started` (what the short form meant) for the "
        "others. A database service without a healthcheck gets the one its image supports "
        "(`pg_isready`, `mysqladmin ping`, `healthcheck.sh` for MariaDB, `redis-cli ping`, `mongosh`, "
        "`rabbitmq-diagnostics ping`) with interval, timeout, retries and start period."
    )
    why = (
        "The short form only orders the starts: the app boots while PostgreSQL is still initialising, "
        "fails to connect and crashes (or serves errors until it is restarted). With a healthcheck and "
        "`service_healthy`, Compose starts the app once the database answers."
    )
    example = (
        "services:\n  app:\n    build: .\n    depends_on:\n      - db\n  db:\n    image: postgres:17",
        "services:\n  app:\n    build: .\n    depends_on:\n      db:\n        condition: service_healthy\n"
        "  db:\n    image: postgres:17\n    healthcheck:\n      test: [\"CMD-SHELL\", \"pg_isready -U "
        "\\\"$${POSTGRES_USER:-postgres}\\\"\"]\n      interval: 5s\n      timeout: 5s\n      retries: 5\n"
        "      start_period: 10s",
    )
    fix_safety = (
        "Migration: the services, their order and every other key stay as they are (the guard compares "
        "the parsed file and validates it against the Compose Specification's schema); the app now starts "
        "later, once its database is healthy. A dependency whose healthcheck is disabled, or that is "
        "defined through an anchor other services share, is reported instead. Comments, quoting and "
        "the list's own layout are kept around the rewritten entries."
    )

    def check(self, doc, ctx):
        from ..compose.document import mapping_get, mapping_key

        # a database some service waits on (or is about to) that has no healthcheck: its edit, or why none
        health: dict[str, tuple[list, str | None]] = {}

        def healthcheck(name: str) -> str | None:
            """None when `name` is or will be healthy-checkable; else why not."""
            db = doc.services[name]
            if _health_disabled(db.model):
                return "its healthcheck is disabled: give it one, then use condition: service_healthy"
            if "healthcheck" in db.model:
                return None
            if name not in health:
                health[name] = self._healthcheck_edit(doc, db)
            return health[name][1]

        for service in doc.services.values():
            node = mapping_get(service.node, "depends_on")
            wanted = service.model.get("depends_on")
            if wanted is None:
                continue
            if node is None:  # brought in by a merge key (<<: *base): the anchor is where to fix it
                merged = [n for n in (wanted if isinstance(wanted, list) else ()) if n in doc.services and doc.services[n].database]
                if merged:
                    yield self.at(doc, service.key, f"{service.name} depends on {', '.join(sorted(merged))} without waiting "
                                  "for it to be healthy", reason="depends_on comes from a merge key (<<): fix it where it is defined")
                continue
            names = list(wanted) if isinstance(wanted, (list, dict)) else []
            databases = {n for n in names if n in doc.services and doc.services[n].database}
            if not databases:
                continue
            if isinstance(wanted, dict):  # already waiting on one: it needs a healthcheck to be healthy
                for name in sorted(databases):
                    if isinstance(wanted[name], dict) and wanted[name].get("condition") == "service_healthy":
                        healthcheck(name)
            waiting_on = sorted(n for n in _without_condition(node) if n in databases)
            if not waiting_on:
                continue
            key = mapping_key(service.node, "depends_on")
            message = (f"{service.name} depends on {', '.join(waiting_on)} without waiting for "
                       f"{'it' if len(waiting_on) == 1 else 'them'} to be healthy: condition: service_healthy")
            blocked = [(n, why) for n in waiting_on if (why := healthcheck(n)) is not None]
            if blocked:
                name, why = blocked[0]
                yield self.at(doc, key, message, reason=f"{name}: {why}")
                continue
            if doc.is_shared(node):
                yield self.at(doc, key, message, reason="depends_on comes from an anchor other services share")
                continue
            edits = _long_form(doc, service, node, databases)
            if isinstance(edits, str):
                yield self.at(doc, key, message, reason=edits)
            else:
                yield self.at(doc, key, message, edits, paths=[("services", service.name, "depends_on")])
        for name in sorted(health):
            db = doc.services[name]
            edits, why = health[name]
            message = f"{name} ({db.image}) has no healthcheck: {HEALTH_TESTS[db.database].split()[0]}"
            if why is not None:
                yield self.at(doc, db.key, message, reason=why)
            else:
                yield self.at(doc, db.key, message, edits, paths=[("services", name, "healthcheck")])

    def _healthcheck_edit(self, doc, db) -> tuple[list, str | None]:
        if doc.is_shared(db.node):
            return [], "the service is shared through an anchor: add the healthcheck where it is defined"
        if "extends" in db.model:
            return [], "the service extends another: add the healthcheck where it is defined"
        test = HEALTH_TESTS[db.database]
        nl = doc.newline
        if db.node.flow_style:
            close = db.node.end_mark.index - 1
            if doc.text[close] != "}":
                return [], "the service's mapping cannot be extended in place"
            end = close
            while doc.text[end - 1] in " \t":
                end -= 1
            timing = ", ".join(f"{k}: {v}" for k, v in TIMING)
            return [Edit.insert(end, f", healthcheck: {{test: {_flow_test(test)}, {timing}}}")], None
        column = doc.column(db.node.value[0][0])
        step = doc.indent_step(db)
        pad, inner = " " * column, " " * (column + step)
        lines = [f"{pad}healthcheck:", f"{inner}test: {_flow_test(test)}"] + [f"{inner}{k}: {v}" for k, v in TIMING]
        at = doc.end_of_mapping(db.node)
        if at == len(doc.text) and not doc.text.endswith("\n"):
            return [Edit.insert(at, nl + nl.join(lines))], None  # the file had no final newline: it still has none
        return [Edit.insert(at, nl.join(lines) + nl)], None


def _flow_test(test: str) -> str:
    escaped = test.replace("\\", "\\\\").replace('"', '\\"')
    return f'["CMD-SHELL", "{escaped}"]'


def _health_disabled(model: dict) -> bool:
    check = model.get("healthcheck")
    if not isinstance(check, dict):
        return False
    test = check.get("test")
    return bool(check.get("disable")) or test == ["NONE"] or test == "NONE"


def _without_condition(node) -> list[str]:
    from ..compose.document import kind, mapping_get

    if kind(node) == "sequence":
        return [item.value for item in node.value if kind(item) == "scalar"]
    if kind(node) == "mapping":
        out = []
        for k, v in node.value:
            if kind(v) == "mapping" and mapping_get(v, "condition") is not None:
                continue
            out.append(k.value)
        return out
    return []


def _condition(name: str, databases: set) -> str:
    return "service_healthy" if name in databases else "service_started"


def _long_form(doc, service, node, databases) -> list[Edit] | str:
    """The edits that give each dependency its condition, or why they cannot be made in place."""
    from ..compose.document import kind, mapping_get, mapping_key, source

    nl = doc.newline
    step = doc.indent_step(service)
    key_column = doc.column(mapping_key(service.node, "depends_on"))
    if kind(node) == "sequence" and node.flow_style:
        body = source(doc, node)
        if "#" in body or any(kind(item) != "scalar" for item in node.value):
            return "the flow list holds comments or nested values"
        entries = ", ".join(f"{source(doc, item)}: {{condition: {_condition(item.value, databases)}}}" for item in node.value)
        return [Edit(node.start_mark.index, node.end_mark.index, "{" + entries + "}")]
    if kind(node) == "sequence":
        edits = []
        for item in node.value:
            start, end = item.start_mark.index, item.end_mark.index
            line = doc.line_start(start)
            before = doc.text[line:start]
            if kind(item) != "scalar" or item.style in ("|", ">") or before.strip() != "-" or doc.line_of(end) != doc.line_of(start):
                return "an entry of the list is not a name on a line of its own"
            dash = line + before.index("-")
            column = max(dash - line, key_column + step)
            edits.append(Edit(line, end, " " * column + source(doc, item) + ":"))
            condition = " " * (column + step) + f"condition: {_condition(item.value, databases)}"
            eol = doc.line_end(end)
            edits.append(Edit.insert(eol, nl + condition))
        return edits
    if kind(node) == "mapping":
        if node.flow_style:
            return "a flow-style depends_on mapping"
        edits = []
        for k, v in node.value:
            if kind(v) == "mapping" and mapping_get(v, "condition") is not None:
                continue
            condition = f"condition: {_condition(k.value, databases)}"
            if kind(v) == "scalar" and v.value in ("", None) and not source(doc, v).strip():
                column = doc.column(k) + step
                edits.append(Edit.insert(doc.line_end(k.end_mark.index), nl + " " * column + condition))
            elif kind(v) == "mapping" and not v.flow_style and v.value:
                first = v.value[0][0]
                line = doc.line_start(first.start_mark.index)
                if doc.text[line:first.start_mark.index].strip():
                    return f"the entry for {k.value} does not start on a line of its own"
                edits.append(Edit.insert(line, " " * doc.column(first) + condition + nl))
            elif kind(v) == "mapping" and v.flow_style:
                inside = v.start_mark.index + 1
                edits.append(Edit.insert(inside, condition + (", " if v.value else "")))
            else:
                return f"the entry for {k.value} is not a mapping"
        return edits
    return "depends_on is neither a list nor a mapping"
