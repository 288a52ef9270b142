"""API keys: list, create and revoke (admins only). A key is shown once, when it is made."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import KeyDep, StoreDep
from api.models import KeyCreate, KeyCreated, KeyInfo, KeyList
from api.responses import NOT_FOUND, PROBLEMS
from geoplan.keys import ApiKey, api_who, create_key, list_keys, revoke_key

router = APIRouter(prefix="/keys", tags=["keys"], responses=PROBLEMS)
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$", description="The key's id.")]


def _info(key: ApiKey) -> KeyInfo:
    return KeyInfo.model_validate(vars(key))


@router.get("", summary="Every key, revoked ones included")
def get_keys(store: StoreDep) -> KeyList:
    """Keys as the workspace knows them: ids, roles, names and dates, never the keys."""
    return KeyList(keys=[_info(k) for k in list_keys(store)])


@router.post("", status_code=201, summary="Create a key")
def post_key(store: StoreDep, caller: KeyDep, body: KeyCreate) -> KeyCreated:
    """A new key with a role; `key` is in this response only, so keep it now."""
    key, token = create_key(store, role=body.role, name=body.name, who=api_who(caller))
    return KeyCreated(**vars(key), key=token)


@router.delete("/{key_id}", summary="Revoke a key", responses=NOT_FOUND)
def delete_key(store: StoreDep, caller: KeyDep, key_id: KeyId) -> KeyInfo:
    """The key stops working from the next request on."""
    return _info(revoke_key(store, key_id, who=api_who(caller)))
