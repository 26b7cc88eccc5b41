"""Parse: the project's files -> notes.

Takes the vault's Markdown files (and mkdocs.yml, for where they are: kb.parse.project); gives
one `Note` per file, parsed once per build (kb.parse.vault; its summary kept in .kb-cache/ by
kb.parse.notecache): frontmatter, headings, block ids, and the wikilinks, embeds, tags and data
blocks it holds (kb.parse.syntax), with the problems of the file itself (kb.parse.diagnostics).
Knows nothing of the other notes.
"""
