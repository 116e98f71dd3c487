"""scripts/bootstrap.sh on a machine that has everything: no apt call, no reinstall, also when
the checked commands print more than a pipe holds (grep -q under pipefail used to fail there)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from tests.support import PROJECT_ROOT

LONG = 20_000  # lines: far more than a pipe's 64 KiB, so an early reader cuts the writer off


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _machine(tmp_path: Path, *, with_apt: bool) -> tuple[Path, dict[str, str], Path]:
    """A copy of the project's scripts with a fake .venv and stub system commands."""
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "scripts" / "bootstrap.sh", root / "scripts" / "bootstrap.sh")
    for name in ("requirements.lock", "pyproject.toml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    calls = tmp_path / "calls.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (root / ".venv" / "bin").mkdir(parents=True)
    _stub(root / ".venv" / "bin", "python", f'echo "venv-python $*" >> {calls}')
    fill = f'for i in $(seq {LONG}); do echo "/usr/share/fonts/x/Other$i.ttf: Other Sans $i"; done'
    _stub(
        bin_dir,
        "fc-list",
        f'echo "/usr/share/fonts/noto/NotoSansCJK.ttc: Noto Sans CJK SC"\n{fill}',
    )
    fill = f'for i in $(seq {LONG}); do echo "\tlibother$i.so (libc6,x86-64) => /lib/x$i.so"; done'
    _stub(
        bin_dir,
        "ldconfig",
        f'echo "\tlibharfbuzz-subset.so.0 => /lib/libharfbuzz-subset.so.0"\n{fill}',
    )
    for name in ("pdffonts", "chromium"):
        _stub(bin_dir, name, "exit 0")
    _stub(bin_dir, "id", "echo 0")  # root: apt would be used if anything were missing
    if with_apt:
        _stub(bin_dir, "apt-get", f'echo "apt-get $*" >> {calls}')
    system = [d for d in ("/usr/bin", "/bin") if Path(d).is_dir()]
    link_dir = tmp_path / "system"
    link_dir.mkdir()
    for tool in ("bash", "cat", "cut", "sha256sum", "seq", "dirname", "grep", "env"):
        found = shutil.which(tool, path=os.pathsep.join(system))
        assert found, tool
        (link_dir / tool).symlink_to(found)
    env = {"PATH": f"{bin_dir}{os.pathsep}{link_dir}", "HOME": str(tmp_path)}
    return root, env, calls


def _bootstrap(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(root / "scripts" / "bootstrap.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_nothing_missing_means_no_apt_and_a_second_run_installs_nothing(tmp_path: Path) -> None:
    root, env, calls = _machine(tmp_path, with_apt=True)
    first = _bootstrap(root, env)
    assert first.returncode == 0, first.stderr
    log = calls.read_text() if calls.exists() else ""
    assert "apt-get" not in log, log
    assert "pip install" in log  # the first run installs the Python side
    calls.unlink()
    second = _bootstrap(root, env)
    assert second.returncode == 0, second.stderr
    assert not calls.exists(), calls.read_text()  # no apt, no pip: the stamp matches


def test_a_machine_without_apt_but_with_the_packages_starts(tmp_path: Path) -> None:
    root, env, _ = _machine(tmp_path, with_apt=False)
    result = _bootstrap(root, env)
    assert result.returncode == 0, result.stderr
    assert "please install" not in result.stderr
