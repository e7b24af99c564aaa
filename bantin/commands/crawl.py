"""`bantin crawl`"""

import typer


def crawl_command() -> None:
    """(being built)"""
    raise typer.Exit(1)
