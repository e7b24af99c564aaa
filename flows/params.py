"""The deployments' parameters, typed so that bad input is refused when a run is triggered.

`prefect deploy` (and `python -m flows.serve`) store each flow's parameter schema on the
server, built from these types and the flow's docstring (`Args:` give the descriptions
shown in the UI's run form). With `enforce_parameter_schema` (deploy/prefect.yaml) the
server refuses a run whose parameters do not match, before any worker starts it:

    $ prefect deployment run weekly-digest/weekly-digest --param week=2024-27
    Error creating flow run: Validation failed for field 'week'. Failure reason:
    '2024-27' does not match '^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$'

`sources` lists the ids of the sources file read when the schema is built (re-deploy after
adding a source); the flows check them again when they start (`selected_sources`), so a
run started another way is refused with the parameter's name too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from bantin.settings import Settings, SettingsError
from bantin.sources import Source, SourcesError, load_sources

WEEK_PATTERN = r"^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$"


class ParameterError(ValueError):
    """A run's parameter is unusable; the message starts with 'parameter <name>:'."""


def known_source_ids(sources_file: Path | None = None) -> list[str]:
    """Every source id of the sources file (enabled or not), [] when it cannot be read."""
    try:
        path = sources_file or Settings.from_env().sources_file
        return [s.id for s in load_sources(path, include_disabled=True)]
    except (SourcesError, SettingsError):
        return []  # the preflight says what is wrong with the file, in the run


def _source_id_schema() -> dict[str, Any]:
    """The schema of one id of `sources`: the known ids (the UI offers them, the server checks
    them), read from the sources file when the flows are imported (`prefect deploy`)."""
    ids = known_source_ids()
    return {"enum": ids} if ids else {}


SourceId = Annotated[str, Field(min_length=1, json_schema_extra=_source_id_schema())]
Week = Annotated[str | None, Field(pattern=WEEK_PATTERN)]
SourceIds = Annotated[list[SourceId] | None, Field(min_length=1)]
Districts = Annotated[list[str] | None, Field(min_length=1)]
BatchSize = Annotated[int, Field(ge=1, le=500)]
MaxPages = Annotated[int | None, Field(ge=1, le=1000)]
Retries = Annotated[int, Field(ge=0, le=10)]
DelaySeconds = Annotated[float | None, Field(ge=0, le=86400)]


def selected_sources(settings: Settings, ids: list[str] | None) -> list[Source]:
    """The sources a run's `sources` parameter names (None: every enabled one).

    An unknown id raises ParameterError naming the parameter; a broken sources file raises
    SourcesError (file, line and field).
    """
    every = load_sources(settings.sources_file, include_disabled=True)
    if not ids:
        return [s for s in every if s.enabled]
    by_id = {s.id: s for s in every}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        names = ", ".join(repr(i) for i in unknown)
        raise ParameterError(
            f"parameter sources: {names} {'is not a source id' if len(unknown) == 1 else 'are not source ids'} "
            f"of {settings.sources_file}; known: {', '.join(sorted(by_id))}"
        )
    return [by_id[i] for i in ids]
