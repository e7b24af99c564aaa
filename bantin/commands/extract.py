"""`bantin extract`"""

import typer


def extract_command() -> None:
    """(being built)"""
    raise typer.Exit(1)
