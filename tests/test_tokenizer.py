"""The syntax layer against BuildKit's own parser: render(tokenize(b)) == b, same instruction boundaries."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dfix.syntax import DockerfileSyntaxError, LineKind, tokenize
from dfix.syntax.shell import script_of

# Every edge case of ../shared/notes/parsing.md, byte for byte.
EDGE_CASES = {
    "crlf": b'FROM alpine:3.20\r\n# crlf comment\r\nRUN apk add --no-cache \\\r\n    curl \\\r\n    git\r\n\r\nCMD ["sh"]\r\n',
    "whitespace-after-escape": b"FROM alpine:3.20\nRUN echo one \\   \n    && echo two \\\t\n    && echo three\nCMD [\"sh\"]\n",
    "empty-continuation-lines": b'FROM alpine:3.20\nRUN echo one \\\n\n    && echo two \\\n\n\n    && echo three\nCMD ["sh"]\n',
    "no-final-newline": b"FROM alpine:3.20\nRUN echo no-trailing-newline",
    "backtick-escape": b'# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nRUN Write-Host "one" ; `\n    Write-Host "two"\nCOPY app\\ C:\\app\\\nWORKDIR C:\\app\nCMD ["cmd.exe", "/c", "echo", "done"]\n',
    "bom": b"\xef\xbb\xbfFROM alpine\nRUN echo a\n",
    "escape-after-comment": b"# hello\n# escape=`\nFROM a\nRUN echo a `\n  b\n",
    "unknown-directive": b"# foo=bar\n# escape=`\nFROM a\nRUN echo a `\n  b\n",
    "quoted-heredoc-marker": b'FROM a\nRUN echo "<<EOF" && echo done\nUSER x\n',
    "quoted-heredoc-name": b'FROM a\nRUN cat <<"EOF" > /x\n$HOME not expanded\nEOF\nUSER x\n',
    "here-string": b'FROM a\nRUN cat <<<"here string" && echo hi\nUSER x\n',
    "comment-and-empty-in-continuation": b"FROM a\nRUN echo a \\\n  # c1\n\n  # c2\n  b\nUSER x\n",
    "fd-heredoc": b"FROM a\nRUN 3<<EOF cat /dev/fd/3\nhi\nEOF\nUSER x\n",
    "eof-in-continuation": b"FROM a\nRUN echo hi \\\n",
    "crlf-heredoc": b"FROM a\r\nRUN <<EOF\r\necho hi\r\nEOF\r\nUSER x\r\n",
    "syntax-escape-blank": b"# syntax=docker/dockerfile:1\n# escape=`\n\nFROM a\nRUN echo a `\n  b\n",
    "indented": b"FROM a\n  # indented comment\n\tRUN echo tab\nRUN echo a \\\n\t# tab-indented comment in cont\n\tb\n",
    "onbuild-heredoc": b"FROM a\nONBUILD RUN <<EOF\necho x\nEOF\nUSER x\n",
    "two-heredocs": b"FROM a\nRUN <<EOF <<EOT\na\nEOF\nb\nEOT\n",
    "heredoc-then-continuation": b"FROM a\nRUN echo <<EOF \\\n  && cat\nbody\nEOF\nUSER x\n",
    "escaped-escape": b"FROM a\nRUN echo foo\\\\\nUSER x\n",
    "quoted-word-then-comment": b'RUN echo "x" # y\nUSER z\n',
    "heredoc-body-like-instructions": b"FROM alpine:3.20\nCOPY <<EOF /etc/motd\nHEALTHCHECK is documented in the wiki\nUSER guide: see docs\nEOF\nCMD [\"sh\"]\n",
    "comment-in-apt-continuation": b"FROM a\nRUN apt-get update && apt-get install -y \\\n    gcc \\\n    # needed for psycopg\n    libpq-dev\n",
    "lone-escape-line": b"FROM a\n\\\nRUN x\n",
    "triple-escape": b"FROM a\nRUN echo foo\\\\\\\n  b\nUSER x\n",
    "extra-cr": b"FROM a\nRUN echo a \\\r\r\n  b\nUSER x\n",
    "lone-cr": b"FROM a\rRUN x\nUSER y\n",
    "chomp-tabs": b"FROM a\nRUN <<-EOF\n\techo\n\t\tEOF\nUSER x\n",
    "heredoc-name-continued": b"FROM a\nRUN cat <<E\\\nOF\nbody\nEOF\nUSER x\n",
    "heredoc-terminator-with-space": b"FROM a\nRUN <<EOF\necho\n EOF\nEOF\n",
    "directive-indented": b"  # escape=`\nFROM a\nRUN a `\n b\n",
    "directive-upper": b"# ESCAPE=`\nFROM a\nRUN a `\n b\n",
    "bom-directive": b"\xef\xbb\xbf# escape=`\nFROM a\nRUN a `\n b\n",
    "json-run-no-heredoc": b'FROM a\nRUN ["<<EOF"]\nUSER x\n',
    "cmd-no-heredoc": b"FROM a\nCMD <<EOF\nx\nEOF\n",
    "heredoc-after-continuation-comment": b"FROM a\nRUN cat <<EOF \\\n# c\n && echo\nbody\nEOF\n",
    "heredoc-backtick-escape": b"# escape=`\nFROM a\nRUN cat <<EOF `\n && echo\nbody\nEOF\n",
}


def ours(data: bytes):
    doc = tokenize(data)
    return [(i.first_line + 1, i.last_line + 1) for i in doc.instructions]


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_case_round_trip_and_boundaries(name, buildkit):
    data = EDGE_CASES[name]
    doc = tokenize(data)
    assert doc.render().encode("utf-8") == data
    theirs = [(c.start_line, c.end_line) for c in buildkit.parse_string(data.decode("utf-8"))]
    assert ours(data) == theirs


def test_heredoc_bodies_and_names():
    doc = tokenize(EDGE_CASES["two-heredocs"])
    run = doc.instructions[1]
    assert [h.name for h in run.heredocs] == ["EOF", "EOT"]
    assert [doc.lines[i].kind for i in range(2, 6)] == [
        LineKind.HEREDOC_BODY, LineKind.HEREDOC_END, LineKind.HEREDOC_BODY, LineKind.HEREDOC_END
    ]
    quoted = tokenize(EDGE_CASES["quoted-heredoc-name"]).instructions[1].heredocs[0]
    assert (quoted.name, quoted.expand) == ("EOF", False)
    fd = tokenize(EDGE_CASES["fd-heredoc"]).instructions[1].heredocs[0]
    assert fd.fd == 3
    assert tokenize(EDGE_CASES["quoted-heredoc-marker"]).instructions[1].heredocs == []
    assert tokenize(EDGE_CASES["here-string"]).instructions[1].heredocs == []


def test_directives_and_escape():
    doc = tokenize(EDGE_CASES["syntax-escape-blank"])
    assert [(d.name, d.value) for d in doc.directives] == [("syntax", "docker/dockerfile:1"), ("escape", "`")]
    assert doc.escape == "`"
    assert tokenize(EDGE_CASES["escape-after-comment"]).escape == "\\"
    assert tokenize(EDGE_CASES["unknown-directive"]).escape == "\\"
    assert tokenize(EDGE_CASES["bom-directive"]).escape == "`"


def test_check_directive_is_a_directive():
    # Newer BuildKit knows `# check=`; the bundled v0.12.5 does not, so this is checked without the oracle.
    doc = tokenize(b"# check=skip=all\n# escape=`\nFROM a\nRUN a `\n b\n")
    assert doc.escape == "`" and [d.name for d in doc.directives] == ["check", "escape"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"FROM a\nRUN <<EOF\necho\n", "unterminated heredoc"),
        (b"# escape=`\n# escape=`\nFROM a\n", "only one escape"),
        (b"# escape=x\nFROM a\n", "invalid escape"),
        (b"FROM a\n\xff\n", "not UTF-8"),
    ],
)
def test_errors(data, message, buildkit):
    with pytest.raises(DockerfileSyntaxError, match=message):
        tokenize(data)


def test_logical_offsets_map_to_source():
    data = EDGE_CASES["comment-in-apt-continuation"].decode()
    doc = tokenize(data)
    run = doc.instructions[1]
    for index, char in enumerate(run.logical):
        assert data[run.source(index)] == char
    assert run.last_code_line == 4  # the comment line is not code


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_every_logical_character_maps_to_its_source(name):
    """One-line instructions keep their offsets as a range, continued ones as a list: both must map each
    logical character to the source character it came from."""
    data = EDGE_CASES[name].decode("utf-8")
    try:
        doc = tokenize(data)
    except DockerfileSyntaxError:
        return
    for ins in doc.instructions:
        assert len(ins.raw.offsets) == len(ins.logical)
        assert "".join(data[ins.source(i)] for i in range(len(ins.logical))) == ins.logical
        assert list(ins.raw.offsets) == sorted(set(ins.raw.offsets))


def test_shell_offsets_are_source_offsets():
    data = "FROM a\nRUN apt-get install -y \\\n    # note\n    curl \\\n\n    git && echo 'é' done\n"
    doc = tokenize(data)
    script = script_of(doc, doc.instructions[1])
    assert script.ok
    for command in script.commands:
        for word in command.words:
            if word.value and "\\" not in data[word.start:word.end]:
                assert data[word.start:word.end].strip("'") == word.value
    assert [c.name for c in script.commands] == ["apt-get", "echo"]
    assert data[script.end - 4:script.end] == "done"



def test_parsed_scripts_follow_their_text_and_place():
    """Scripts are cached by text and place: a RUN with other words at the same offset, or the same words
    moved, must not get an earlier file's commands or offsets."""
    def words(data: str) -> list[tuple[str | None, str]]:
        doc = tokenize(data)
        return [(w.value, data[w.start:w.end]) for c in script_of(doc, doc.instructions[1]).commands for w in c.words]

    assert words("FROM a\nRUN apt-get install curl\n") == [("apt-get", "apt-get"), ("install", "install"), ("curl", "curl")]
    assert words("FROM a\nRUN apt-get install wget\n")[-1] == ("wget", "wget")  # same place, other text
    assert words("FROM abc\nRUN apt-get install curl\n")[-1] == ("curl", "curl")  # same text, moved
    assert words("FROM a\nRUN apt-get install curl\n")[-1] == ("curl", "curl")  # back again


def test_masked_shell_region_by_line_matches_a_copy_by_character():
    """The shell text of a multi-line RUN is built from one slice per line; it must equal the masked copy
    made character by character (dropped bytes become spaces, offsets stay source offsets)."""
    from dfix.syntax.shell import _masked_by_line

    cases = [
        "FROM a\nRUN apt-get install \\\n  # note\n\n  curl \\\r\n  git   \\   \n  && echo 'é' done\n",
        "FROM a\nonbuild run a \\\n b\n",
        "# escape=`\nFROM a\nRUN a `\n b\n",
        "FROM a\nRUN \\\n\\\n  x\n",
        "FROM a\nRUN a\\\\ \\\n  b\n",
    ]
    for data in cases:
        doc = tokenize(data)
        ins = doc.instructions[-1]
        target = ins.inner or ins
        offsets = ins.raw.offsets
        start, end = offsets[target.args_logical], offsets[-1] + 1
        chars = [" "] * (end - start)
        for src in offsets[target.args_logical:]:
            chars[src - start] = data[src]
        assert _masked_by_line(doc, ins.raw, target.args_logical, start) == "".join(chars), data

# -- generated files ------------------------------------------------------------------------------

_CODE = st.sampled_from([
    "FROM alpine", "RUN echo hi", "RUN apt-get install -y curl", "COPY a b", "USER x", "ENV A=1 B=2",
    'CMD ["sh"]', "ONBUILD RUN echo x", "run echo lower", "LABEL a=b", "EXPOSE 80", "ARG V=1",
])
_HEREDOC = st.sampled_from(["<<EOF", "<<-EOF", '<<"EOF"', "<<'EOT'", "3<<EOF", "<<EOF <<EOT", '"<<EOF"', "<<<x"])
_FRAGMENT = st.sampled_from([
    "# comment", "", "   ", "\t# indented", "  && echo more", "curl", "\\", "  \\", "foo\\\\", "EOF", "\tEOF",
    "EOT", "body line", "# escape=`", "# syntax=docker/dockerfile:1", "USER in body", "\t\tx",
])


@st.composite
def dockerfiles(draw):
    lines = []
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["# syntax=docker/dockerfile:1", "# escape=`", "# escape=\\", "# check=skip=all"])))
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.integers(0, 4))
        if kind == 0:
            line = draw(_CODE)
            if line.startswith(("RUN", "COPY", "ONBUILD")) and draw(st.booleans()):
                line += " " + draw(_HEREDOC)
            if draw(st.booleans()):
                line += draw(st.sampled_from([" \\", " \\  ", " \\\t", " `", "\\\\"]))
            lines.append(line)
        else:
            lines.append(draw(_FRAGMENT))
    eols = draw(st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(lines), max_size=len(lines)))
    text = "".join(line + eol for line, eol in zip(lines, eols))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text
    return text.encode("utf-8")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles())
def test_generated_files_match_buildkit(buildkit, data):
    text = data.decode("utf-8")
    if "# check=" in text.split("\n", 1)[0]:
        return  # the bundled BuildKit predates `# check=` (see test_check_directive_is_a_directive)
    try:
        theirs = [(c.start_line, c.end_line) for c in buildkit.parse_string(text)]
        their_error = None
    except buildkit.GoParseError as err:
        theirs, their_error = None, str(err)
    try:
        doc = tokenize(data)
        assert doc.render().encode("utf-8") == data
        mine = [(i.first_line + 1, i.last_line + 1) for i in doc.instructions]
    except DockerfileSyntaxError as err:
        assert their_error is not None, f"dfix rejects what BuildKit accepts: {err}"
        return
    if their_error is not None:
        # BuildKit refuses an empty file and a few argument errors the tokenizer does not judge.
        assert mine == [] or "file with no instructions" not in their_error, their_error
        return
    assert mine == theirs
