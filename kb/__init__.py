"""kb: a Dendron vault plus benchmark CSVs, published as a mkdocs-material site.

The core (vault model, link graph, Markdown transforms, table engine, checker)
knows nothing of MkDocs; hooks/kb_hook.py adapts it to MkDocs events.
"""
__version__ = "0.1.0"
