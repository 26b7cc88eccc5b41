"""`kb serve`: the site built once, then kept up to date page by page as notes and data are saved.

graph.py  the pages a save reaches (from what the link graph says each page read and links),
          and the kb Site brought up to date (no MkDocs)
live.py   the MkDocs side: the first real build, then MkDocs' page pipeline on changed pages only
server.py MkDocs' live-reload server, told which files changed
"""
