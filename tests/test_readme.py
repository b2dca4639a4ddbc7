"""The README's command list, executed top to bottom as written, in a fresh shell with no settings.

A new user's checkout: the repository's conf/ beside ../shared, an empty home directory, and only
PATH (with a `pangolin-pipeline` that runs this checkout) and HOME in the environment.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from .conftest import REPO, SHARED


def readme_commands() -> str:
    """The first bash block of the README's "What you can do" section."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## What you can do"):]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_readme_lists_the_commands_users_meet_first():
    commands = readme_commands()
    for command in ("weights fetch", "weights verify", "run --config conf/example.yaml", "status", "query",
                    "export", "plot", "predict", "score", "saturate", "lookup"):
        assert f"pangolin-pipeline {command}" in commands, command


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path):
    work, home, bin_dir = tmp_path / "checkout", tmp_path / "home", tmp_path / "bin"
    for folder in (work, home, bin_dir):
        folder.mkdir()
    shutil.copytree(REPO / "conf", work / "conf")
    (tmp_path / "shared").symlink_to(SHARED)  # ../shared, as beside a real checkout
    entry = bin_dir / "pangolin-pipeline"
    entry.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m pipeline \"$@\"\n")
    entry.chmod(0o755)
    script = work / "readme.sh"
    script.write_text("set -e\n" + readme_commands())
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(home)}
    result = subprocess.run(["bash", str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=3000)
    assert result.returncode == 0, result.stderr[-3000:]
    user_dir = home / ".local" / "share" / "pangolin-pipeline" / "weights" / "pangolin-v2"
    assert f"using weights from {user_dir} (because no --weights" in result.stderr
    assert "Traceback" not in result.stderr and "error:" not in result.stderr
    assert len(list((work / "tracks").glob("*.bw"))) == 16
    assert (work / "SLC5A1.png").stat().st_size > 50_000 and (work / "exon2.png").stat().st_size > 20_000
    query = pd.read_csv(work / "SLC5A1.tsv", sep="\t")
    assert list(query.columns) == ["chrom", "position", "strand", "brain_p_splice", "brain_usage"]
    site = pd.read_csv(work / "site.tsv", sep="\t")
    assert len(site) == 72 and site.brain_p_splice.iloc[0] > 0.5
    assert "Pangolin=" in (work / "scored.vcf").read_text()
    assert "chr17:41276126:C:A\tBRCA1|" in result.stdout
