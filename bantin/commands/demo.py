"""`bantin demo`"""

import typer


def demo_command() -> None:
    """(being built)"""
    raise typer.Exit(1)
