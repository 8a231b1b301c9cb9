"""Compose files: golden fixtures (fixtures/<compose-rule>/<case>/before.NAME -> after.NAME, findings.txt),
the guard, which files are for development, discovery, and the CLI run for real on a folder holding a
Dockerfile and a Compose file side by side."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from dfix.compose import fix_compose, guard, is_compose_name, schema_errors
from dfix.compose.document import ComposeDocument, load_model
from dfix.engine import Options
from dfix.rules import COMPOSE_RULES
from dfix.rules.compose_literal_secret import is_secret_name

from .conftest import FIXTURES, ROOT

RULE_BY_NAME = {rule.name: rule for rule in COMPOSE_RULES}
CASES = sorted(p.parent for group in RULE_BY_NAME for p in (FIXTURES / group).glob("*/findings.txt"))
# the vendored schema is the 2021 one: keys added to the spec since (depends_on's restart, required) are
# errors to it, in the input as in the output
NEWER_SPEC = {"newer-spec-keys"}


def _case_files(case: Path) -> tuple[Path, Path, str]:
    before = next(case.glob("before.*"))
    name = before.name.removeprefix("before.")
    return before, case / f"after.{name}", name


def _findings(result) -> str:
    return "".join(f"{f.line} {f.code} {'fixed' if applied else 'reported'}: {f.message}\n" for f, applied in result.findings())


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_golden(case):
    before, after, name = _case_files(case)
    options = Options(select=frozenset({RULE_BY_NAME[case.parent.name].code}))
    text = before.read_bytes().decode("utf-8")
    result = fix_compose(text, str(case / name), options)
    assert result.error is None and result.withheld is None, result.withheld
    assert result.fixed.encode("utf-8") == after.read_bytes()
    assert _findings(result) == (case / "findings.txt").read_text()
    again = fix_compose(result.fixed, str(case / name), options)
    assert again.fixed == result.fixed and not again.applied, "a second run changed the output"
    # every output is a Compose file the specification's schema accepts (or, for keys newer than the
    # vendored schema, has no complaint the input did not have)
    out_errors, in_errors = schema_errors(load_model(result.fixed)), schema_errors(load_model(text))
    assert set(out_errors) <= set(in_errors)
    if case.name not in NEWER_SPEC:
        assert not out_errors, out_errors


def test_the_compose_schema_ships_as_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"data/*.json", "data/*.NOTICE"]' in pyproject
    assert "ruamel.yaml" in pyproject and '"jsonschema>=4",\n' in pyproject.split("[project.optional-dependencies]")[0]
    assert (ROOT / "dfix" / "data" / "compose-spec.NOTICE").read_text().count("Apache License") == 1


def test_every_compose_rule_has_fixtures():
    groups = {case.parent.name for case in CASES}
    assert groups == set(RULE_BY_NAME)


def test_all_rules_together_on_the_guide_stack():
    text = (FIXTURES / "compose-depends-healthy" / "guide" / "before.docker-compose.yml").read_text()
    text = text.replace("postgres:17", "postgres").replace("redis:8-alpine", "redis:latest")
    result = fix_compose(text, "prod/compose.yaml", Options())
    assert result.withheld is None and result.error is None
    model = load_model(result.fixed)
    services = model["services"]
    assert services["api"]["depends_on"] == {"db": {"condition": "service_healthy"}, "cache": {"condition": "service_healthy"}}
    assert services["db"]["image"] == "postgres:19-trixie" and services["cache"]["image"] == "redis:8"
    assert services["db"]["healthcheck"]["test"] == ["CMD-SHELL", 'pg_isready -U "$${POSTGRES_USER:-postgres}"']
    assert not schema_errors(model)
    # a production file (by its name, no source mount): the literal password is reported, masked
    secrets = [f for f, applied in result.findings() if f.code == "DF704"]
    assert [f.line for f in secrets] == [18]
    assert fix_compose(result.fixed, "prod/compose.yaml", Options()).fixed == result.fixed


# -- the guard ---------------------------------------------------------------------------------------

def _doc(text: str) -> ComposeDocument:
    return ComposeDocument.parse(text, "compose.yaml")


def _finding(*paths):
    from dfix.rules._compose import ComposeFinding

    return ComposeFinding("DF701", 1, "m", paths=tuple(paths))


def test_guard_refuses_a_change_beyond_the_keys_a_fix_sets():
    before = _doc("x: &a {image: postgres}\nservices:\n  db: *a\n  db2: *a\n")
    after = _doc("x: &a {image: 'postgres:19'}\nservices:\n  db: *a\n  db2: *a\n")
    # the fix meant to pin db's image; through the anchor it pinned db2's (and x's) too
    failure = guard(before, after, [_finding(("services", "db", "image"))])
    assert failure and "services.db2.image" in failure
    both = [("services", "db", "image"), ("services", "db2", "image"), ("x", "image")]
    assert guard(before, after, [_finding(*both)]) is None


def test_guard_refuses_output_the_schema_rejects_and_a_changed_dependency_list():
    before = _doc("services:\n  app:\n    image: a\n    depends_on: [db]\n  db:\n    image: postgres\n")
    bogus = _doc("services:\n  app:\n    image: a\n    depends_on: {db: {condition: when_ready}}\n  db:\n    image: postgres\n")
    failure = guard(before, bogus, [_finding(("services", "app", "depends_on"))])
    assert failure and "schema" in failure and "services.app.depends_on" in failure
    unhealthy = _doc("services:\n  app:\n    image: a\n    depends_on: {db: {condition: service_healthy}}\n  db:\n    image: postgres\n")
    assert "which has no healthcheck" in guard(before, unhealthy, [_finding(("services", "app", "depends_on"))])
    other = _doc("services:\n  app:\n    image: a\n    depends_on: {dbx: {condition: service_started}}\n  db:\n    image: postgres\n")
    assert "would name ['dbx']" in guard(before, other, [_finding(("services", "app", "depends_on"))])


def test_an_anchor_shared_by_services_is_reported_not_edited():
    text = "x-db: &db\n  image: postgres\nservices:\n  app:\n    build: .\n    depends_on: [db]\n  db: *db\n"
    result = fix_compose(text, "compose.yaml", Options(select=frozenset({"DF701", "DF702"})))
    # neither the shared mapping nor the dependency on it is touched: service_healthy on a service with
    # no healthcheck would stop `compose up`
    assert result.fixed == text and not result.applied
    reasons = {(f.code, f.line): f.reason for f, applied in result.findings() if not applied}
    assert "anchor" in reasons[("DF702", 2)] and "anchor" in reasons[("DF701", 6)] and "anchor" in reasons[("DF701", 7)]
    assert fix_compose(result.fixed, "compose.yaml", Options()).fixed == result.fixed


def test_bad_yaml_is_an_error_not_a_crash():
    assert "not valid YAML" in fix_compose("services: [\n", "compose.yaml", Options()).error
    assert "not a Compose file" in fix_compose("- a\n", "compose.yaml", Options()).error


# -- development or production -------------------------------------------------------------------------

@pytest.mark.parametrize("name, why", [
    ("compose.yaml", None), ("docker-compose.yml", None), ("docker-compose.prod.yml", None),
    ("docker-compose.override.yml", "an override file"), ("compose.override.yaml", "an override file"),
    ("docker-compose.dev.yml", "named for development"), ("compose-local.yaml", "named for development"),
])
def test_development_by_name(name, why):
    assert _doc_named("services:\n  a:\n    image: x:1\n", name).development == why


def _doc_named(text, name):
    return ComposeDocument.parse(text, f"/repo/{name}")


def test_development_by_a_source_bind_mount():
    app = "services:\n  api:\n    build: {context: ./api}\n    volumes:\n      - {mount}\n"
    assert "bind-mounts" in _doc_named(app.replace("{mount}", "./api:/app"), "compose.yaml").development
    assert "bind-mounts" in _doc_named(app.replace("{mount}", ".:/src"), "compose.yaml").development
    assert _doc_named(app.replace("{mount}", "./data:/data"), "compose.yaml").development is None
    assert _doc_named(app.replace("{mount}", "pgdata:/var/lib/postgresql/data"), "compose.yaml").development is None


def test_names_that_hold_secrets():
    assert all(map(is_secret_name, ["POSTGRES_PASSWORD", "SECRET_KEY", "API_TOKEN", "stripe_api_key", "AWS_SECRET_ACCESS_KEY"]))
    assert not any(map(is_secret_name, ["POSTGRES_PASSWORD_FILE", "KEYCLOAK_URL", "MONKEY", "TOKEN_URL", "POSTGRES_USER"]))


def test_compose_names():
    yes = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml", "docker-compose.override.yml",
           "docker-compose.dev.yml", "compose.prod.yaml", "docker-compose-test.yml"]
    no = ["compose.yaml.example", "my-compose.yml", "compose.json", "Dockerfile", "composer.yaml", "docker-compose"]
    assert all(map(is_compose_name, yes)) and not any(map(is_compose_name, no))


# -- the command line, for real -------------------------------------------------------------------------

NAIVE_DOCKERFILE = "FROM python:3.12-slim-trixie\nRUN pip install flask\n"
STACK = (FIXTURES / "compose-depends-healthy" / "guide" / "before.docker-compose.yml").read_text().replace(
    "POSTGRES_PASSWORD: app", "POSTGRES_PASSWORD: s3cr3t-Passw0rd")


def dfix(*args, cwd=None):
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "dfix", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env, check=False)


@pytest.fixture
def stack(tmp_path):
    (tmp_path / "Dockerfile").write_text(NAIVE_DOCKERFILE)
    (tmp_path / "compose.yaml").write_text(STACK)
    (tmp_path / "compose.yaml").chmod(0o640)
    return tmp_path


def test_cli_reports_and_writes_the_dockerfile_and_the_compose_file(stack):
    check = dfix("--check", "--select", "DF105,DF7", ".", cwd=stack)
    assert check.returncode == 1, check.stderr
    assert "+++ b/Dockerfile" in check.stdout and "+++ b/compose.yaml" in check.stdout
    assert "compose.yaml:10: DF701" in check.stdout and "Dockerfile:2: DF105" in check.stdout
    assert "dfix: 2 files checked, 2 would change" in check.stderr
    assert "s3cr3t" not in check.stdout + check.stderr  # the password is masked: its length only
    assert "compose.yaml:18: DF704 db: POSTGRES_PASSWORD is set to a literal value (<15 characters>)" in check.stdout

    report = json.loads(dfix("--format", "json", "--select", "DF105,DF7", ".", cwd=stack).stdout)
    paths = {record["path"]: record for record in report["files"]}
    assert set(paths) == {"Dockerfile", "compose.yaml"} and all(r["changed"] for r in paths.values())
    assert {f["code"] for f in paths["compose.yaml"]["applied"]} == {"DF701"}
    assert {f["code"] for f in paths["compose.yaml"]["reported"]} == {"DF704"}

    sarif = dfix("--format", "sarif", "--select", "DF105,DF7", ".", cwd=stack)
    assert "s3cr3t" not in sarif.stdout
    log = json.loads(sarif.stdout)
    schema = json.loads((Path(__file__).with_name("sarif-schema-2.1.0.json")).read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    rules = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    assert {"DF105", "DF701", "DF704"} <= set(rules)
    located = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in log["runs"][0]["results"]}
    assert ("DF701", "compose.yaml") in located and ("DF105", "Dockerfile") in located

    write = dfix("--write", "--select", "DF105,DF7", ".", cwd=stack)
    assert write.returncode == 0, write.stderr
    assert "--no-cache-dir" in (stack / "Dockerfile").read_text()
    fixed = (stack / "compose.yaml").read_text()
    assert "condition: service_healthy" in fixed and "pg_isready" in fixed
    assert stat.S_IMODE((stack / "compose.yaml").stat().st_mode) == 0o640  # replaced atomically, mode kept
    assert sorted(p.name for p in stack.iterdir()) == ["Dockerfile", "compose.yaml"]  # no temp file left
    again = dfix("--check", "--select", "DF105,DF7", ".", cwd=stack)
    assert again.returncode == 0, again.stdout + again.stderr


def test_cli_bad_compose_file_is_one_error_line_and_others_go_on(stack):
    (stack / "docker-compose.override.yml").write_text("services:\n  api: [\n")
    proc = dfix("--check", ".", cwd=stack)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("dfix: error:")]
    assert len(errors) == 1 and errors[0].startswith("dfix: error: docker-compose.override.yml: not valid YAML")
    assert "+++ b/compose.yaml" in proc.stdout


def test_cli_select_and_explain_know_the_compose_rules(stack):
    assert dfix("explain", "DF701").returncode == 0
    assert "DF704" in dfix("rules").stdout
    only = dfix("--check", "--select", "DF702", ".", cwd=stack)
    assert only.returncode == 0 and "DF701" not in only.stdout  # the guide's images are tagged


def test_shards_split_compose_files_with_the_dockerfiles(stack):
    seen = []
    for index in (1, 2, 3):
        report = json.loads(dfix("--format", "json", "--shard", f"{index}/3", ".", cwd=stack).stdout)
        seen += [record["path"] for record in report["files"]]
    assert sorted(seen) == ["Dockerfile", "compose.yaml"]


def test_a_dockerfile_only_run_never_imports_the_yaml_stack(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM a\nRUN pip install x\n")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "dfix", "--check", str(tmp_path)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "dfix.engine" in imported
    assert not {m for m in imported if m.split(".")[0] in ("ruamel", "jsonschema")}


def test_stdin_with_a_compose_filename_is_fixed_as_compose(tmp_path):
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "dfix", "-", "--stdin-filename", "compose.yaml", "--select", "DF7"],
                          input=STACK, capture_output=True, text=True, cwd=tmp_path, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "condition: service_healthy" in proc.stdout and "compose.yaml:10: DF701" in proc.stderr


def test_repos_commit_holds_the_compose_file_beside_the_dockerfile(tmp_path):
    from .test_bulk import git, make_repo

    home = tmp_path / "home"
    home.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, "HOME": str(home),
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "Test",
           "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
           "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    repo = make_repo(env, tmp_path / "repo", {"api/Dockerfile": NAIVE_DOCKERFILE, "docker-compose.yml": STACK})
    (tmp_path / "repos.txt").write_text(f"{repo}\n")
    proc = subprocess.run([sys.executable, "-m", "dfix", "--repos", tmp_path / "repos.txt", "--branch", "dfix/fixes",
                           "--commit", "--select", "DF105,DF7", "--format", "json"],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    (outcome,) = json.loads(proc.stdout)["repositories"]
    assert outcome["status"] == "committed" and outcome["files"] == ["api/Dockerfile", "docker-compose.yml"]
    committed = git(env, repo, "show", "dfix/fixes:docker-compose.yml")
    assert "condition: service_healthy" in committed
    assert git(env, repo, "status", "--porcelain") == ""  # the checkout itself is never touched


def test_depends_on_from_a_merge_key_is_reported_where_it_is_used():
    text = "x-base: &base\n  build: .\n  depends_on:\n    - db\nservices:\n  app:\n    <<: *base\n  db:\n    image: postgres:17\n"
    result = fix_compose(text, "compose.yaml", Options(select=frozenset({"DF701"})))
    assert result.fixed == text
    (finding, applied), = result.findings()
    assert not applied and finding.line == 6 and "merge key" in finding.reason
