"""Link: notes -> the link graph.

Takes the parsed notes and their prepared text (kb.render.prepare); gives the hierarchy (pages,
stubs, tag and user pages, titles: kb.link.hierarchy), each page's text with its embeds expanded
(kb.link.embeds) and its anchors, where each wikilink goes (kb.link.resolve), and what each page
depends on (kb.link.linkgraph): plain data, which `kb serve` queries after a save.
"""
