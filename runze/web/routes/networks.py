"""/api/networks: upload an .inp (+ sidecar JSON) as a new version, list versions, read one, list its assets."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import PlainTextResponse

from runze.ops import networks as network_ops
from runze.ops.auth import Actor
from runze.ops.errors import InvalidInput
from runze.web.deps import Limit, Offset, PathId, SessionDep, require
from runze.web.errors import error_responses
from runze.web.schemas.common import Page, page_of
from runze.web.schemas.networks import AssetRead, NetworkVersionRead

router = APIRouter(prefix="/networks", tags=["networks"], responses=error_responses(401, 403, 422))
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


async def _read(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"{upload.filename}: larger than {MAX_UPLOAD_BYTES // 2**20} MiB", message_zh="文件过大",
                           details={"file": upload.filename})
    return data


@router.post("", response_model=NetworkVersionRead, status_code=201, responses=error_responses(409))
async def import_network(
    actor: Annotated[Actor, require("networks:import")],
    session: SessionDep,
    inp: Annotated[UploadFile, File(description="EPANET .inp file")],
    sidecar: Annotated[UploadFile | None, File(description="utility attributes JSON (DMAs, plants ...)")] = None,
    name: Annotated[str | None, Form(max_length=128)] = None,
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> NetworkVersionRead:
    inp_data = await _read(inp)
    sidecar_data = await _read(sidecar) if sidecar is not None else None
    version = network_ops.import_network_file(
        session, actor, inp_data=inp_data, filename=inp.filename or "network.inp", sidecar_data=sidecar_data,
        sidecar_filename=(sidecar.filename if sidecar is not None else None) or "sidecar.json",
        name=name or None, comment=comment,
    )
    return NetworkVersionRead.of(version)


@router.get("", response_model=Page[NetworkVersionRead])
def list_versions(actor: Annotated[Actor, require("networks:read")], session: SessionDep,
                  name: Annotated[str | None, Query(max_length=128)] = None, limit: Limit = 50,
                  offset: Offset = 0) -> dict:
    page = network_ops.list_versions(session, name=name, limit=limit, offset=offset)
    return {"items": [NetworkVersionRead.of(v) for v in page.items], "total": page.total, "limit": page.limit,
            "offset": page.offset}


@router.get("/{version_id}", response_model=NetworkVersionRead, responses=error_responses(404))
def get_version(version_id: PathId, actor: Annotated[Actor, require("networks:read")],
                session: SessionDep) -> NetworkVersionRead:
    return NetworkVersionRead.of(network_ops.get_version(session, version_id))


INP_RESPONSE = {200: {"description": "the .inp file as imported", "content": {"text/plain": {"schema": {"type": "string"}}}}}


@router.get("/{version_id}/inp", response_model=None, responses={**INP_RESPONSE, **error_responses(404)})
def get_inp(version_id: PathId, actor: Annotated[Actor, require("networks:read")],
            session: SessionDep) -> PlainTextResponse:
    # errors stay JSON (the shared error body); only the file itself is text
    return PlainTextResponse(network_ops.get_version(session, version_id).inp_text)


@router.get("/{version_id}/assets", response_model=Page[AssetRead], responses=error_responses(404))
def list_assets(
    version_id: PathId,
    actor: Annotated[Actor, require("networks:read")],
    session: SessionDep,
    category: Literal["node", "link"] | None = None,
    kind: Literal[network_ops.ASSET_KINDS] | None = None,  # type: ignore[valid-type]
    dma: Annotated[str | None, Query(max_length=64)] = None,
    asset_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict:
    page = network_ops.list_assets(session, version_id, category=category, kind=kind, dma=dma, asset_id=asset_id,
                                   limit=limit, offset=offset)
    return page_of(AssetRead, page)
