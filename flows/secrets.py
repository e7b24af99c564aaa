"""Secrets kept in Prefect blocks (the only place outside the worker's environment)."""

from __future__ import annotations

from pydantic import SecretStr

from bantin.settings import SmtpSettings


def smtp_password(smtp: SmtpSettings) -> SecretStr | None:
    """The SMTP password: BANTIN_SMTP_PASSWORD when set, else the Prefect Secret block
    named by BANTIN_SMTP_SECRET_BLOCK; never a flow parameter or a tracked file."""
    if smtp.password or not smtp.password_secret_block:
        return smtp.password
    from prefect.blocks.system import Secret

    secret = Secret.load(smtp.password_secret_block)
    # Block.load answers a coroutine in async code; this function is for sync callers only.
    if not isinstance(secret, Secret):
        raise TypeError("smtp_password: called from async code, where Secret.load is a coroutine")
    return SecretStr(str(secret.get()))
