"""Configuration files, for real: trees of folders on disk, the CLI run as a subprocess."""

from __future__ import annotations

import json

from .test_cli import dfix

SAMPLE = (
    "FROM python:3.12-slim\nRUN apt-get update\nRUN apt-get install -y curl\nCOPY . /app\n"
    "RUN pip install -r /app/requirements.txt\nCMD [\"python\", \"/app/app.py\"]\n"
)
# what dfix finds in SAMPLE with no config
ALL = {"DF101", "DF103", "DF104", "DF105", "DF201", "DF302", "DF401", "DF502", "DF601"}


def tree(root, files: dict[str, str]):
    """Write `files` under `root`, which is made a repository's top so no config above it leaks in."""
    (root / ".git").mkdir(exist_ok=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def codes(root, *args):
    """{display path: codes found (fixed or reported)}, the process."""
    proc = dfix("--format", "json", *args, ".", cwd=root)
    files = json.loads(proc.stdout)["files"]
    found = {f["path"]: {x["code"] for x in f.get("applied", []) + f.get("reported", [])} for f in files if "error" not in f}
    return found, proc


def test_nearest_config_wins(tmp_path):
    tree(tmp_path, {
        ".dfix.toml": 'ignore = ["DF101"]\n',
        "top/Dockerfile": SAMPLE,
        "nested/.dfix.toml": 'ignore = ["DF105"]\n',
        "nested/Dockerfile": SAMPLE,
        "nested/deeper/Dockerfile": SAMPLE,
        # a pyproject without [tool.dfix] is not a config: the root's governs
        "plain/pyproject.toml": '[project]\nname = "plain"\n',
        "plain/Dockerfile": SAMPLE,
        # .dfix.toml beats pyproject.toml in the same folder
        "both/.dfix.toml": 'ignore = ["DF104"]\n',
        "both/pyproject.toml": '[project]\nname = "both"\n\n[tool.dfix]\nignore = ["DF105"]\n',
        "both/Dockerfile": SAMPLE,
        "proj/pyproject.toml": '[project]\nname = "proj"\n\n[tool.dfix]\nselect = ["DF1"]\n',
        "proj/Dockerfile": SAMPLE,
    })
    found, proc = codes(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert found["top/Dockerfile"] == ALL - {"DF101"}
    assert found["nested/Dockerfile"] == found["nested/deeper/Dockerfile"] == ALL - {"DF105"}
    assert found["plain/Dockerfile"] == ALL - {"DF101"}
    # without the lists cleanup the apt RUN is two commands, which DF202 joins with DF302's user RUN
    assert found["both/Dockerfile"] == ALL - {"DF104"} | {"DF202"}
    assert found["proj/Dockerfile"] == {"DF101", "DF103", "DF104", "DF105"}


def test_the_search_stops_at_the_repository_root(tmp_path):
    tree(tmp_path, {".dfix.toml": 'ignore = ["DF101"]\n', "repo/Dockerfile": SAMPLE, "worktree/Dockerfile": SAMPLE})
    (tmp_path / "repo" / ".git").mkdir()
    (tmp_path / "worktree" / ".git").write_text("gitdir: /elsewhere/.git/worktrees/w\n")  # a worktree's .git is a file
    found, proc = codes(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert found["repo/Dockerfile"] == found["worktree/Dockerfile"] == ALL


def test_per_file_ignores_are_globs_relative_to_the_config(tmp_path):
    tree(tmp_path, {
        ".dfix.toml": '[per-file-ignores]\n"legacy/**" = ["DF1"]\n"Dockerfile.dev" = ["DL3042"]\n',
        "legacy/old/Dockerfile": SAMPLE,
        "svc/Dockerfile.dev": SAMPLE,  # no slash in the glob: any depth, as in .gitignore
        # anchored to svc/, the config's folder, whatever the current directory
        "svc/.dfix.toml": '[per-file-ignores]\n"/Dockerfile" = ["DF302", "DF601"]\n',
        "svc/Dockerfile": SAMPLE,
        "svc/worker/Dockerfile": SAMPLE,
        "api/Dockerfile": SAMPLE,
    })
    found, proc = codes(tmp_path)
    assert proc.returncode == 0, proc.stderr
    # DF202 joins the lone `apt-get update` with its install where DF103 may not
    assert found["legacy/old/Dockerfile"] == ALL - {"DF101", "DF103", "DF104", "DF105"} | {"DF202"}
    assert found["api/Dockerfile"] == ALL
    # svc/ has its own config, so the root's per-file-ignores do not reach svc/Dockerfile.dev
    assert found["svc/Dockerfile.dev"] == ALL
    assert found["svc/Dockerfile"] == ALL - {"DF302", "DF601"}
    assert found["svc/worker/Dockerfile"] == ALL
    (tmp_path / "svc" / ".dfix.toml").unlink()
    found, _ = codes(tmp_path)
    assert found["svc/Dockerfile.dev"] == ALL - {"DF105"}


def test_the_command_line_wins(tmp_path):
    tree(tmp_path, {".dfix.toml": 'select = ["DF1"]\nignore = ["DF101"]\n', "Dockerfile": SAMPLE})
    found, _ = codes(tmp_path)
    assert found["Dockerfile"] == {"DF103", "DF104", "DF105"}
    # --ignore adds to the config's ignore
    found, _ = codes(tmp_path, "--ignore", "DF104")
    assert found["Dockerfile"] == {"DF103", "DF105"}
    # --select replaces the config's selection, its ignore included
    found, _ = codes(tmp_path, "--select", "DF101,DF401")
    assert found["Dockerfile"] == {"DF101", "DF401"}
    found, _ = codes(tmp_path, "--select", "DF101,DF401", "--ignore", "DF401")
    assert found["Dockerfile"] == {"DF101"}


def test_unsafe_fixes_from_the_config(tmp_path):
    tree(tmp_path, {"Dockerfile": 'FROM python:3.12\nCMD ["python", "-c", "print(1)"]\n'})
    assert "FROM python:3.12-trixie\n" in (dfix("--select", "DF4", "Dockerfile", cwd=tmp_path).stdout)
    (tmp_path / ".dfix.toml").write_text("unsafe-fixes = true\n")
    proc = dfix("--write", "--select", "DF4", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "Dockerfile").read_text().startswith("FROM python:3.12-slim-trixie\n")


def test_uid_sets_the_user_df302_creates(tmp_path):
    tree(tmp_path, {"pyproject.toml": "[tool.dfix]\nuid = 4242\n", "app/Dockerfile": SAMPLE})
    proc = dfix("--write", "--select", "DF302", "app", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "app" / "Dockerfile").read_text()
    assert "RUN groupadd --system --gid 4242 app && useradd --system --uid 4242 --gid 4242 --create-home app\n" in text
    assert "USER 4242\n" in text and "10001" not in text


def test_base_image_pins_set_df401s_tag(tmp_path):
    tree(tmp_path, {
        ".dfix.toml": '[base-image-pins]\n"python:3.12-slim" = "3.12-slim-bookworm"\n',
        "Dockerfile": SAMPLE,
        "other/Dockerfile": "FROM python:3.11-slim\n",
    })
    proc = dfix("--write", "--select", "DF401", ".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "Dockerfile").read_text().startswith("FROM python:3.12-slim-bookworm\n")
    # images the setting does not name keep the shipped table's pin
    assert (tmp_path / "other" / "Dockerfile").read_text() == "FROM python:3.11-slim-trixie\n"


def test_bad_configs_are_one_line_each_and_the_rest_is_fixed(tmp_path):
    tree(tmp_path, {
        "broken/.dfix.toml": "select = [\n",
        "broken/Dockerfile": SAMPLE,
        "broken/more/Dockerfile": SAMPLE,
        "broken/fine/.dfix.toml": "ignore = []\n",  # a nearer, valid config governs its folder
        "broken/fine/Dockerfile": SAMPLE,
        "unknown/.dfix.toml": "foo = 1\n",
        "unknown/Dockerfile": SAMPLE,
        "typo/.dfix.toml": 'base_image_pins = {python = "3.12-slim"}\n',
        "typo/Dockerfile": SAMPLE,
        "wrong/pyproject.toml": '[tool.dfix]\nuid = "app"\n',
        "wrong/Dockerfile": SAMPLE,
        "good/Dockerfile": SAMPLE,
    })
    proc = dfix("--write", ".", cwd=tmp_path)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("dfix: error:")]
    assert len(errors) == 4, proc.stderr  # broken/ governs two Dockerfiles but is named once
    assert errors[0].startswith("dfix: error: broken/.dfix.toml: invalid TOML: ")
    assert errors[1:] == [
        "dfix: error: typo/.dfix.toml: unknown key 'base_image_pins' (did you mean 'base-image-pins'?)",
        "dfix: error: unknown/.dfix.toml: unknown key 'foo'",
        "dfix: error: wrong/pyproject.toml: 'uid' must be an integer from 1 to 2147483647 (a non-root user) in [tool.dfix]",
    ]
    for bad in ("broken", "broken/more", "unknown", "typo", "wrong"):
        assert (tmp_path / bad / "Dockerfile").read_text() == SAMPLE, bad
    for good in ("good", "broken/fine"):
        assert (tmp_path / good / "Dockerfile").read_text() != SAMPLE, good


def test_a_bad_config_is_named_once_across_worker_processes(tmp_path):
    files = {"bad/.dfix.toml": "[per-file-ignores]\n'x' = 'DF101'\n", "good/Dockerfile": SAMPLE}
    files.update({f"bad/s{i:02}/Dockerfile": SAMPLE for i in range(40)})
    tree(tmp_path, files)
    proc = dfix("--check", "--jobs", "2", "--format", "json", ".", cwd=tmp_path)
    assert proc.returncode == 2
    records = json.loads(proc.stdout)["files"]
    assert [(r["path"], r["error"]) for r in records if "error" in r] == [
        ("bad/.dfix.toml", "'per-file-ignores.x' must be a list of codes, e.g. [\"DF101\", \"DF3\", \"DL3015\"]")
    ]
    assert [r["path"] for r in records if r.get("changed")] == ["good/Dockerfile"]


def test_unknown_codes_in_a_config_are_config_errors(tmp_path):
    tree(tmp_path, {
        "select/.dfix.toml": 'select = ["DF1", "DF1O1"]\n',  # letter O: used to select DF1 and nothing else
        "select/Dockerfile": SAMPLE,
        "ignore/pyproject.toml": '[tool.dfix]\nignore = ["DF4O2"]\n',
        "ignore/Dockerfile": SAMPLE,
        "glob/.dfix.toml": '[per-file-ignores]\n"*" = ["DL3008"]\n',  # hadolint's, but no dfix rule covers it
        "glob/Dockerfile": SAMPLE,
        "valid/.dfix.toml": 'select = ["DF", "DF4", "dl3015"]\n[per-file-ignores]\n"*" = ["DL3042", "DF101"]\n',
        "valid/Dockerfile": SAMPLE,
    })
    proc = dfix("--write", ".", cwd=tmp_path)
    assert proc.returncode == 2
    errors = sorted(line for line in proc.stderr.splitlines() if line.startswith("dfix: error:"))
    assert errors == [
        "dfix: error: glob/.dfix.toml: per-file-ignores.*: DL3008: no dfix rule covers this hadolint code"
        " (`dfix rules` lists the ones that do)",
        "dfix: error: ignore/pyproject.toml: ignore: DF4O2: unknown rule code or prefix (did you mean DF402?)"
        " in [tool.dfix]",
        "dfix: error: select/.dfix.toml: select: DF1O1: unknown rule code or prefix (did you mean DF101?)",
    ], proc.stderr
    for bad in ("select", "ignore", "glob"):
        assert (tmp_path / bad / "Dockerfile").read_text() == SAMPLE, bad
    assert (tmp_path / "valid" / "Dockerfile").read_text() != SAMPLE
