"""The supervision board (filters, colours, pages, its Excel) and the handling units' figures (table,
chart, Excel), for the congress office, its leaders and observers: those who see every suggestion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from renda.platform.deadlines import Colour
from renda.platform.errors import N_
from renda.platform.tenancy.settings import get_setting
from renda.tenants.suggestions import queries, service
from renda.tenants.suggestions.workflow import UNSUBMITTED, State
from renda.web.exports import xlsx
from renda.web.i18n import gettext
from renda.web.render import render
from renda.web.routes.suggestions.pages import (
    COLOUR_LABELS,
    LABELS,
    STATE_LABELS,
    PageDep,
    SuggestionPage,
    int_or,
    number_label,
    today,
)

router = APIRouter()

BOARD_STATES = [s for s in State if s not in UNSUBMITTED]
COLOURS = [Colour.RED, Colour.YELLOW, Colour.GREEN]
SORT_LABELS = {"deadline": N_("Deadline"), "number": N_("Number"), "updated": N_("Last change")}
PER_PAGE = 50
FILTER_KEYS = ("state", "unit", "category", "colour", "series", "deputy", "q", "key", "sort")


def require_overview(page: SuggestionPage) -> None:
    """Refuse before any work is done (the Excel export streams); the service holds the rule."""
    service.require_oversight(page.ctx.session, page.ctx.principal, page.ctx.tenant)


def board_filter(params: Mapping[str, str]) -> queries.BoardFilter:
    """The board's filters from a query string; what is not understood is left out, never an error."""
    state = params.get("state", "")
    colour = params.get("colour", "")
    sort = params.get("sort", "")
    return queries.BoardFilter(
        state=state if state in {s.value for s in BOARD_STATES} else None,
        unit_id=int_or(params.get("unit")),
        category=params.get("category", "").strip()[:40] or None,
        colour=colour if colour in {c.value for c in COLOURS} else None,
        series=params.get("series", "").strip()[:24] or None,
        deputy_id=int_or(params.get("deputy")),
        q=params.get("q", "").strip()[:100] or None,
        key_only=params.get("key") == "1",
        sort=sort if sort in SORT_LABELS else "deadline",
        page=int_or(params.get("page"), 1) or 1,
        per_page=min(max(int_or(params.get("per_page"), PER_PAGE) or PER_PAGE, 1), 200),
    )


def filter_values(f: queries.BoardFilter) -> dict[str, str]:
    """The filters as the form and the links write them (the page number apart)."""
    return {"state": f.state or "", "unit": str(f.unit_id or ""), "category": f.category or "",
            "colour": f.colour or "", "series": f.series or "", "deputy": str(f.deputy_id or ""), "q": f.q or "",
            "key": "1" if f.key_only else "", "sort": f.sort}


def board_href(base: str, values: dict[str, str], **changes: Any) -> str:
    """A board address with these filters, changed as given; empty filters are left out."""
    merged = {**values, **{k: str(v) for k, v in changes.items()}}
    return f"{base}/board?" + urlencode({k: v for k, v in merged.items() if v and not (k == "page" and v == "1")})


@router.get("/t/{slug}/suggestions/board")
def board_page(request: Request, page: PageDep) -> Response:
    require_overview(page)
    session, tenant = page.ctx.session, page.ctx.tenant
    wanted = board_filter(request.query_params)
    result = queries.board_for(session, page.ctx.principal, tenant, wanted, today())
    values = filter_values(wanted)
    if wanted.per_page != PER_PAGE:
        values["per_page"] = str(wanted.per_page)
    context: dict[str, Any] = {
        "board": result, "values": values, "base": page.base, "states": BOARD_STATES, "colours": COLOURS,
        "sort_labels": SORT_LABELS,
        "href": lambda **changes: board_href(page.base, values, **changes), **LABELS,
    }
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "board-rows":
        return render(request, "suggestions/_board_rows.html", context)
    options = queries.filter_options(session, tenant.id)
    context.update(units=options.units, deputies=options.deputies, series=options.series,
                   categories=options.categories)
    return render(request, "suggestions/board.html", context)


def _all_rows(page: SuggestionPage, wanted: queries.BoardFilter) -> Iterable[queries.BoardRow]:
    wanted.per_page, wanted.page = 200, 1
    while True:
        result = queries.board_for(page.ctx.session, page.ctx.principal, page.ctx.tenant, wanted, today())
        yield from result.rows
        if wanted.page >= result.pages:
            return
        wanted.page += 1


@router.get("/t/{slug}/suggestions/board.xlsx")
def board_sheet(request: Request, page: PageDep) -> Response:
    require_overview(page)
    wanted = board_filter(request.query_params)
    header = [gettext(h) for h in (N_("Number"), N_("Title"), N_("Lead deputy"), N_("Category"), N_("State"),
                                   N_("Lead unit"), N_("Deadline"), N_("Deadline status"), N_("Key suggestion"))]
    rows = ([number_label(r.suggestion), r.suggestion.title, r.deputy_name, r.suggestion.category,
             gettext(STATE_LABELS.get(State(r.suggestion.state), r.suggestion.state)), r.lead_unit or "",
             r.suggestion.deadline, gettext(COLOUR_LABELS[r.colour.value]) if r.colour != Colour.NONE else "",
             gettext("Yes") if r.suggestion.is_key else ""] for r in _all_rows(page, wanted))
    return xlsx(f"suggestions-{today().isoformat()}.xlsx", (gettext("Deputy suggestions"), header, rows))


# -- figures ----------------------------------------------------------------------------------------

def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _figures(page: SuggestionPage) -> tuple[list[queries.UnitFigures], list[str]]:
    session, tenant = page.ctx.session, page.ctx.tenant
    return (queries.unit_figures_for(session, page.ctx.principal, tenant, today()),
            list(get_setting(session, tenant.id, "reply_classes")))


def _below(request: Request, page: SuggestionPage) -> list[Any]:
    """This congress and those under it that the viewer may open (a city's counties), from the request's directory."""
    return [t for t in request.state.access.accessible() if t.path.startswith(page.ctx.tenant.path)]


def _by_congress(request: Request, page: SuggestionPage) -> list[queries.Figures]:
    """This congress and the congresses under it whose suggestions the viewer oversees."""
    with page.ctx.widened() as across:  # a city's counties side by side
        return queries.tenant_figures_for(across, page.ctx.principal, _below(request, page), today())


def _by_place(page: SuggestionPage) -> list[queries.Figures]:
    """By node of this congress: the lead deputy's township, street or station."""
    return queries.node_figures_for(page.ctx.session, page.ctx.principal, page.ctx.tenant, page.ctx.root, today())


VIEWS = {"unit": N_("By handling unit"), "place": N_("By place of the lead deputy"), "congress": N_("By congress")}


FIGURE_COLUMNS = (N_("Suggestions assigned"), N_("Suggestions replied"), N_("Replied on time"), N_("On-time rate"),
                  N_("Overdue now"))
AFTER_CLASSES = (N_("Suggestions evaluated"), N_("Satisfaction rate"), N_("Suggestions handled again"))


def _figure_header(first: str, classes: list[str], received: bool) -> list[str]:
    """A figures sheet's header: the row's name, (received), the figures, a column per class, the rest."""
    return [gettext(first), *([gettext("Suggestions received")] if received else []),
            *(gettext(h) for h in FIGURE_COLUMNS), *(gettext("Class %(c)s", c=c) for c in classes),
            *(gettext(h) for h in AFTER_CLASSES)]


def _figure_row(f: queries.UnitFigures | queries.Figures, classes: list[str], received: bool) -> list[Any]:
    return [f.name, *([f.received] if received and isinstance(f, queries.Figures) else []), f.assigned,
            f.answered, f.answered_on_time, _rate(f.on_time_rate), f.overdue,
            *(f.by_class.get(c, 0) for c in classes), f.evaluated, _rate(f.satisfaction_rate), f.rehandled]


def _chart(figures: list[queries.UnitFigures]) -> dict[str, Any]:
    """Bars per handling unit: assigned, answered on time, overdue (the table below says the same)."""

    def series(label: str, values: list[int], colour: str) -> dict[str, Any]:
        return {"name": gettext(label), "type": "bar", "data": values, "itemStyle": {"color": colour}}

    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": {"type": "category", "data": [f.name for f in figures], "axisLabel": {"interval": 0, "rotate": 40}},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [series(N_("Suggestions assigned"), [f.assigned for f in figures], "#b71c1c"),
                   series(N_("Replied on time"), [f.answered_on_time for f in figures], "#1b7f3b"),
                   series(N_("Overdue now"), [f.overdue for f in figures], "#b26a00")],
    }


@router.get("/t/{slug}/suggestions/figures")
def figures_page(request: Request, page: PageDep, by: str = "unit") -> Response:
    """The figures one view at a time (each a few grouped reads): the handling units' ranking, by place,
    and for a city, by congress."""
    require_overview(page)
    views = {k: v for k, v in VIEWS.items() if k != "congress" or len(_below(request, page)) > 1}
    by = by if by in views else "unit"
    context: dict[str, Any] = {"by": by, "views": views, "rate": _rate, "base": page.base, **LABELS}
    if by == "unit":
        figures, classes = _figures(page)
        context.update(figures=figures, classes=classes, chart=_chart(figures))
    else:
        context.update(classes=list(get_setting(page.ctx.session, page.ctx.tenant.id, "reply_classes")),
                       rows=_by_place(page) if by == "place" else _by_congress(request, page))
    return render(request, "suggestions/figures.html", context)


@router.get("/t/{slug}/suggestions/figures.xlsx")
def figures_sheet(request: Request, page: PageDep) -> Response:
    require_overview(page)
    figures, classes = _figures(page)
    header = [gettext("Rank"), *_figure_header(N_("Handling unit"), classes, received=False)]
    rows = ([i, *_figure_row(f, classes, received=False)] for i, f in enumerate(figures, start=1))
    congresses, nodes = _by_congress(request, page), _by_place(page)
    return xlsx(f"suggestion-figures-{today().isoformat()}.xlsx", (gettext("Figures"), header, rows),
                (gettext("By congress"), _figure_header(N_("Congress"), classes, received=True),
                 [_figure_row(f, classes, received=True) for f in congresses]),
                (gettext("By place"), _figure_header(N_("Place"), classes, received=True),
                 [_figure_row(f, classes, received=True) for f in nodes]))
