"""Render: notes and the link graph -> each page's Markdown and HTML pieces.

Takes the notes and the link graph; gives each note prepared (kb.render.prepare: {{fm.*}}
replaced, data blocks drawn by kb.data), then per page the Markdown MkDocs converts and the
furniture around it (kb.render.pages: breadcrumbs, lists, stub, tag and user pages), images and
files made relative (kb.render.media), the sidebar (kb.render.localnav), theme blocks drawn once
per depth (kb.render.theme_memo) and the search index's names (kb.render.search).
"""
