"""Titles kb makes from a name (stub pages) keep the vault's spelling: a word spelled by the
titles of the notes below or beside the stub is spelled that way, a known acronym stays
upper-case, any other word is capitalised."""
from __future__ import annotations

from pathlib import Path

from kb.site import Site
from kb.link.hierarchy import Hierarchy
from kb.parse.vault import Vault

NOTES = {
    "root": "Home",
    "hardware.gpu.nvidia.a100": "NVIDIA A100",
    "hardware.gpu.nvidia.t4": "NVIDIA T4",
    "hardware.gpu.amd": None,                        # no title: made from its name
    "hardware.aws.inf2": "AWS Inferentia2 (Inf2)",
    "models.llm.llama": "Llama",
    "models.nlp.bert": "BERT",
    "models.cv.resnet": "ResNet-50",
    "guides.rtx-pro.intro": "RTX PRO servers",
    "faq.mlperf": "Reading MLPerf",
    "misc.cpus.old": "Old ones",
    "misc.data-centre.racks": "Racks",
}


def _hierarchy(tmp_path: Path) -> Hierarchy:
    notes = tmp_path / "notes"
    notes.mkdir()
    for fname, title in NOTES.items():
        head = f"id: {fname.replace('.', '')}\n" + (f"title: {title}\n" if title else "")
        (notes / f"{fname}.md").write_text(f"---\n{head}---\nText.\n")
    return Hierarchy(Vault(notes, tmp_path).published)


def test_stub_titles_spelled_as_the_notes_around_them(tmp_path: Path) -> None:
    pages = _hierarchy(tmp_path).pages
    stubs = {f: p.title for f, p in pages.items() if p.kind == "stub"}
    assert stubs == {
        "hardware": "Hardware",
        "hardware.gpu": "GPU",                      # an acronym
        "hardware.gpu.nvidia": "NVIDIA",            # as "NVIDIA A100" below it spells it, not "Nvidia"
        "hardware.aws": "AWS",                      # from "AWS Inferentia2 (Inf2)"
        "models": "Models",
        "models.llm": "LLM",
        "models.nlp": "NLP",
        "models.cv": "CV",
        "guides": "Guides",
        "guides.rtx-pro": "RTX PRO",                # each word of a hyphenated name
        "faq": "FAQ",
        "misc": "Misc",
        "misc.cpus": "CPUs",                        # an acronym's plural
        "misc.data-centre": "Data Centre",
    }
    assert pages["hardware.gpu.amd"].title == "AMD"     # an untitled note: its name, the acronym upper-case


def test_stub_titles_in_the_built_navigation(tmp_path: Path) -> None:
    _hierarchy(tmp_path)
    site = Site(tmp_path, "notes", tmp_path / "data")
    assert site.hierarchy.pages["hardware.gpu.nvidia"].title == "NVIDIA"
    page = site.pages["hardware.gpu.nvidia"]
    assert page.html is not None and "<h1" in page.html and ">NVIDIA<" in page.html
    crumbs = site.pages["hardware.gpu.nvidia.a100"].before
    assert ">NVIDIA</a>" in crumbs and ">GPU</a>" in crumbs and "Nvidia" not in crumbs
