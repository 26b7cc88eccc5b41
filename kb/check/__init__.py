"""Check: notes, the link graph and the built HTML -> problems.

Takes what parse, link and render made; gives `Diagnostic`s: of every note's links, embeds and
images (kb.check.notecheck, which the build runs too), of data/ and each data block
(kb.check.datacheck: `kb check` only, in a forked process), of old frontmatter and Markdown links
(kb.check.checker: `kb check` itself), of external links (kb.check.external) and of the built
site's links (kb.check.htmlcheck: `kb build`).
"""
