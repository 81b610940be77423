"""/api/party: party building linked to the work (党建+业务): branches, members, vanguard posts, activities,
微党课 competitions, members on work orders and incidents, vanguard-team call-outs, points and the monthly figures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from runze.ops import party as party_ops
from runze.ops import party_figures
from runze.ops.auth import Actor
from runze.ops.reports import jsonable
from runze.web.deps import IfMatch, Limit, Offset, PathId, SessionDep, expected_version, require
from runze.web.errors import error_responses
from runze.web.schemas.common import Page, page_of
from runze.web.schemas.service_party import (
    MONTH_PATTERN,
    ActivityCreate,
    ActivityRead,
    BranchCreate,
    BranchRead,
    CalloutCreate,
    CalloutRead,
    CompetitionCreate,
    CompetitionRead,
    MemberCreate,
    MemberRead,
    ParticipationCreate,
    ParticipationRead,
    PostCreate,
    PostRead,
    ScoreSheet,
    VersionOnly,
    When,
)

router = APIRouter(prefix="/party", tags=["party"], responses=error_responses(401, 403, 422))
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM (local time)")]
Read = Annotated[Actor, require("party:read")]
Manage = Annotated[Actor, require("party:manage")]
Log = Annotated[Actor, require("party:log")]


@router.get("/branches", response_model=Page[BranchRead])
def list_branches(actor: Read, session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> dict:
    return page_of(BranchRead, party_ops.list_branches(session, limit=limit, offset=offset))


@router.post("/branches", response_model=BranchRead, status_code=201, responses=error_responses(409))
def create_branch(body: BranchCreate, actor: Manage, session: SessionDep) -> BranchRead:
    return BranchRead.model_validate(party_ops.create_branch(session, actor, **body.model_dump()))


@router.get("/members", response_model=Page[MemberRead])
def list_members(actor: Read, session: SessionDep, branch_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                 limit: Limit = 50, offset: Offset = 0) -> dict:
    return page_of(MemberRead, party_ops.list_members(session, branch_id=branch_id, limit=limit, offset=offset))


@router.post("/members", response_model=MemberRead, status_code=201, responses=error_responses(409))
def create_member(body: MemberCreate, actor: Manage, session: SessionDep) -> MemberRead:
    return MemberRead.model_validate(party_ops.create_member(session, actor, **body.model_dump()))


@router.get("/posts", response_model=Page[PostRead])
def list_posts(actor: Read, session: SessionDep, area_kind: Annotated[str | None, Query(max_length=16)] = None,
               limit: Limit = 50, offset: Offset = 0) -> dict:
    return page_of(PostRead, party_ops.list_posts(session, area_kind=area_kind, limit=limit, offset=offset))


@router.post("/posts", response_model=PostRead, status_code=201)
def create_post(body: PostCreate, actor: Manage, session: SessionDep) -> PostRead:
    return PostRead.model_validate(party_ops.create_post(session, actor, **body.model_dump()))


@router.get("/activities", response_model=Page[ActivityRead])
def list_activities(actor: Read, session: SessionDep, kind: Annotated[str | None, Query(max_length=32)] = None,
                    branch_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    since: Annotated[When | None, Query()] = None, until: Annotated[When | None, Query()] = None,
                    limit: Limit = 50, offset: Offset = 0) -> dict:
    page = party_ops.list_activities(session, kind=kind, branch_id=branch_id, since=since, until=until, limit=limit,
                                     offset=offset)
    return page_of(ActivityRead, page)


@router.post("/activities", response_model=ActivityRead, status_code=201)
def create_activity(body: ActivityCreate, actor: Manage, session: SessionDep) -> ActivityRead:
    return ActivityRead.model_validate(party_ops.create_activity(session, actor, **body.model_dump()))


@router.post("/participations", response_model=ParticipationRead, status_code=201, responses=error_responses(409))
def add_participation(body: ParticipationCreate, actor: Log, session: SessionDep) -> ParticipationRead:
    return ParticipationRead.model_validate(party_ops.add_participation(session, actor, **body.model_dump()))


@router.post("/callouts", response_model=CalloutRead, status_code=201)
def add_callout(body: CalloutCreate, actor: Log, session: SessionDep) -> CalloutRead:
    return CalloutRead.model_validate(party_ops.add_callout(session, actor, **body.model_dump()))


@router.get("/competitions", response_model=Page[CompetitionRead])
def list_competitions(actor: Read, session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> dict:
    return page_of(CompetitionRead, party_ops.list_competitions(session, limit=limit, offset=offset))


@router.post("/competitions", response_model=CompetitionRead, status_code=201)
def create_competition(body: CompetitionCreate, actor: Manage, session: SessionDep) -> CompetitionRead:
    data = body.model_dump()
    data["prize_bands"] = [list(b) for b in body.prize_bands] if body.prize_bands else None
    return CompetitionRead.model_validate(party_ops.create_competition(session, actor, **data))


@router.get("/competitions/{competition_id}", response_model=CompetitionRead, responses=error_responses(404))
def get_competition(competition_id: PathId, actor: Read, session: SessionDep) -> CompetitionRead:
    return CompetitionRead.model_validate(party_ops.get_competition(session, competition_id))


@router.post("/competitions/{competition_id}/scores", response_model=CompetitionRead,
             responses=error_responses(404, 409, 428))
def submit_scores(competition_id: PathId, body: ScoreSheet, actor: Manage, session: SessionDep,
                  if_match: IfMatch = None) -> CompetitionRead:
    competition = party_ops.submit_scores(session, actor, competition_id, judge=body.judge, scores=body.scores,
                                          expected_version=expected_version(body.version, if_match))
    return CompetitionRead.model_validate(competition)


@router.post("/competitions/{competition_id}/result", response_model=CompetitionRead,
             responses=error_responses(404, 409))
def score(competition_id: PathId, body: VersionOnly, actor: Manage, session: SessionDep) -> CompetitionRead:
    """Rank the contestants (trimmed mean with ≥ 5 judges, tie-breaks, shared ranks) and store the result."""
    return CompetitionRead.model_validate(party_ops.score(session, actor, competition_id,
                                                         expected_version=body.version))


@router.get("/points", response_model=list[dict[str, Any]])
def points(month: Month, actor: Read, session: SessionDep) -> list:
    return jsonable(party_figures.member_points(session, month))


@router.get("/report", response_model=dict[str, Any])
def report(month: Month, actor: Read, session: SessionDep) -> dict:
    """The month's "党建+业务" figures (definitions in runze.ops.party_figures)."""
    return jsonable(party_figures.monthly_party_report(session, month))
