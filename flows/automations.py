"""Apply deploy/automations.yaml to the Prefect server: alerts on failed, stuck and crashed runs.

    python -m flows.automations --webhook URL   # create/update the notification block "bantin-alerts"
                                                # (a JSON POST {"subject", "body"} to URL), then apply
    python -m flows.automations                 # create or update the automations (idempotent)
    python -m flows.automations --check         # validate the file against the server's schema only

An automation of the same name is updated in place, never added twice. A `send-notification`
action names its block (`block: bantin-alerts`); any notification block of that name works
(Slack, Teams, a webhook: docs/prefect.md). Needs PREFECT_API_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AUTOMATIONS_FILE = PROJECT_ROOT / "deploy" / "automations.yaml"
ALERTS_BLOCK = "bantin-alerts"


class AutomationsError(ValueError):
    """The automations file cannot be applied; the message names the entry and the fix."""


def read_automations(path: Path = AUTOMATIONS_FILE) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AutomationsError(f"{path}: {exc}") from None
    entries = data.get("automations") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise AutomationsError(f"{path}: expected a list under `automations:`")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise AutomationsError(f"{path}: automations[{i}]: `name` is missing")
    return entries


def block_names(entries: list[dict[str, Any]]) -> set[str]:
    return {a["block"] for e in entries for a in e.get("actions", []) if isinstance(a, dict) and "block" in a}


def resolve(entries: list[dict[str, Any]], block_ids: dict[str, str]) -> list[Any]:
    """AutomationCore objects, each `block: <name>` replaced by that block's id (validated
    as the server will: AutomationsError names the automation and the problem)."""
    from prefect.events.schemas.automations import AutomationCore
    from pydantic import ValidationError

    found = []
    for entry in entries:
        data = dict(entry)
        actions = []
        for action in data.get("actions", []):
            action = dict(action)
            name = action.pop("block", None)
            if name is not None:
                action["block_document_id"] = block_ids.get(name, "00000000-0000-0000-0000-000000000000")
            actions.append(action)
        data["actions"] = actions
        try:
            found.append(AutomationCore.model_validate(data))
        except ValidationError as exc:
            raise AutomationsError(f"automation {entry['name']!r}: {exc}") from None
    return found


async def _block_ids(client: Any, names: set[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    if names:
        documents = await client.read_block_documents(include_secrets=False)
        ids = {d.name: str(d.id) for d in documents if d.name in names}
    missing = sorted(names - set(ids))
    if missing:
        raise AutomationsError(
            f"no notification block named {', '.join(missing)} on the server: create one first, e.g. "
            f"`python -m flows.automations --webhook https://...` or a Slack block (docs/prefect.md, Alerts)"
        )
    return ids


async def save_webhook_block(url: str, name: str = ALERTS_BLOCK) -> None:
    """A notification block POSTing {"subject", "body"} as JSON to `url` (created or replaced)."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock(
        name=name,
        url=url,
        method="POST",
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
        allow_private_urls=True,  # the operator's own URL, possibly on the intranet
    )
    await block.save(name, overwrite=True)


async def apply(path: Path = AUTOMATIONS_FILE, *, check_only: bool = False) -> list[str]:
    """Create or update each automation of the file; returns one line per automation."""
    from prefect.client.orchestration import get_client

    entries = read_automations(path)
    lines = []
    async with get_client() as client:
        if check_only:
            resolve(entries, {})
            return [f"valid: {e['name']}" for e in entries]
        automations = resolve(entries, await _block_ids(client, block_names(entries)))
        for automation in automations:
            existing = await client.read_automations_by_name(automation.name)
            if existing:
                await client.update_automation(existing[0].id, automation)
                for extra in existing[1:]:  # copies from `prefect automation create`
                    await client.delete_automation(extra.id)
                lines.append(f"updated {automation.name!r}")
            else:
                await client.create_automation(automation)
                lines.append(f"created {automation.name!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.automations", description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=AUTOMATIONS_FILE)
    parser.add_argument("--webhook", metavar="URL", help=f"first create/update the notification block {ALERTS_BLOCK!r}: a JSON POST to URL")
    parser.add_argument("--check", action="store_true", help="validate the file only; change nothing")
    args = parser.parse_args(argv)

    from flows.serve import require_api

    require_api()
    try:
        if args.webhook:
            asyncio.run(save_webhook_block(args.webhook))
            print(f"saved notification block {ALERTS_BLOCK} -> POST {args.webhook}", flush=True)
        for line in asyncio.run(apply(args.file, check_only=args.check)):
            print(line, flush=True)
    except AutomationsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
