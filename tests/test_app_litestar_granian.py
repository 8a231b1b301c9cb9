"""The two additions that prove a framework and a server are one module each: Litestar's route handlers
(frameworks/litestar.py) and granian's CLI (servers/granian.py), read from the small apps in tests/apps."""

from __future__ import annotations

from .test_app_analysis import APPS, analyze_copied, routes


def test_litestar_route_handlers_routers_and_controllers():
    facts = analyze_copied(APPS / "litestar_app", ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"])
    assert (facts.framework, facts.interface, facts.module, facts.variable) == ("litestar", "asgi", "app.main", "app")
    assert routes(facts) == [
        ("/", ("GET",), "app/main.py"),
        ("/health", ("POST",), "app/main.py"),
        ("/healthz", ("GET",), "app/main.py"),
        ("/livez", ("GET",), "app/main.py"),
        ("/api/v1/items", ("POST",), "app/api.py"),
        ("/api/v1/status", ("GET", "HEAD"), "app/api.py"),
        ("/users", ("GET",), "app/users.py"),
        ("/users/{user_id:int}", ("GET",), "app/users.py"),
    ]
    assert facts.health_route == "/healthz"  # /health exists, but only for POST
    assert facts.notes == []


def test_granian_cli_serves_a_wsgi_app():
    facts = analyze_copied(APPS / "granian_app", ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8080", "wsgi:app"])
    assert (facts.server, facts.framework, facts.interface, facts.file) == ("granian", "flask", "wsgi", "wsgi.py")
    assert (facts.port, facts.port_source, facts.host, facts.health_route) == (8080, "cmd", "0.0.0.0", "/ping")


def test_granian_defaults_env_and_its_rsgi_interface():
    facts = analyze_copied(APPS / "litestar_app", ["python", "-m", "granian", "app.main:app", "--reload"],
                           env={"GRANIAN_PORT": "9000"})
    assert (facts.server, facts.framework, facts.health_route) == ("granian", "litestar", "/healthz")
    assert (facts.port, facts.port_source, facts.host) == (9000, "env", "127.0.0.1")
    assert facts.reload_switches == ["--reload"]
    # granian speaks RSGI unless told otherwise, which a Litestar (ASGI) app does not
    assert facts.interface == "rsgi" and "The server speaks RSGI but the app is ASGI." in facts.notes


def test_granian_on_a_unix_socket_has_no_port():
    facts = analyze_copied(APPS / "granian_app", ["granian", "--interface=wsgi", "--uds", "/run/app.sock", "wsgi:app"])
    assert facts.port is None and any("Unix socket" in note for note in facts.notes)
