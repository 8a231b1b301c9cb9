"""Proof by building: build the original and the rewritten image, run both, compare them.

One module a job, lower ones knowing nothing of the ones above them:
- results.py: what a verification records (ImageStats, VerifyReport) and the errors that stop one;
- engines.py: the container engine (podman, buildah, docker) and every call made of it;
- probing.py: a running container over the host network (ports, readiness, routes, healthcheck, state);
- app.py: what dfix's reading of the app adds (routes, ports, the module to import, a file to edit);
- run.py: one verification's images and containers, built, run one at a time, and all removed;
- compare.py: the verdict, rewrite against original;
- report.py: the table and the JSON the user reads;
- image.py: `verify`, the whole of it for one Dockerfile (and `stage_rewrite`, which --verify shares).

What is verified is one Dockerfile's image (image.py). Verifying a Compose stack would go beside it as a
module of its own (stack.py), bringing the stack up with the same engine, probing each service with
probing.py and judging each image pair with compare.py, and be exported here next to `verify`.
"""

from __future__ import annotations

from .app import app_facts, app_ports, app_routes, import_check, routes_to_probe
from .compare import answer_class, describe_answer, route_differences, runs_as_non_root, shrinks_by, state_differences
from .engines import ENGINES, Engine, build_steps, engine_env
from .image import stage_rewrite, verify
from .probing import DEFAULT_PORTS, HEALTH_ROUTES, port_free, ports_of, probe, probe_routes, wait_ready
from .report import print_report, table_rows
from .results import ImageStats, OriginalBuildError, VerifyError, VerifyReport

__all__ = [
    "DEFAULT_PORTS", "ENGINES", "HEALTH_ROUTES", "Engine", "ImageStats", "OriginalBuildError", "VerifyError",
    "VerifyReport", "answer_class", "app_facts", "app_ports", "app_routes", "build_steps", "describe_answer",
    "engine_env", "import_check", "port_free", "ports_of", "print_report", "probe", "probe_routes",
    "route_differences", "routes_to_probe", "runs_as_non_root", "shrinks_by", "stage_rewrite",
    "state_differences", "table_rows", "verify", "wait_ready",
]
