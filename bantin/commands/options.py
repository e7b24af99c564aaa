"""Options shared by commands (`bantin crawl`, `bantin run`): one wording, one place."""

from __future__ import annotations

from typing import Annotated

import typer

Offline = Annotated[
    bool, typer.Option("--offline", help="Crawl the fixture portals instead of the network (BANTIN_OFFLINE=1).")
]
SourceIds = Annotated[
    list[str] | None, typer.Option("--source", "-s", help="Source id to crawl (repeatable); default: all enabled.")
]
MaxPages = Annotated[int | None, typer.Option("--max-pages", min=1, help="Listing pages per listing at most.")]
