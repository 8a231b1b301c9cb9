"""What the builder/runtime split writes, and the re-read that proves it exact: the builder stage (the
original base, the installs, a virtualenv at /opt/venv), the runtime's package installs (each build-only
package's runtime counterpart), the copy of the environment, the instructions that leave the runtime.

SplitText is the writing half of SplitPlan (dfix/rules/_split_plan.py), which reads the stage and judges
whether it can be split; the attributes used here are the plan's.
"""

from __future__ import annotations

import re

from ..syntax import DockerfileSyntaxError, Edit, apply_edits, tokenize
from ..syntax.tokenizer import LineKind
from ._runtime_libs import is_build_only, runtime_counterpart
from .absolute_copy_dest import with_absolute_destination

VENV = "/opt/venv"
# Instructions the builder needs to reproduce the install: everything else is the runtime's business
_BUILDER_KEEPS = frozenset({"ENV", "ARG", "WORKDIR", "COPY", "ADD", "SHELL"})


class SplitText:
    """The edits of a split and their re-read; a SplitPlan's, whose attributes it reads."""

    def rewritten_runs(self):
        """Package RUNs that install something build-only: the runtime gets a new one; others stay as written."""
        return [i for i in self.package_runs
                if any(o is i and is_build_only(p, self.alpine) for o, p in self.installed)]

    def runtime_packages(self, ins) -> list[str]:
        out: list[str] = []
        for owner, package in self.installed:
            if owner is not ins:
                continue
            if is_build_only(package, self.alpine):
                counterpart = runtime_counterpart(package, self.alpine, self.release)
                if counterpart and counterpart not in out:
                    out.append(counterpart)
            elif package not in out:
                out.append(package)
        return out

    def missing_libraries(self) -> list[str]:
        """The full image's runtime libraries the runtime's own package installs do not bring."""
        installed = {p for ins in self.package_runs for p in self.runtime_packages(ins)}
        return [p for p in self.full_image_libraries if p not in installed]

    def builder_env(self) -> str | None:
        """The ENV that points the builder's installers at the new virtualenv (None: uv's project env)."""
        if self.project_env:
            return None
        values = [f'PATH="{VENV}/bin:$PATH"'] if self.needs_path else []
        if self.installers & {"poetry", "pipenv", "uv-pip"}:
            values.insert(0, f"VIRTUAL_ENV={VENV}")  # poetry and pipenv install into the active virtualenv
        if "uv-pip" in self.installers:
            values.append(f"UV_PYTHON={VENV}/bin/python")  # `uv pip install --system` follows it, not PATH
        return " ".join(values)

    def runtime_copy(self, kw) -> str:
        copy = f"{kw('COPY')} --from=builder {self.env_dir} {self.env_dir}"
        return copy if self.project_env else f"{copy}\n{kw('ENV')} PATH=\"{VENV}/bin:$PATH\""

    def edits(self, doc, stage) -> list[Edit]:
        text = doc.text
        frm = stage.from_instruction
        upper = not frm.keyword_text.islower()
        kw = (lambda k: k) if upper else str.lower
        eol = doc.lines[frm.first_line].eol or doc.eol
        last_dep = max(d.index for d in self.dep_runs)
        first_dep = min(d.index for d in self.dep_runs)
        image_and_flags = " ".join([text[slice(*frm.source_span(f.start, f.end))] for f in frm.flags] + [stage.base])
        builder = [f"{kw('FROM')} {image_and_flags} {kw('AS')} builder"]
        tools = set(self.tool_runs) | set(self.tool_copies)
        # the venv at /opt/venv lands where the first install was; a project's own .venv lies inside the
        # app's folder, so it lands where the last install was, over whatever the app copy brought, unless
        # no copy in between can bring one: then before the app copy, whose edits it no longer follows
        copy_at = last_dep if self.project_env and not self.env_before_app else first_dep
        # what leaves the runtime takes the comment lines that describe it to the builder
        leaving = tools | {d for d in self.dep_runs if d.index != copy_at} | {
            i for i in self.rewritten_runs() if not self.runtime_packages(i)}
        # a user named by a --chown, or by a setup step, in the builder must exist there too
        needs_users = any(
            (i.keyword in ("COPY", "ADD") and re.search(r"[^\d:]", i.flag("chown").value if i.flag("chown") else ""))
            or i in self.other_runs for i in stage.body if i.index <= last_dep)
        for ins in stage.body:
            if ins.index > last_dep:
                break
            if ins.index == first_dep and self.builder_env() is not None:
                builder.append(f"{kw('RUN')} python -m venv {VENV}")
                builder.append(f"{kw('ENV')} {self.builder_env()}")
            # a setup step before the installs runs in both stages: the installs may read what it did
            if ins in self.package_runs or ins in self.dep_runs or ins in tools or ins in self.other_runs or (
                    ins in self.user_runs and needs_users) or (
                    ins.keyword in _BUILDER_KEEPS and not (ins.keyword in ("COPY", "ADD") and ins.flag("from"))):
                start = doc.lines[doc.comment_block_start(ins)].start if ins in leaving else ins.start
                # a copy into the builder is dfix's own line: no relative destination without a WORKDIR
                own = with_absolute_destination(doc, ins) if ins.keyword in ("COPY", "ADD") else text[ins.start:ins.stop]
                builder.append((text[start:ins.start] + own).rstrip("\r\n"))
        block_start = doc.lines[doc.comment_block_start(frm)].start
        edits = [Edit.insert(block_start, eol.join(builder) + eol + eol)] + self.runtime_install_edits(doc, stage)
        for ins in sorted(tools, key=lambda i: i.index):
            edits.append(_delete(doc, ins))
        for ins in self.dep_runs:
            if ins.index == copy_at:
                copy = self.runtime_copy(kw)
                libraries = self.missing_libraries()
                if libraries:
                    copy = f"{kw('RUN')} {self._install(libraries)}\n{copy}"
                edits.append(Edit(ins.start, ins.stop, copy.replace("\n", eol) + _eol(doc, ins, eol)))
            else:
                edits.append(_delete(doc, ins))
        return edits

    def runtime_install_edits(self, doc, stage) -> list[Edit]:
        """Each package RUN with build-only packages installs their runtime counterparts instead."""
        kw = (lambda k: k) if not stage.from_instruction.keyword_text.islower() else str.lower
        eol = doc.lines[stage.from_instruction.first_line].eol or doc.eol
        edits = []
        for ins in self.rewritten_runs():
            packages = self.runtime_packages(ins)
            if packages:
                flags = "".join(doc.text[slice(*ins.source_span(f.start, f.end))] + " " for f in ins.flags)
                cached = any("/var/lib/apt" in (f.value or "") for f in ins.flags if f.name == "mount")
                install = self._install(packages, keep_lists=cached)
                edits.append(Edit(ins.start, ins.stop, f"{kw('RUN')} {flags}{install}{_eol(doc, ins, eol)}"))
            else:
                edits.append(_delete(doc, ins))
        return edits

    def _install(self, packages: list[str], keep_lists: bool = False) -> str:
        """The runtime's install; apt lists stay where a cache mount holds them, as the original kept them."""
        joined = " ".join(packages)
        if self.alpine:
            return f"apk add --no-cache {joined}"
        install = f"apt-get update && apt-get install -y --no-install-recommends {joined}"
        return install if keep_lists else f"{install} && rm -rf /var/lib/apt/lists/*"

    def verify(self, doc, edits) -> str | None:
        """Re-read the result: same non-RUN instructions in the runtime, same installs in the builder."""
        try:
            new = tokenize(apply_edits(doc.text, edits))
        except (DockerfileSyntaxError, ValueError) as err:
            return str(err)
        if len(new.stages) != 2 or new.stages[0].name != "builder":
            return "the result does not have a builder and a runtime stage"
        builder, runtime = new.stages
        def keys(body):
            return [(i.keyword, tuple(f"{f.name}={f.value}" for f in i.flags), " ".join(i.args.split()))
                    for i in body if i.keyword != "RUN"]

        added = [("COPY", ("from=builder",), f"{self.env_dir} {self.env_dir}")]
        if not self.project_env:
            added.append(("ENV", (), f'PATH="{VENV}/bin:$PATH"'))
        runtime_keys = [k for k in keys(runtime.body) if k not in added]
        original = doc.stages[0]
        kept = [i for i in original.body if i not in self.tool_copies]
        if runtime_keys != keys(kept):
            return "the runtime's other instructions differ"
        if self.slim_base is None and keys([runtime.from_instruction]) != keys([original.from_instruction]):
            return "the runtime's base differs"
        if self.slim_base is not None and (runtime.base != self.slim_base or builder.base != original.base):
            return "the builder is not on the original base, or the runtime not on the slim one"
        if sum(k in added for k in keys(runtime.body)) != len(added):
            return "the runtime does not copy the environment once"
        original_deps = [" ".join(i.logical.split()) for i in self.dep_runs]
        builder_runs = [" ".join(i.logical.split()) for i in builder.body if i.keyword == "RUN"]
        if [r for r in builder_runs if r in original_deps] != original_deps:
            return "the builder does not run the same installs"
        original_tools = [" ".join(i.logical.split()) for i in self.tool_runs]
        if any(" ".join(i.logical.split()) in original_tools for i in runtime.body if i.keyword == "RUN"):
            return "the packaging tool is still installed in the runtime"
        return None

    def verify_final_stage(self, doc, edits) -> str | None:
        """Re-read the result: the same stages, only the package RUNs of the final stage changed."""
        try:
            new = tokenize(apply_edits(doc.text, edits))
        except (DockerfileSyntaxError, ValueError) as err:
            return str(err)
        def shape(d):
            return [(i.keyword, " ".join(i.args.split())) for i in d.instructions
                    if not (i.keyword == "RUN" and d.stage_of(i) is d.stages[-1])]
        if len(new.stages) != len(doc.stages) or shape(new) != shape(doc):
            return "instructions outside the final stage's package installs changed"
        return None


def _delete(doc, ins) -> Edit:
    """Remove an instruction that moved to the builder, with the comment lines that describe it, and one of
    the blank lines around it when it stood alone between two."""
    first = doc.comment_block_start(ins)
    stop = ins.stop
    after = ins.last_line + 1
    if (0 < first and after < len(doc.lines) and doc.lines[first - 1].kind is LineKind.BLANK
            and doc.lines[after].kind is LineKind.BLANK):
        stop = doc.lines[after].stop
    return Edit.delete(doc.lines[first].start, stop)


def _eol(doc, ins, default: str) -> str:
    return doc.lines[ins.last_line].eol or ("" if ins.stop == len(doc.text) else default)
