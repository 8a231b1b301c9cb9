"""The engine and its guard, with real rules — including rules written wrong on purpose."""

from __future__ import annotations

from dfix.engine import Options, fix_text
from dfix.rules import ALL_RULES, Rule, Safety
from dfix.syntax import Edit, apply_edits, tokenize


class DropsAPackage(Rule):
    """Wrong on purpose: deletes the last word of every apt-get install."""

    code = "DF901"
    name = "drops-a-package"
    title = what = why = fix_safety = "test"
    example = ("", "")

    def check(self, doc, ctx):
        from dfix.rules._shell import package_commands, run_scripts

        for ins, _, script in run_scripts(doc):
            for pkg in package_commands(script, "apt", "install"):
                if len(pkg.operands) < 2:
                    continue
                last = pkg.operands[-1]
                yield self.finding(ins.line_number, "drop", [Edit(last.start - 1, last.end, "")])


class BreaksTheSyntax(Rule):
    """Wrong on purpose: turns the first heredoc terminator into something else."""

    code = "DF902"
    name = "breaks-the-syntax"
    title = what = why = fix_safety = "test"
    example = ("", "")

    def check(self, doc, ctx):
        for ins in doc.instructions:
            for heredoc in ins.heredocs:
                line = doc.lines[heredoc.end_line]
                yield self.finding(ins.line_number, "break", [Edit(line.start, line.end, "NOT-THE-END")])
                return


class Unsafe(Rule):
    code = "DF903"
    name = "unsafe-label"
    title = what = why = fix_safety = "test"
    example = ("", "")
    safety = Safety.UNSAFE
    changes = frozenset({"labels"})

    def check(self, doc, ctx):
        final = doc.final_stage
        if final and not any(i.keyword == "LABEL" for i in final.body):
            yield self.finding(final.from_instruction.line_number, "label", [Edit.insert(len(doc.text), "LABEL x=y\n")])


NAIVE = "FROM debian\nRUN apt-get update && apt-get install -y curl git\nCMD [\"bash\"]\n"


def real_rules():
    return [rule() for rule in ALL_RULES]


def test_a_contract_breaking_fix_is_held_back_and_the_others_still_apply():
    result = fix_text(NAIVE, rules=real_rules() + [DropsAPackage()])
    assert result.withheld and "DF901" in result.withheld and "contract" in result.withheld
    assert "curl git" in result.fixed  # nothing dropped
    assert "--no-install-recommends" in result.fixed  # the good fixes still applied
    assert any(f.code == "DF901" and f.reason for f in result.remaining)


def test_a_single_bad_fix_keeps_the_original_bytes():
    result = fix_text(NAIVE, rules=[DropsAPackage()])
    assert result.fixed == NAIVE and not result.changed
    assert "contract" in result.withheld


def test_output_that_no_longer_parses_is_refused():
    text = "FROM a\nRUN <<EOF\necho hi\nEOF\n"
    result = fix_text(text, rules=[BreaksTheSyntax()])
    assert result.fixed == text
    assert "tokenize" in result.withheld or "BuildKit" in result.withheld


def test_unsafe_fixes_need_the_option():
    text = "FROM a\nRUN echo hi\n"
    assert fix_text(text, rules=[Unsafe()]).fixed == text
    fixed = fix_text(text, options=Options(unsafe_fixes=True), rules=[Unsafe()]).fixed
    assert fixed.endswith("LABEL x=y\n")


def test_conflicting_edits_apply_over_passes_in_rule_order():
    text = "FROM a\nRUN apt-get update && apt-get install curl\n"
    result = fix_text(text)
    assert "apt-get install -y --no-install-recommends curl" in result.fixed
    assert {f.code for f in result.applied} >= {"DF101", "DF102"}


def test_apply_edits_is_a_splice():
    text = "abcdef"
    assert apply_edits(text, [Edit(1, 2, "B"), Edit.insert(4, "+"), Edit.delete(5, 6)]) == "aBcd+e"
    assert Edit.insert(3, "x").conflicts_with(Edit.insert(3, "y"))
    assert Edit.insert(3, "x").conflicts_with(Edit(2, 4, ""))
    assert Edit.insert(2, "x").conflicts_with(Edit(2, 4, ""))  # touching a replaced span waits a pass
    assert not Edit.insert(5, "x").conflicts_with(Edit(2, 4, ""))


def test_guard_uses_buildkit_boundaries(buildkit):
    # the tokenizer and BuildKit must agree on the input too, or nothing is written
    result = fix_text("FROM a\nRUN apt-get install -y x\n")
    assert result.changed and tokenize(result.fixed).render() == result.fixed


class Crashes(Rule):
    code = "DF904"
    name = "crashes"
    title = what = why = fix_safety = "test"
    example = ("", "")

    def check(self, doc, ctx):
        raise RuntimeError("boom")


def test_a_crashing_rule_is_that_file_s_error_and_changes_nothing():
    result = fix_text(NAIVE, rules=[Crashes()])
    assert result.error.startswith("internal error, file left unchanged: RuntimeError: boom")
    assert not result.changed and result.fixed == NAIVE


def test_dockerignore_rules_follow_the_text():
    """Ignore files are parsed once per text: another text must get its own rules."""
    from dfix.context.dockerignore import parsed

    assert parsed(".git\n").ignored(".git/config") and not parsed(".git\n").ignored(".env")
    assert parsed(".env\n").ignored(".env") and not parsed(".env\n").ignored(".git")
    assert not parsed(".env\n!.env\n").ignored(".env")


def test_dockerignore_lists_python_files_as_glob_does(tmp_path):
    """DF601 reads a folder's listing once instead of globbing it again: same files, same order."""
    import os

    from dfix.rules.dockerignore import _python_files_in

    for name in ("a.py", ".hidden.py", "B.PY", "c.pyc", "x.py.txt", "y.py"):
        (tmp_path / name).write_text("x")
    (tmp_path / "pkg.py").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m.py").write_text("")
    os.symlink("nowhere", tmp_path / "dangling.py")
    assert _python_files_in(str(tmp_path)) == list(tmp_path.glob("*.py"))
    assert _python_files_in(str(tmp_path / "missing")) == []
    assert _python_files_in(str(tmp_path / "a.py")) == []


class HidesWhatItCopies(Rule):
    """Wrong on purpose: adds two comment lines on top and a .dockerignore that hides a file a COPY names."""

    code = "DF904"
    name = "hides-what-it-copies"
    title = what = why = fix_safety = "test"
    example = ("", "")

    def check(self, doc, ctx):
        from dfix.rules.base import FileChange

        if not doc.text.startswith("# added"):
            yield self.finding(1, "hide", [Edit.insert(0, "# added\n# added\n")], files=[FileChange(".dockerignore", "app.py\n")])


def test_a_guard_message_names_the_line_of_the_users_file(tmp_path):
    from dfix.context import BuildContext

    (tmp_path / "app.py").write_text("print(1)\n")
    text = "FROM python:3.12-slim\nCOPY app.py /app/\nCMD [\"python\", \"/app/app.py\"]\n"
    result = fix_text(text, rules=[HidesWhatItCopies()], context=BuildContext(tmp_path))
    assert result.fixed == text and not result.side_files
    # the rewrite has the COPY on line 4; the user's file on line 2
    assert result.withheld == ".dockerignore would hide app.py, which line 2 copies"
