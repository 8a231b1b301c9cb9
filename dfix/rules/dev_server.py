from __future__ import annotations

import posixpath

from ..syntax.command import command_words, literal_command, program, shell_text_of, without_final_exec
from .base import Rule, Safety


class DevServer(Rule):
    code = "DF505"
    name = "dev-server"
    hadolint = ()
    title = "a development server runs the final image"
    safety = Safety.REPORT
    what = "Reports `manage.py runserver` and `flask run` as the final image's command, with the production server command to use."
    why = (
        "Django's and Flask's own servers are single-process development servers: their docs say not to use "
        "them in production (no worker management, no timeouts, debug features)."
    )
    example = (
        'CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]',
        'CMD ["gunicorn", "mysite.wsgi:application", "--bind", "0.0.0.0:8000"]',
    )
    fix_safety = (
        "Report only: switching server needs gunicorn installed and may need settings (static files, "
        "ALLOWED_HOSTS), which dfix cannot prove."
    )

    def check(self, doc, ctx):
        stage = doc.final_stage
        if stage is None:
            return
        commands = [i for link in doc.stage_chain(stage) for i in link.body if i.keyword in ("CMD", "ENTRYPOINT")]
        if not commands:
            return
        ins = commands[-1]
        words = command_words(doc, ins)
        if not words:
            return
        values = [w.value for w in words]
        text = shell_text_of(values)
        if text is not None:
            values = literal_command(without_final_exec(text)) or values
        env = doc.env_at(ins)
        name, first = program(values)
        if name.startswith("python") and first < len(values) and posixpath.basename(values[first]) == "manage.py" \
                and "runserver" in values[first + 1:first + 2]:
            target = next((v for v in values[first + 2:] if not v.startswith("-")), "0.0.0.0:8000")
            bind = target if ":" in target else f"0.0.0.0:{target}" if target.isdigit() else "0.0.0.0:8000"
            project = env.get("DJANGO_SETTINGS_MODULE", "").split(".")[0] or _django_project(ctx)
            suggestion = f'["gunicorn", "{project or "<project>"}.wsgi:application", "--bind", "{bind}"]'
            yield self.finding(ins.line_number, f"Django's development server runs the image; use {suggestion}",
                               reason="switching server needs gunicorn installed and production settings")
        elif name == "flask" and "run" in values[first:]:
            port = next((v.split("=", 1)[1] for v in values if v.startswith("--port=")), None) or _after(values, "--port", "-p") or "5000"
            app = _after(values, "--app", "-A") or env.get("FLASK_APP", "app")
            module = app.removesuffix(".py").replace("/", ".")
            target = module if ":" in module else f"{module}:app"
            suggestion = f'["gunicorn", "--bind", "0.0.0.0:{port}", "{target}"]'
            yield self.finding(ins.line_number, f"Flask's development server runs the image; use {suggestion}",
                               reason="switching server needs gunicorn installed")


def _after(values, *options):
    for i, value in enumerate(values[:-1]):
        if value in options:
            return values[i + 1]
    return None


def _django_project(ctx) -> str | None:
    context = ctx.build_context
    if context is None:
        return None
    found = sorted(p.parent.name for p in context.root.glob("*/wsgi.py"))
    return found[0] if len(found) == 1 else None
