from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "replication"


def test_no_module_in_replication_imports_django():
    offenders = []
    for path in DOMAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("django", "studio")]
    assert offenders == []


def test_the_domain_imports_without_django_loaded():
    # A fresh interpreter: importing every domain module must not pull Django in.
    code = (
        "import sys, replication.yamlio, replication.validate, replication.lineage, "
        "replication.translator, replication.resolve, replication.connections; "
        "print('django' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=DOMAIN.parent, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
