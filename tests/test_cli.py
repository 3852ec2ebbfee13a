"""``python -m bot catalog check|export`` as an agency or a script would run them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from bot.settings import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_check_passes_on_the_catalog() -> None:
    result = run("catalog", "check")
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""
    assert "35 个一件事，0 个问题" in result.stderr


def test_check_prints_file_path_message_and_fails(tmp_path: Path) -> None:
    broken = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", broken)
    text = (broken / "newborn.yaml").read_text(encoding="utf-8")
    (broken / "newborn.yaml").write_text(
        text.replace("promised_limit_days: 10", "promised_limit_days: 30"), encoding="utf-8"
    )
    (broken / "dog_license.yaml").unlink()
    result = run("catalog", "check", "--dir", str(broken))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "newborn.yaml: items.4.guide.promised_limit_days: 承诺办结时限不能长于法定办结时限" in lines
    assert "dog_license.yaml: -: 清单中的一件事缺少办事指南文件" in lines


def test_export_is_one_json_array_of_the_whole_catalog() -> None:
    result = run("catalog", "export")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == 35
    for thing in data:
        assert {"id", "name", "category", "items", "form"} <= thing.keys()
        assert thing["form"]["fields"]
        for item in thing["items"]:
            assert {"name", "dept", "materials"} <= item.keys()
            assert item["materials"]
