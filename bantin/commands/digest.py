"""`bantin digest`"""

import typer


def digest_command() -> None:
    """(being built)"""
    raise typer.Exit(1)
