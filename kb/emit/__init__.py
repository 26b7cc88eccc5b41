"""Emit: the wired stages (kb.site) -> the site, and the `kb` commands.

Takes a `Site`; gives MkDocs its pages (kb.emit.mkdocs_adapter, the only module that imports
MkDocs besides kb.emit.serve), `kb build`'s checked site swapped into place (kb.emit.sitebuild,
with kb.emit.exchange, kb.emit.child, kb.emit.faults), `kb serve` (kb.emit.serve), and the
commands that write notes (kb.emit.cli, kb.emit.newnote, kb.emit.rename, kb.emit.journal).
"""
