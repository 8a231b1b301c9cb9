"""Proof by building: build the original and the rewritten image, run both, compare them.

One module a job, lower ones knowing nothing of the ones above them:
- results.py: what a verification records (ImageStats, VerifyReport) and the errors that stop one;
- engines.py: the container engine (podman, buildah, docker) and every call made of it;
- probing.py: a running container over the host network (ports, readiness, routes, healthcheck, state);
- app.py: what dfix's reading of the app adds (routes, ports, the module to import, a file to edit);
- run.py: one verification's images and containers, built, run one at a time, and all removed;
- compare.py: the verdict, rewrite against original;
- report.py: the table and the JSON the user reads;
- image.py: `verify`, the whole of it for one Dockerfile (and `stage_rewrite`, which --verify shares);
- stack.py: `verify_stack`, a Compose file's stack brought up before and after (dfix.compose.stack runs
  compose and watches the services), judged by when the app started and whether it answers.

What image.py verifies is one Dockerfile's image; stack.py verifies a Compose file, not the images in it.
"""

from __future__ import annotations

from .app import app_facts, app_ports, app_routes, import_check, routes_to_probe
from .compare import answer_class, describe_answer, route_differences, runs_as_non_root, shrinks_by, state_differences
from .engines import ENGINES, Engine, build_steps, engine_env
from .image import stage_rewrite, verify
from .probing import DEFAULT_PORTS, HEALTH_ROUTES, port_free, ports_of, probe, probe_routes, wait_ready
from .report import print_report, table_rows
from .results import ImageStats, OriginalBuildError, VerifyError, VerifyReport
from .stack import StackReport, compose_file_in, print_stack_report, verify_stack

__all__ = [
    "DEFAULT_PORTS", "ENGINES", "HEALTH_ROUTES", "Engine", "ImageStats", "OriginalBuildError", "VerifyError",
    "StackReport", "VerifyReport", "answer_class", "app_facts", "app_ports", "app_routes", "build_steps", "describe_answer",
    "engine_env", "import_check", "port_free", "ports_of", "print_report", "probe", "probe_routes",
    "route_differences", "routes_to_probe", "runs_as_non_root", "shrinks_by", "stage_rewrite",
    "state_differences", "table_rows", "verify", "verify_stack", "compose_file_in", "print_stack_report",
    "wait_ready",
]
