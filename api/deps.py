"""Dependencies of the handlers, as ``Annotated`` aliases.

Each only reads the app's state, so each is ``async``: run on the event loop, not handed to
the thread pool (a hop per dependency per request cost a fifth of the throughput).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from starlette.exceptions import HTTPException

from api.analysis import CoverageCache, ResultCache
from api.auth import api_key_scheme
from api.cache import LayerReader
from api.plans import PlanJobs
from api.settings import Settings
from geoplan.keys import ApiKey
from geoplan.policy import Policy, read_policy
from geoplan.store import Store


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> Store:
    """The workspace store."""
    store: Store = request.app.state.store
    return store


async def get_reader(request: Request) -> LayerReader:
    """Cached layer frames."""
    reader: LayerReader = request.app.state.reader
    return reader


async def get_key(
    request: Request, _header: Annotated[str | None, Security(api_key_scheme)] = None
) -> ApiKey:
    """The caller's key, as :class:`api.auth.AuthMiddleware` verified it."""
    key = request.state.key if hasattr(request.state, "key") else None
    if not isinstance(key, ApiKey):  # only reachable if a route is left out of the roles table
        raise HTTPException(403, "this route is not open to any key")
    return key


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
ReaderDep = Annotated[LayerReader, Depends(get_reader)]
KeyDep = Annotated[ApiKey, Depends(get_key)]


def get_policy(store: StoreDep) -> Policy:
    """The workspace's protection policy, read per request (a policy change applies at once).

    Not ``async``: it reads the workspace, so it runs in the thread pool.
    """
    return read_policy(store)


PolicyDep = Annotated[Policy, Depends(get_policy)]


async def get_coverage(request: Request) -> CoverageCache:
    """Coverage analyses, cached by workspace revision and parameters."""
    coverage: CoverageCache = request.app.state.coverage
    return coverage


async def get_plans(request: Request) -> PlanJobs:
    """The plan jobs."""
    plans: PlanJobs = request.app.state.plans
    return plans


async def get_maps(request: Request) -> ResultCache[str]:
    """Rendered maps, cached by workspace revision and options."""
    maps: ResultCache[str] = request.app.state.maps
    return maps


CoverageDep = Annotated[CoverageCache, Depends(get_coverage)]
PlansDep = Annotated[PlanJobs, Depends(get_plans)]
MapsDep = Annotated[ResultCache[str], Depends(get_maps)]
