"""kb: a Dendron vault plus benchmark CSVs, published as a mkdocs-material site.

Laid out by stage, in pipeline order: parse/ (files -> notes), link/ (the link graph),
render/ (page Markdown and HTML), check/ (problems) and emit/ (MkDocs, the kb commands);
site.py wires one build's stages; data/ is the table and chart engine.

The core (vault model, link graph, Markdown transforms, table engine, checker)
knows nothing of MkDocs; hooks/kb_hook.py adapts it to MkDocs events.
"""
__version__ = "0.1.0"
