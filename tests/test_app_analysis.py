"""dfix.context.app on real apps: the shared sample apps (read through their Dockerfiles: the copies in
examples/, and ../shared's own when present) and the small apps in tests/apps. Python is parsed with libcst, never imported or mocked."""

from __future__ import annotations

import ast
import posixpath
import shutil
import subprocess
import sys
from pathlib import Path

import libcst
import pytest

from dfix.context.app import AppFacts, analyze_app
from dfix.syntax.document import tokenize

from .conftest import EXAMPLES, ROOT, SHARED_EXAMPLES, needs_shared

APPS = Path(__file__).resolve().parent / "apps"


# -- the caller's side: a Dockerfile's final stage as analyze_app's arguments ---------------------------


def image_of(context: Path, dockerfile: str = "Dockerfile") -> dict:
    """argv, workdir, env, resolve and exposed for the final stage, as a rule would build them."""
    doc = tokenize((context / dockerfile).read_bytes())
    stage = doc.final_stage
    workdir, env, copies, exposed = "/", {}, [], []
    entrypoint: list[str] = []
    cmd: list[str] = []
    for link in doc.stage_chain(stage):
        for ins in link.body:
            if ins.keyword == "WORKDIR":
                workdir = posixpath.normpath(posixpath.join(workdir, ins.args))
            elif ins.keyword == "ENV":
                env.update(ins.key_values())
            elif link is not stage:
                continue
            elif ins.keyword in ("COPY", "ADD") and not ins.flag("from"):
                words = ins.json_args or [w for w, _, _ in ins.words]
                copies.append((words[:-1], posixpath.normpath(posixpath.join(workdir, words[-1]))))
            elif ins.keyword == "EXPOSE":
                exposed += [int(w.split("/")[0]) for w, _, _ in ins.words]
            elif ins.keyword in ("CMD", "ENTRYPOINT"):
                words = ins.json_args if ins.is_json else ["/bin/sh", "-c", ins.args]
                if ins.keyword == "CMD":
                    cmd = words
                else:
                    entrypoint, cmd = words, []

    def resolve(path: str) -> str | None:
        for sources, dest in reversed(copies):  # a later COPY wins
            for source in sources:
                source = posixpath.normpath(source)
                if (context / source).is_dir():
                    if path.startswith(dest + "/"):
                        rel = posixpath.normpath(posixpath.join(source, path[len(dest) + 1:]))
                        if (context / rel).exists():
                            return rel
                elif path in (dest, posixpath.join(dest, posixpath.basename(source))):
                    return source
        return None

    return {"argv": entrypoint + cmd, "workdir": workdir, "env": env, "resolve": resolve, "exposed": exposed}


def analyze_image(context: Path, **override) -> AppFacts:
    image = image_of(context)
    image.update(override)
    return analyze_app(context, image["argv"], image["workdir"], image["env"], image["resolve"], image["exposed"])


def analyze_copied(context: Path, argv: list[str], env: dict | None = None, exposed=(), workdir="/app") -> AppFacts:
    """The app under `COPY . /app` with WORKDIR /app."""

    def resolve(path: str) -> str | None:
        return path[len("/app/"):] if path.startswith("/app/") else None

    return analyze_app(context, argv, workdir, dict(env or {}), resolve, list(exposed))


def routes(facts: AppFacts) -> list[tuple[str, tuple[str, ...], str]]:
    return [(r.path, r.methods, r.file) for r in facts.routes]


def assert_valid_python(text: str) -> None:
    ast.parse(text)
    assert libcst.parse_module(text).code == text


# -- the shared sample apps ------------------------------------------------------------------------


@pytest.fixture(params=[EXAMPLES, pytest.param(SHARED_EXAMPLES, marks=needs_shared)], ids=["examples", "shared"])
def examples(request) -> Path:
    """The sample apps: this repository's copies, and ../shared's own when it is there."""
    return request.param


@pytest.mark.parametrize(
    "example, server, framework, module, variable, file, health, port, port_source",
    [
        ("fastapi-naive", "uvicorn", "fastapi", "app.main", "app", "app/main.py", "/health", 8000, "cmd"),
        ("flask-gunicorn", "gunicorn", "flask", "wsgi", "app", "wsgi.py", "/ping", 5000, "gunicorn-bind"),
        ("django-postgres", "gunicorn", "django", "mysite.wsgi", "application", "mysite/wsgi.py", "/healthz", 8000, "gunicorn-bind"),
        ("poetry-api", "uvicorn", "fastapi", "api.app", "app", "api/app.py", "/healthz", 8080, "uvicorn.run"),
        ("uv-api", "uvicorn", "fastapi", "uv_api.main", "app", "src/uv_api/main.py", "/ready", 8000, "cmd"),
        ("already-good", "uvicorn", "fastapi", "app.main", "app", "app/main.py", "/health", 8000, "cmd"),
    ],
)
def test_shared_examples(examples, example, server, framework, module, variable, file, health, port, port_source):
    facts = analyze_image(examples / example)
    assert (facts.server, facts.framework, facts.module, facts.variable, facts.file) == (server, framework, module, variable, file)
    assert facts.health_route == health
    assert (facts.port, facts.port_source) == (port, port_source)
    assert facts.interface == ("wsgi" if framework in ("flask", "django") else "asgi")


def test_fastapi_naive_shell_form_reload_flag(examples):
    facts = analyze_image(examples / "fastapi-naive")
    assert facts.reload_switches == ["--reload"]
    assert facts.reload_calls == []  # the reload is in the CMD, not in code
    assert facts.host == "0.0.0.0"
    assert routes(facts) == [("/", ("GET",), "app/main.py"), ("/health", ("GET",), "app/main.py")]
    assert facts.notes == []


def test_django_postgres_routes_from_settings(examples):
    facts = analyze_image(examples / "django-postgres")
    # DJANGO_SETTINGS_MODULE from ENV → ROOT_URLCONF → urlpatterns; Django paths get their leading slash
    assert routes(facts) == [("/healthz", ("*",), "mysite/urls.py")]
    assert facts.routes[0].line == 10


def test_poetry_api_reload_in_main_module(examples):
    facts = analyze_image(examples / "poetry-api")
    assert facts.script == "api/__main__.py"
    assert facts.host == "0.0.0.0"
    [call] = facts.reload_calls
    assert (call.file, call.line, call.description) == ("api/__main__.py", 4, "uvicorn.run(..., reload=True)")
    assert call.fixed_source == (
        "import uvicorn\n"
        "\n"
        'if __name__ == "__main__":\n'
        '    uvicorn.run("api.app:app", host="0.0.0.0", port=8080)\n'
    )
    assert_valid_python(call.fixed_source)


def test_uv_api_src_layout_is_found_and_explained(examples):
    facts = analyze_image(examples / "uv-api")
    assert facts.module_root == "/app/src"
    assert facts.reload_switches == ["--reload"]
    assert any("assuming the project there is installed" in note for note in facts.notes)


@pytest.mark.parametrize("how", ["app-dir", "pythonpath"])
def test_uv_api_src_named_by_app_dir_or_pythonpath(how, examples):
    image = image_of(examples / "uv-api")
    if how == "app-dir":
        argv = ["/app/.venv/bin/uvicorn", "--app-dir", "src", "uv_api.main:app", "--port", "8000"]
        env = image["env"]
    else:
        argv = ["uvicorn", "uv_api.main:app", "--port", "8000"]
        env = {**image["env"], "PYTHONPATH": "/app/src"}
    facts = analyze_image(examples / "uv-api", argv=argv, env=env)
    assert (facts.file, facts.module_root, facts.health_route) == ("src/uv_api/main.py", "/app/src", "/ready")
    assert facts.notes == []


def test_already_good_has_nothing_to_say(examples):
    facts = analyze_image(examples / "already-good")
    assert facts.notes == [] and facts.reload_calls == [] and facts.reload_switches == []


# -- small apps ---------------------------------------------------------------------------------


def test_starlette_route_list_and_mount_under_hypercorn():
    facts = analyze_copied(APPS / "starlette_routes", ["hypercorn", "main:app", "--bind", "0.0.0.0:9000"])
    assert (facts.server, facts.framework, facts.interface) == ("hypercorn", "starlette", "asgi")
    assert routes(facts) == [
        ("/health", ("GET",), "main.py"),
        ("/api/items", ("GET",), "main.py"),
        ("/api/items", ("POST",), "main.py"),
    ]
    assert facts.health_route == "/health"
    assert (facts.port, facts.port_source, facts.host) == (9000, "cmd", "0.0.0.0")


def test_flask_factory_with_blueprints_and_url_prefix():
    facts = analyze_copied(APPS / "flask_blueprint", ["flask", "run", "--host", "0.0.0.0"], env={"FLASK_APP": "shop:create_app()"})
    assert (facts.server, facts.framework, facts.module, facts.variable, facts.factory) == ("flask", "flask", "shop", "create_app", True)
    assert routes(facts) == [
        ("/ping", ("GET", "HEAD"), "shop/health.py"),
        ("/v1/status", ("GET",), "shop/api.py"),  # register_blueprint's url_prefix replaces the blueprint's
        ("/v1/orders", ("POST",), "shop/api.py"),
    ]
    assert facts.health_route == "/ping"
    assert (facts.port, facts.port_source) == (5000, "server-default")


def test_fastapi_routers_with_prefixes_across_modules():
    facts = analyze_copied(APPS / "fastapi_router", ["uvicorn", "app.main:app", "--port", "8000"])
    assert routes(facts) == [
        ("/api/items/{item_id}", ("GET",), "app/routers/items.py"),
        ("/api/items/", ("GET", "POST"), "app/routers/items.py"),
        ("/health", ("POST",), "app/routers/health.py"),
        ("/healthz", ("GET",), "app/routers/health.py"),
        ("/", ("GET",), "app/main.py"),
    ]
    assert facts.health_route == "/healthz"  # /health exists, but only for POST


def test_no_health_route():
    facts = analyze_copied(APPS / "no_health", ["uvicorn", "main:app"])
    assert facts.routes and facts.health_route is None
    # no --port, no EXPOSE: uvicorn's own default, on localhost
    assert (facts.port, facts.port_source, facts.host) == (8000, "server-default", "127.0.0.1")


def test_expose_disagreeing_with_server_default_is_noted():
    facts = analyze_copied(APPS / "no_health", ["uvicorn", "main:app"], exposed=[5000])
    assert (facts.port, facts.port_source) == (5000, "expose")
    assert any("EXPOSE says 5000 but uvicorn listens on 8000" in note for note in facts.notes)


@pytest.mark.parametrize(
    "argv, env, port, source",
    [
        (["gunicorn", "wsgi:app"], {}, 5005, "gunicorn-config"),  # ./gunicorn.conf.py is read by default
        (["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], {}, 5005, "gunicorn-config"),
        (["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], {"PORT": "6000"}, 6000, "env"),
        (["gunicorn", "-b", ":7000", "wsgi:app"], {"PORT": "6000"}, 7000, "gunicorn-bind"),
    ],
)
def test_gunicorn_config_bind(argv, env, port, source):
    facts = analyze_copied(APPS / "gunicorn_conf", argv, env=env)
    assert (facts.server, facts.framework, facts.interface) == ("gunicorn", "flask", "wsgi")
    assert (facts.port, facts.port_source) == (port, source)
    assert facts.health_route == "/status"


def test_gunicorn_reads_port_env_only_without_a_bind(tmp_path):
    (tmp_path / "wsgi.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    facts = analyze_copied(tmp_path, ["gunicorn", "wsgi:app"], env={"PORT": "8088"}, exposed=[8000])
    assert (facts.port, facts.port_source, facts.host) == (8088, "env", "0.0.0.0")
    facts = analyze_copied(tmp_path, ["uvicorn", "wsgi:app"], env={"PORT": "8088"})
    assert (facts.port, facts.port_source) == (8000, "server-default")  # uvicorn never reads PORT


def test_flask_app_run_debug_under_main():
    facts = analyze_copied(APPS / "flask_debug", ["python", "app.py"])
    assert (facts.server, facts.framework, facts.module, facts.variable) == ("flask", "flask", "app", "app")
    assert (facts.port, facts.port_source, facts.health_route) == (5000, "app.run", "/health")
    [call] = facts.reload_calls
    assert (call.file, call.line, call.description) == ("app.py", 15, "app.run(..., debug=True)")
    # the keyword goes with its same-line comment; the comment on its own line and every other byte stay
    assert call.fixed_source == (APPS / "flask_debug" / "app.py").read_text().replace(
        "        debug=True,  # auto-reload on code changes\n", ""
    )
    assert_valid_python(call.fixed_source)


def test_port_from_env_through_code():
    facts = analyze_copied(APPS / "flask_debug", ["python", "app.py"], env={"PORT": "5050"})
    assert (facts.port, facts.port_source) == (5050, "env")


def test_reload_outside_main_is_not_reported():
    facts = analyze_copied(APPS / "reload_not_main", ["python", "main.py"])
    assert facts.reload_calls == []
    assert (facts.server, facts.module, facts.variable, facts.port, facts.port_source) == ("uvicorn", "main", "app", 8000, "uvicorn.run")


def test_reload_reached_from_main_through_a_function():
    facts = analyze_copied(APPS / "main_guard_reload", ["python", "main.py"])
    [call] = facts.reload_calls
    assert (call.file, call.line) == ("main.py", 13)
    original = (APPS / "main_guard_reload" / "main.py").read_text()
    assert call.fixed_source == original.replace('        reload=True,\n', "")
    assert_valid_python(call.fixed_source)
    assert (facts.port, facts.port_source, facts.health_route) == (8001, "uvicorn.run", "/ping")


def test_main_guard_does_not_run_under_a_server_cli():
    # uvicorn imports main as "main": its `if __name__ == "__main__":` block never runs in the container
    facts = analyze_copied(APPS / "main_guard_reload", ["uvicorn", "main:app", "--host", "0.0.0.0"])
    assert facts.reload_calls == []
    assert facts.health_route == "/ping"


def test_fixed_source_is_stable(tmp_path):
    """Analysing the fixed file finds nothing left to fix."""
    for app, script in (("flask_debug", "app.py"), ("main_guard_reload", "main.py"), ("flask_positional", "run.py")):
        copy = tmp_path / app
        shutil.copytree(APPS / app, copy)
        facts = analyze_copied(copy, ["python", script])
        [call] = facts.reload_calls
        (copy / call.file).write_text(call.fixed_source)
        again = analyze_copied(copy, ["python", script])
        assert again.reload_calls == [] and again.health_route == facts.health_route


def test_positional_debug_is_set_false_and_keywords_removed():
    facts = analyze_copied(APPS / "flask_positional", ["python3", "-u", "run.py"])
    # the app object is imported from web.py; that is the module a production server would load
    assert (facts.module, facts.variable, facts.file, facts.script) == ("web", "app", "web.py", "run.py")
    [call] = facts.reload_calls
    assert call.description == "app.run(..., True as the third positional argument (debug), use_reloader=True)"
    assert call.fixed_source == (
        "from web import app\n"
        "\n"
        'if __name__ == "__main__":\n'
        '    app.run("0.0.0.0", 5000, False)  # dev box\n'
    )
    assert_valid_python(call.fixed_source)


@pytest.mark.parametrize(
    "source, fixed",
    [
        ('import uvicorn\nuvicorn.run("m:app", reload=True, port=1)\n', 'import uvicorn\nuvicorn.run("m:app", port=1)\n'),
        ('import uvicorn\nuvicorn.run(reload=True, app="m:app")\n', 'import uvicorn\nuvicorn.run(app="m:app")\n'),
        (
            'import uvicorn\nuvicorn.run(\n    "m:app",\n    # dev only\n    reload=True\n)\n',
            'import uvicorn\nuvicorn.run(\n    "m:app"\n    # dev only\n)\n',
        ),
        (
            'from flask import Flask\napp = Flask(__name__)\napp.run(\n    debug=True,\n)\n',
            'from flask import Flask\napp = Flask(__name__)\napp.run()\n',
        ),
        (
            'from flask import Flask\napp = Flask(__name__)\napp.run(host="0.0.0.0", debug=True, use_reloader=True, port=5000)\n',
            'from flask import Flask\napp = Flask(__name__)\napp.run(host="0.0.0.0", port=5000)\n',
        ),
        (  # CRLF, a same-line comment that leaves with the keyword, an own-line comment that stays
            'import uvicorn\r\nif __name__ == "__main__":\r\n    uvicorn.run("m:app",\r\n                reload=True,  # hot\r\n'
            '                # the port\r\n                port=1)\r\n',
            'import uvicorn\r\nif __name__ == "__main__":\r\n    uvicorn.run("m:app",\r\n                # the port\r\n'
            '                port=1)\r\n',
        ),
        (  # the script side of `if __name__ != "__main__"`, and an aliased import
            'from flask import Flask as F\napplication = F(__name__)\nif __name__ != "__main__":\n    pass\nelse:\n'
            '    application.run(debug=True)\n',
            'from flask import Flask as F\napplication = F(__name__)\nif __name__ != "__main__":\n    pass\nelse:\n'
            '    application.run()\n',
        ),
    ],
)
def test_reload_keyword_removal_keeps_layout(tmp_path, source, fixed):
    (tmp_path / "serve.py").write_bytes(source.encode())
    facts = analyze_copied(tmp_path, ["python", "serve.py"])
    assert len(facts.reload_calls) == 1
    assert facts.reload_calls[0].fixed_source == fixed
    assert_valid_python(fixed)


@pytest.mark.parametrize(
    "source",
    [
        'import uvicorn\nuvicorn.run("m:app", reload=False)\n',
        'import os, uvicorn\nuvicorn.run("m:app", reload=os.getenv("DEV") == "1")\n',  # not a constant: a note instead
        'import uvicorn\nif __name__ != "__main__":\n    uvicorn.run("m:app", reload=True)\n',
        'class Dev:\n    def run(self, debug=False):\n        pass\n\nDev().run(debug=True)\n',  # not a Flask app
    ],
)
def test_no_reload_call_reported(tmp_path, source):
    (tmp_path / "serve.py").write_text(source)
    facts = analyze_copied(tmp_path, ["python", "serve.py"])
    assert facts.reload_calls == []


def test_syntax_error_is_a_note_not_a_crash():
    facts = analyze_copied(APPS / "syntax_error", ["uvicorn", "app.main:app", "--port", "8000"])
    assert (facts.module, facts.variable, facts.file) == ("app.main", "app", "app/main.py")
    assert facts.routes == [] and facts.health_route is None and facts.framework is None
    assert (facts.port, facts.port_source) == (8000, "cmd")
    assert any("app/main.py has a Python syntax error" in note for note in facts.notes)


def test_factory():
    argv = ["uvicorn", "--factory", "app.factory:create_app", "--host", "0.0.0.0", "--port", "8080"]
    facts = analyze_copied(APPS / "factory", argv)
    assert (facts.module, facts.variable, facts.factory, facts.framework) == ("app.factory", "create_app", True, "fastapi")
    assert routes(facts) == [("/ops/ready", ("GET",), "app/health.py"), ("/health", ("GET",), "app/factory.py")]
    assert facts.health_route == "/health"
    assert (facts.port, facts.port_source) == (8080, "cmd")


def test_django_runserver_with_includes():
    facts = analyze_copied(APPS / "django_include", ["python", "manage.py", "runserver", "0.0.0.0:8001"])
    assert (facts.server, facts.framework, facts.interface) == ("django-runserver", "django", "wsgi")
    # settings from manage.py's setdefault; WSGI_APPLICATION names the module a production server loads
    assert (facts.module, facts.variable, facts.file) == ("proj.wsgi", "application", "proj/wsgi.py")
    assert routes(facts) == [("/ops/healthz/", ("*",), "ops/urls.py"), ("/status", ("*",), "proj/urls.py")]
    assert facts.health_route == "/status"
    assert (facts.port, facts.port_source, facts.host) == (8001, "cmd", "0.0.0.0")
    assert facts.reload_switches == ["runserver"]


def test_shell_command_with_several_commands_and_env():
    script = "python manage.py migrate && exec gunicorn proj.wsgi:application --bind 0.0.0.0:$PORT"
    facts = analyze_copied(APPS / "django_include", ["/bin/sh", "-c", script], env={"PORT": "8080"})
    assert (facts.server, facts.framework, facts.module) == ("gunicorn", "django", "proj.wsgi")
    assert (facts.port, facts.port_source) == (8080, "env")
    assert facts.health_route == "/status"
    assert any("runs 2 commands" in note for note in facts.notes)


def test_shell_cd_moves_the_working_directory():
    script = "cd app && exec uvicorn main:app --port ${PORT:-7000}"
    facts = analyze_copied(EXAMPLES / "fastapi-naive", ["/bin/sh", "-c", script])
    assert (facts.module, facts.file, facts.module_root) == ("main", "app/main.py", "/app/app")
    assert (facts.port, facts.port_source) == (7000, "cmd")


def test_flask_run_discovers_app_py_and_reads_its_env():
    env = {"FLASK_RUN_PORT": "5001", "FLASK_DEBUG": "1"}
    facts = analyze_copied(APPS / "flask_debug", ["python", "-m", "flask", "run", "--host=0.0.0.0"], env=env)
    assert (facts.server, facts.module, facts.variable, facts.health_route) == ("flask", "app", "app", "/health")
    assert (facts.port, facts.port_source) == (5001, "env")
    assert facts.reload_switches == ["FLASK_DEBUG=1"]
    assert facts.reload_calls == []  # `flask run` never runs the file as __main__


def test_entrypoint_script_ending_in_exec_args(tmp_path):
    shutil.copytree(APPS / "gunicorn_conf", tmp_path / "ctx")
    ctx = tmp_path / "ctx"
    (ctx / "entrypoint.sh").write_text('#!/bin/sh\nset -e\npython -c "print(1)"\nexec "$@"\n')
    facts = analyze_copied(ctx, ["/app/entrypoint.sh", "gunicorn", "-b", "0.0.0.0:9100", "wsgi:app"])
    assert (facts.server, facts.port, facts.port_source) == ("gunicorn", 9100, "gunicorn-bind")
    assert any('exec "$@"' in note for note in facts.notes)


def test_unreadable_commands_leave_notes():
    for argv in ([], ["node", "server.js"], ["/bin/sh", "-c", "'unterminated"], ["python", "-c", "import app"]):
        facts = analyze_copied(APPS / "no_health", argv, exposed=[8000])
        assert facts.notes and facts.module is None
        assert (facts.port, facts.port_source) == (8000, "expose")


# -- libcst stays out of commands that do not read the app ------------------------------------------


def test_libcst_is_imported_lazily(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM python:3.12-slim\nCMD ["uvicorn", "app:app"]\n')
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "dfix", "--check", str(dockerfile)],
                          capture_output=True, text=True, cwd=ROOT)
    assert "dfix" in proc.stderr and "libcst" not in proc.stderr
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import dfix.context.app"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "libcst" not in proc.stderr


def test_final_app_follows_each_call_s_context(tmp_path):
    """The app is remembered per document and context: the same document with another pending rewrite
    of the app's code must be read again."""
    from dfix.context import BuildContext
    from dfix.rules import RuleContext
    from dfix.rules._app import final_app

    doc = tokenize('FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["uvicorn", "app:app", "--port", "8000"]\n')
    base = BuildContext(tmp_path)

    def app(route: str) -> str:
        return f"from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('{route}')\ndef health():\n    return 1\n"

    first = final_app(doc, RuleContext(base.with_changes({"app.py": app("/health")})))
    again = final_app(doc, RuleContext(base.with_changes({"app.py": app("/ping")})))
    assert (first.health_route, again.health_route) == ("/health", "/ping")


def test_final_app_reuses_a_reading_only_for_the_env_names_it_read(tmp_path):
    """A reading is reused for an image whose ENV differs only in names the reading never looked at (the
    ENV lines DF502 adds); a name it read, from the command (UVICORN_PORT) or from the app's code
    (os.environ), makes it read again."""
    from dfix.context import BuildContext
    from dfix.rules import RuleContext
    from dfix.rules._app import final_app

    (tmp_path / "app.py").write_text(
        "import os\nimport uvicorn\nfrom fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/health')\n"
        "def health():\n    return 1\n\nif __name__ == '__main__':\n"
        "    uvicorn.run(app, host='0.0.0.0', port=int(os.environ['APP_PORT']))\n")

    def read(env: str, cmd: str = '["python", "app.py"]'):
        doc = tokenize(f"FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENV {env}\nCMD {cmd}\n")
        return final_app(doc, RuleContext(BuildContext(tmp_path)))

    first = read("APP_PORT=8001")
    assert first.port == 8001
    assert read("APP_PORT=8001 PYTHONUNBUFFERED=1") is first  # not read: the same reading
    assert read("APP_PORT=8002").port == 8002  # read by the app's code
    uvicorn = '["uvicorn", "app:app"]'
    assert read("UVICORN_PORT=8003", uvicorn).port == 8003
    assert read("UVICORN_PORT=8004", uvicorn).port == 8004  # read by the command's reader


def test_env_reads_count_a_whole_read_as_reading_every_name():
    from dfix.context.app.env_reads import EnvReads

    for whole in (dict, lambda env: {**env}, lambda env: list(env.items()), len, lambda env: env == {}):
        reads = EnvReads({"A": "1", "B": "2"})
        env = reads.watched()
        env.get("A")
        assert reads.matches({"A": "1", "B": "3"})
        whole(env)
        assert not reads.matches({"A": "1", "B": "3"})
        assert reads.matches({"A": "1", "B": "2"})
    reads = EnvReads({"A": "1"})
    env = reads.watched()
    assert "B" not in env
    assert not reads.matches({"A": "1", "B": "2"})  # a name found absent is read too
