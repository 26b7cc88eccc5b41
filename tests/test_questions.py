"""The `questions` block: every heading ending in '?' in the vault, grouped by note, as
links to their permalinks; also where the block reaches a page through an embed."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from test_data_site import CONFIG   # the project's hook and theme overrides


def test_questions_block_lists_every_question(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (tmp_path / "mkdocs.yml").write_text(CONFIG)
    (notes / "root.md").write_text("---\nid: root\ntitle: Home\n---\nSee [[faq]] and [[faq.gpu]].\n")
    (notes / "faq.md").write_text("---\nid: faq\ntitle: FAQ\n---\n## All questions\n\n```questions\n```\n")
    (notes / "faq.gpu.md").write_text("---\nid: g\ntitle: GPU FAQ\n---\n## Why FP16?\n\nFast.\n\n"
                                      "## Not a question\n\n```md\n## In code?\n```\n\n### What is TF32?\n\nA format.\n")
    (notes / "hub.md").write_text("---\nid: hub\ntitle: Hub\n---\n![[faq#all-questions]]\n")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", "site"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for page, prefix in (("faq", "gpu/"), ("hub", "../faq/gpu/")):
        html = (tmp_path / "site" / page / "index.html").read_text()
        links = re.findall(r'<li><a href="([^"]+#[^"]+)">([^<]+)</a></li>', html)
        assert links == [(prefix + "#why-fp16", "Why FP16?"), (prefix + "#what-is-tf32", "What is TF32?")], page
        assert "kbquestions" not in html
