"""The rule catalogue, in the fixed order the engine runs it."""

from __future__ import annotations

import re

from ..pragmas import matches

from .absolute_copy_dest import AbsoluteCopyDest
from .add_to_copy import AddToCopy
from .apk_no_cache import ApkNoCache
from .apt_assume_yes import AptAssumeYes
from .apt_lists_cleanup import AptListsCleanup
from .apt_no_install_recommends import AptNoInstallRecommends
from .apt_update_with_install import AptUpdateWithInstall
from .base import FileChange, Finding, Rule, RuleContext, Safety
from .base_image_pin import BaseImagePin
from .cd_to_workdir import CdToWorkdir
from .compose_app_healthcheck import ComposeAppHealthcheck
from .compose_depends_healthy import ComposeDependsHealthy
from .compose_dev_flags import ComposeDevFlags
from .compose_image_pin import ComposeImagePin
from .compose_literal_secret import ComposeLiteralSecret
from .dependency_layer_order import DependencyLayerOrder
from .dead_command import DeadCommand
from .dev_server import DevServer
from .dockerignore import DockerIgnoreRule
from .exec_form_command import ExecFormCommand
from .healthcheck import Healthcheck
from .join_runs import JoinRuns
from .maintainer_to_label import MaintainerToLabel
from .multi_stage_build import MultiStageBuild
from .no_reload import NoReload
from .non_root_user import NonRootUser
from .pip_no_cache_dir import PipNoCacheDir
from .pipefail import Pipefail
from .pip_version_pin import PipVersionPin
from .python_env_defaults import PythonEnvDefaults
from .uv_no_cache import UvNoCache
from .reload_in_code import ReloadInCode
from .python_slim_base import PythonSlimBase

ALL_RULES: tuple[type[Rule], ...] = (
    AptAssumeYes,
    AptNoInstallRecommends,
    AptUpdateWithInstall,
    AptListsCleanup,
    PipNoCacheDir,
    ApkNoCache,
    UvNoCache,
    Pipefail,
    PipVersionPin,
    DependencyLayerOrder,
    JoinRuns,
    AddToCopy,
    AbsoluteCopyDest,
    CdToWorkdir,
    NonRootUser,
    DockerIgnoreRule,
    BaseImagePin,
    PythonSlimBase,
    MaintainerToLabel,
    DeadCommand,
    PythonEnvDefaults,
    NoReload,
    ExecFormCommand,
    DevServer,
    Healthcheck,
    ReloadInCode,
    MultiStageBuild,
)
# the Compose file rules (dfix/compose): run by their own engine on compose.yaml and its kin
COMPOSE_RULES: tuple[type[Rule], ...] = (
    ComposeDependsHealthy,
    ComposeImagePin,
    ComposeDevFlags,
    ComposeLiteralSecret,
    ComposeAppHealthcheck,
)
# every rule dfix has: what `dfix rules`, `explain`, --select/--ignore and the reports know
CATALOGUE: tuple[type[Rule], ...] = ALL_RULES + COMPOSE_RULES
BY_CODE = {rule.code: rule for rule in CATALOGUE}


def unknown_code(pattern: str) -> str | None:
    """None when `pattern` (upper case) names at least one rule as `matches` reads it; else why not, with
    the nearest valid code when there is one, e.g. "unknown rule code or prefix (did you mean DF101?)"."""
    if any(matches(rule.code, rule.hadolint, (pattern,)) for rule in CATALOGUE):
        return None
    by_name = {rule.name.upper(): rule.code for rule in CATALOGUE}
    if pattern in by_name:
        return f"a rule name, not a code (did you mean {by_name[pattern]}?)"
    if re.fullmatch(r"(DL|SC)[0-9]+", pattern):
        return "no dfix rule covers this hadolint code (`dfix rules` lists the ones that do)"
    import difflib

    codes = sorted({rule.code for rule in CATALOGUE} | {h for rule in CATALOGUE for h in rule.hadolint})
    near = difflib.get_close_matches(pattern, codes, n=1, cutoff=0.6)
    hint = f"did you mean {near[0]}?" if near else "see `dfix rules`"
    return f"unknown rule code or prefix ({hint})"


__all__ = [
    "ALL_RULES", "BY_CODE", "CATALOGUE", "COMPOSE_RULES", "FileChange", "Finding", "Rule", "RuleContext", "Safety",
    "unknown_code",
]
