"""Importing deputies from the Excel sheets offices keep: a preview row by row, then a commit.

The preview says for every row what would happen (create, update, unchanged) or why it cannot
(invalid, with every reason); the upload is kept in ``deputy_imports`` so the commit needs only
its id and the web process stays stateless. The commit reads the file again, re-checks every row
against the records as they are now, and writes all rows in the caller's transaction, or nothing
when any row is invalid. A row matches a stored deputy by 代表编号 within its term, else by name and phone
(or by name alone when exactly one deputy of the term has it). Empty cells leave stored values
as they are; township and station names resolve inside the tenant.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from renda.platform import audit
from renda.platform.access.policy import Principal, Target, can
from renda.platform.db import utcnow
from renda.platform.errors import N_, Conflict, Message, NotFound, ValidationFailed
from renda.platform.numbers import is_id
from renda.platform.tenancy.models import OrgUnit, Tenant
from renda.platform.tenancy.service import tenant_root
from renda.tenants.congress.roles import Permission
from renda.tenants.deputies import rules, service
from renda.tenants.deputies.models import Deputy, DeputyImport, DeputyStation
from renda.tenants.deputies.sheet import MAX_BYTES, MAX_ROWS, read_sheet

KEEP_UPLOADS = dt.timedelta(days=7)
ACTIONS = ("create", "update", "unchanged", "invalid")
_SPLIT = re.compile(r"[、,，;；/／\n]+")


@dataclass
class ImportRow:
    number: int  # the row's number in the sheet, as Excel shows it
    action: str  # one of ACTIONS
    values: dict[str, str]  # the row's cells as text, by field ("township", "stations" included)
    errors: list[Message] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # fields an update changes
    deputy_id: int | None = None
    # What the commit writes (not shown): cleaned fields, the place and the stations.
    clean: dict[str, Any] = field(default_factory=dict, repr=False)
    place_id: int | None = field(default=None, repr=False)
    station_ids: list[int] | None = field(default=None, repr=False)


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    columns: list[str]  # the fields the sheet has, in its order
    ignored: list[str]  # headers that name nothing kept
    token: int | None = None  # the DeputyImport id to commit
    filename: str = ""
    committed: bool = False

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(row.action for row in self.rows)
        return {action: counted.get(action, 0) for action in ACTIONS}

    @property
    def valid(self) -> bool:
        return self.counts["invalid"] == 0


class ImportRefused(ValidationFailed):
    """The commit found invalid rows and wrote nothing; ``preview`` says which and why."""

    def __init__(self, preview: ImportPreview) -> None:
        n = preview.counts["invalid"]
        super().__init__({"file": Message(N_("%(n)s rows are invalid, so nothing was imported. Correct them in "
                                             "the sheet and upload it again."), n=n)})
        self.preview = preview


def limits() -> dict[str, int]:
    return {"mb": MAX_BYTES // (1024 * 1024), "rows": MAX_ROWS}


def access_import(session: Session, actor: Principal, tenant: Tenant, import_id: int) -> DeputyImport:
    """A previewed upload of this tenant; any other token (one no row can have, too) is NotFound."""
    if not is_id(import_id):
        raise NotFound("deputy import")
    upload = session.scalars(select(DeputyImport).where(
        DeputyImport.id == import_id, DeputyImport.tenant_id == tenant.id)).first()
    if upload is None:
        raise NotFound("deputy import")
    return upload


def preview(session: Session, actor: Principal, tenant: Tenant, content: bytes, filename: str = "") -> ImportPreview:
    """Read the sheet and say what a commit would do with each row; keep the upload for the commit."""
    service.require_keeper(actor, tenant)
    result = _classify(session, actor, tenant, content)
    session.execute(delete(DeputyImport).where(
        DeputyImport.tenant_id == tenant.id, DeputyImport.created_at < utcnow() - KEEP_UPLOADS,
    ).execution_options(synchronize_session=False))
    upload = DeputyImport(tenant_id=tenant.id, filename=(filename or "")[-255:], content=content,
                          sha256=hashlib.sha256(content).hexdigest(), created_by=actor.user_id)
    session.add(upload)
    session.flush()
    result.token, result.filename = upload.id, upload.filename
    return result


def commit(session: Session, actor: Principal, tenant: Tenant, source: int | bytes) -> ImportPreview:
    """Apply a previewed upload (its token) or a file's bytes: every row, or nothing at all."""
    service.require_keeper(actor, tenant)
    upload: DeputyImport | None = None
    if isinstance(source, int):
        upload = access_import(session, actor, tenant, source)
        source = upload.content
    result = _classify(session, actor, tenant, source)
    if upload is not None:
        result.token, result.filename = upload.id, upload.filename
    if not result.valid:
        raise ImportRefused(result)
    try:
        _apply(session, actor, tenant, result)  # nothing was written before every row had passed
        session.flush()
    except StaleDataError:
        raise Conflict(Message(N_("Someone changed these deputies while the sheet was imported. Upload it "
                                  "again to see the rows as they are now."))) from None
    if upload is not None:
        upload.committed_at = utcnow()
        upload.result = result.counts
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="deputy.import",
                 object_type="deputy_imports", object_id=upload.id if upload else "",
                 after={"filename": result.filename, **result.counts})
    result.committed = True
    return result


# --- classifying the rows ----------------------------------------------------------------------


@dataclass
class _Known:
    """The tenant's places, stations and deputies, loaded once per sheet."""

    root: OrgUnit
    places: dict[str, OrgUnit]  # townships by name and by code
    places_by_id: dict[int, OrgUnit]
    stations: dict[str, OrgUnit]
    by_code: dict[tuple[int, str], Deputy]
    by_name: dict[tuple[int, str], list[Deputy]]
    stations_of: dict[int, set[int]]


def _load(session: Session, tenant: Tenant) -> _Known:
    root = tenant_root(session, tenant)
    townships = list(session.scalars(select(OrgUnit).where(
        OrgUnit.tenant_id == tenant.id, OrgUnit.kind == "township", OrgUnit.retired_at.is_(None))))
    places = {t.name: t for t in townships} | {t.code: t for t in townships if t.code}
    stations = {s.name: s for s in session.scalars(select(OrgUnit).where(service.station_filter(tenant)))}
    deputies = list(session.scalars(select(Deputy).where(Deputy.tenant_id == tenant.id)))
    by_name: dict[tuple[int, str], list[Deputy]] = defaultdict(list)
    for d in deputies:
        by_name[(d.term, d.name)].append(d)
    stations_of: dict[int, set[int]] = defaultdict(set)
    for deputy_id, station_id in session.execute(select(DeputyStation.deputy_id, DeputyStation.org_unit_id)
                                                 .where(DeputyStation.tenant_id == tenant.id)):
        stations_of[deputy_id].add(station_id)
    place_ids = {d.org_unit_id for d in deputies} - {t.id for t in townships} - {root.id}
    others: list[OrgUnit] = (list(session.scalars(select(OrgUnit).where(OrgUnit.id.in_(sorted(place_ids)))))
                             if place_ids else [])
    return _Known(
        root=root, places=places, places_by_id={u.id: u for u in (root, *townships, *others)}, stations=stations,
        by_code={(d.term, d.id_code): d for d in deputies if d.id_code},
        by_name=by_name, stations_of=stations_of,
    )


def _classify(session: Session, actor: Principal, tenant: Tenant, content: bytes) -> ImportPreview:
    sheet = read_sheet(content)
    known = _load(session, tenant)
    seen: dict[tuple[Any, ...], int] = {}
    rows = [_row(actor, tenant, known, seen, number, cells) for number, cells in sheet.rows]
    return ImportPreview(rows=rows, columns=list(sheet.columns.values()), ignored=sheet.ignored)


def _row(actor: Principal, tenant: Tenant, known: _Known, seen: dict[tuple[Any, ...], int], number: int,
         cells: dict[str, Any]) -> ImportRow:
    row = ImportRow(number, "invalid", {k: _shown(v) for k, v in cells.items()})
    raw = {f: v for f, v in cells.items() if f in rules.CLEANERS and rules.text(v) != ""}
    raw.setdefault("name", "")
    raw.setdefault("term", "")
    try:
        row.clean = rules.clean_fields(raw)
    except ValidationFailed as exc:
        row.errors.extend(exc.errors.values())
    place = _resolve_place(known, rules.text(cells.get("township")), row)
    row.station_ids = _resolve_stations(known, rules.text(cells.get("stations")), row)
    if row.errors:
        return row
    clean = row.clean
    key: tuple[Any, ...] = ((clean["term"], "code", clean["id_code"]) if clean.get("id_code")
                            else (clean["term"], clean["name"], clean.get("phone", "")))
    if key in seen:
        row.errors.append(Message(N_("The same deputy is already on row %(row)s of this sheet."), row=seen[key]))
        return row
    seen[key] = number
    deputy = _match(known, clean, row)
    if row.errors:
        return row
    target = place or (known.places_by_id.get(deputy.org_unit_id) if deputy else known.root)
    outside = [p for p in (target, known.places_by_id.get(deputy.org_unit_id) if deputy else None)
               if p is not None and not can(actor, Permission.DEPUTY_MANAGE, Target(tenant.id, p.path))]
    if outside:
        row.errors.append(Message(N_("You do not keep the deputies of %(place)s."), place=outside[0].name))
        return row
    row.place_id = target.id if target else None
    if deputy is None:
        clean.setdefault("level", tenant.level)  # a county's own sheet rarely says "county" on every row
        row.action = "create"
        return row
    row.deputy_id = deputy.id
    row.changes = [f for f, v in clean.items() if getattr(deputy, f) != v]
    if row.place_id != deputy.org_unit_id:
        row.changes.append("township")
    if row.station_ids is not None and set(row.station_ids) != known.stations_of.get(deputy.id, set()):
        row.changes.append("stations")
    row.action = "update" if row.changes else "unchanged"
    return row


def _shown(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else rules.text(value)


def _resolve_place(known: _Known, name: str, row: ImportRow) -> OrgUnit | None:
    if not name:
        return None
    place = known.places.get(name)
    if place is None:
        row.errors.append(Message(N_("Unknown township “%(name)s”: use a township's name as the org tree has it."),
                                  name=name))
    return place


def _resolve_stations(known: _Known, names: str, row: ImportRow) -> list[int] | None:
    if not names:
        return None  # an empty cell keeps the deputy's stations
    ids = []
    for name in (n.strip() for n in _SPLIT.split(names) if n.strip()):
        station = known.stations.get(name)
        if station is None:
            row.errors.append(Message(N_("Unknown liaison station “%(name)s”."), name=name))
        else:
            ids.append(station.id)
    return sorted(set(ids))


def _match(known: _Known, clean: dict[str, Any], row: ImportRow) -> Deputy | None:
    term, name, phone, code = clean["term"], clean["name"], clean.get("phone"), clean.get("id_code")
    if code and (term, code) in known.by_code:
        return known.by_code[(term, code)]
    # A stored namesake with another number, or another phone, is another person.
    candidates = [d for d in known.by_name.get((term, name), []) if not (code and d.id_code)]
    if phone:
        same_phone = [d for d in candidates if d.phone == phone]
        candidates = same_phone or [d for d in candidates if not d.phone]
    if len(candidates) > 1:
        row.errors.append(Message(N_("Several deputies of this term are called %(name)s: add their deputy "
                                     "number (代表编号) or phone."), name=name))
        return None
    return candidates[0] if candidates else None


# --- writing -----------------------------------------------------------------------------------


def _apply(session: Session, actor: Principal, tenant: Tenant, result: ImportPreview) -> None:
    """Create and update every row in one flush; audit each changed deputy with before and after."""
    created: list[tuple[ImportRow, Deputy]] = []
    updated: list[tuple[ImportRow, Deputy, dict[str, Any]]] = []
    for row in result.rows:
        if row.action == "create":
            deputy = Deputy(tenant_id=tenant.id, org_unit_id=row.place_id, **row.clean)
            session.add(deputy)
            created.append((row, deputy))
        elif row.action == "update":
            stored = session.get(Deputy, row.deputy_id)
            assert stored is not None  # loaded by _classify in this transaction
            before = service.snapshot(stored, service.station_ids_of(session, stored))
            for name, value in row.clean.items():
                setattr(stored, name, value)
            stored.org_unit_id = row.place_id or stored.org_unit_id
            updated.append((row, stored, before))
    session.flush()
    for row, deputy in created:
        row.deputy_id = deputy.id
        session.add_all(DeputyStation(tenant_id=tenant.id, deputy_id=deputy.id, org_unit_id=s)
                        for s in row.station_ids or [])
        _audit(session, actor, deputy, "deputy.create", None, service.snapshot(deputy, row.station_ids or []))
    for row, deputy, before in updated:
        stations = before["stations"]
        if row.station_ids is not None and set(row.station_ids) != set(stations):
            session.execute(delete(DeputyStation).where(DeputyStation.tenant_id == tenant.id,
                                                        DeputyStation.deputy_id == deputy.id))
            session.add_all(DeputyStation(tenant_id=tenant.id, deputy_id=deputy.id, org_unit_id=s)
                            for s in row.station_ids)
            stations = row.station_ids
            deputy.updated_at = utcnow()
        _audit(session, actor, deputy, "deputy.update", before, service.snapshot(deputy, stations))


def _audit(session: Session, actor: Principal, deputy: Deputy, action: str, before: dict[str, Any] | None,
           after: dict[str, Any]) -> None:
    # object_id given, not obj: one flush for the whole sheet instead of one per row.
    audit.record(session, tenant_id=deputy.tenant_id, actor_id=actor.user_id, action=action,
                 object_type="deputies", object_id=deputy.id, before=before, after=after)
