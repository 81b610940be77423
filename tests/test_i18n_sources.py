"""User-facing text of the outage, dispatch, leak-scoring and job modules comes from runze.i18n.

A string literal with Chinese characters in these modules (docstrings and comments aside) means a text was
hard-coded again instead of being added to the catalogue with its English twin.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from runze.i18n import MESSAGES, bilingual, both

ROOT = Path(__file__).resolve().parents[1] / "runze"
MODULES = sorted([*(ROOT / "analysis" / "isolation").glob("*.py"), *(ROOT / "analysis" / "dispatch").glob("*.py"),
                  ROOT / "analysis" / "leaks" / "score.py", ROOT / "analysis" / "leaks" / "data.py",
                  ROOT / "ops" / "jobs.py"])
CJK = re.compile(r"[\u4e00-\u9fff]")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_hard_coded_chinese(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    found = [node.lineno for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
             and CJK.search(node.value)]
    assert not found, f"{path.name}: Chinese text at lines {found}; add it to the catalogue in runze/i18n/"


def test_bilingual_is_chinese_then_english():
    zh, en = both("dispatch.unknown_tank", tank="T9").values()
    assert bilingual("dispatch.unknown_tank", tank="T9") == f"{zh} / {en}"
    assert bilingual("job.queued", sep=" ") == "排队 queued"
    assert "'T9'" in en and "T9" in zh


def test_new_areas_have_both_languages():
    for key, entry in MESSAGES.items():
        if key.split(".")[0] in ("dispatch", "outage", "job", "leaks"):
            assert entry.get("zh") and entry.get("en"), key
