"""`hydra query`: filters, grouping and aggregates over the store, as SQL with parameters
(no text a user typed goes into the SQL itself: fields are checked against a list)."""

from __future__ import annotations

import re
import time

from hydra.model import BadInput
from hydra.model.record import field, record
from hydra.store.db import Store, first_line
from hydra.store.facts import FIELDS, SEVERITIES

_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(>=|<=|!=|=|>|<|~)\s*(.*?)\s*$")
_SPAN = re.compile(r"^(\d+)\s*([smhdw])$")
SPAN_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
GROUP_COLUMNS = ("count", "hosts", "first", "last")
DEFAULT_SELECT = ("captured", "program", "version", "signal", "severity", "fingerprint", "top_frames", "path")


@record
class Query:
    where: list[str] = field(default_factory=list)
    since: str | None = None
    classifiers: list[str] = field(default_factory=list)
    group_by: str | None = None
    select: list[str] | None = None
    sort: str | None = None
    limit: int | None = None


def _column(name: str, joins: list[str], parameters: list) -> str:
    """SQL for a field a user named: a crashes column, or attr.KEY through a join."""
    if name.startswith("attr."):
        alias = f"a{len(joins)}"
        joins.append(f"LEFT JOIN attributes {alias} ON {alias}.crash = crashes.id AND {alias}.key = ?")
        parameters.append(name[5:])
        return f"{alias}.value"
    if name == "classifier":
        return "crashes.classifiers"
    if name not in FIELDS:
        raise BadInput(name, f"no such field; fields: {', '.join(FIELDS)}, classifier, attr.NAME")
    return f"crashes.{name}"


def _condition(text: str, joins: list[str], join_parameters: list, parameters: list, like: str = "LIKE") -> str:
    match = _CONDITION.match(text)
    if not match:
        raise BadInput(text, "a condition reads FIELD OP VALUE, OP one of = != < <= > >= ~ (contains)")
    name, operator, value = match.groups()
    value = value.strip("'\"")
    if name == "severity" and operator in ("<", "<=", ">", ">=", "=", "!="):
        if value not in SEVERITIES:
            raise BadInput(value, f"no such severity; from lowest: {', '.join(SEVERITIES)}")
        parameters.append(SEVERITIES.index(value))
        return f"crashes.severity_rank {'<>' if operator == '!=' else operator} ?"
    column = _column(name, joins, join_parameters)
    if name == "classifier":
        parameters.append(f"% {value} %")
        return f"{column} {'NOT ' if operator == '!=' else ''}{like} ?"
    if operator == "~":
        parameters.append(f"%{value}%")
        return f"{column} {like} ?"
    if name == "captured":
        value = _time(value)
    parameters.append(value)
    return f"{column} {'<>' if operator == '!=' else operator} ?"


def _time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    for form in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return time.mktime(time.strptime(text, form))
        except ValueError:
            continue
    raise BadInput(text, "not a time: give seconds since the epoch or YYYY-MM-DD[THH:MM:SS]")


# a crash's bucket: its fingerprint, or the one its bucket was merged into
MERGED_JOIN = ("LEFT JOIN merges m ON m.fingerprint = crashes.fingerprint "
               "AND m.program = COALESCE(crashes.program, '')")
MERGED_FINGERPRINT = "COALESCE(m.into_fingerprint, crashes.fingerprint)"


def build(query: Query, now: float | None = None, merged: bool = False,
          store: Store | None = None) -> tuple[str, list, list[str]]:
    """(SQL, parameters, the names of the result's columns). merged: the store has merged
    buckets (grouping then reads each crash's merge, which the plain grouping need not);
    store: whose engine the SQL is for (SQLite's without one)."""
    like = store.like if store is not None else "LIKE"
    joins: list[str] = []
    join_parameters: list = []
    conditions: list[str] = []
    parameters: list = []
    for text in query.where:
        conditions.append(_condition(text, joins, join_parameters, parameters, like))
    for name in query.classifiers:
        conditions.append(_condition(f"classifier={name}", joins, join_parameters, parameters, like))
    if query.since:
        match = _SPAN.match(query.since.strip())
        if not match:
            raise BadInput(query.since, "a span reads N followed by s, m, h, d or w (7d, 24h)")
        conditions.append("crashes.captured >= ?")
        parameters.append((now or time.time()) - int(match[1]) * SPAN_SECONDS[match[2]])
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    if query.group_by:
        order = {"count": "n DESC", "last": "last DESC", "first": "first ASC", None: "n DESC"}.get(query.sort)
        if order is None:
            raise BadInput(query.sort, "a grouped query sorts by count, first or last")
        aggregates = ("COUNT(*) AS n, COUNT(DISTINCT crashes.host) AS hosts, MIN(crashes.captured) AS first, "
                      "MAX(crashes.captured) AS last")
    if query.group_by == "fingerprint":
        # the aggregates first, from the covering index; then each bucket's frames and state
        key = MERGED_FINGERPRINT if merged else "crashes.fingerprint"
        sql = ("SELECT g.fingerprint, g.program, b.frames, COALESCE(b.state, 'open'), g.n, g.hosts, g.first, "
               f"g.last FROM (SELECT {key} AS fingerprint, crashes.program AS program, "
               f"{aggregates} FROM crashes {' '.join(joins)} {MERGED_JOIN if merged else ''}{where} "
               f"GROUP BY {key}, crashes.program) g "
               "LEFT JOIN buckets b ON b.fingerprint = g.fingerprint AND b.program = COALESCE(g.program, '') "
               f"ORDER BY {order}, g.fingerprint")
        names = ["fingerprint", "program", "frames", "state", *GROUP_COLUMNS]
    elif query.group_by:
        # `day`: per-day counts (UTC)
        day = store.day_text("crashes.captured") if store is not None else "date(crashes.captured, 'unixepoch')"
        key = day if query.group_by == "day" else _column(query.group_by, joins, join_parameters)
        sql = (f"SELECT {key} AS k, {aggregates} FROM crashes {' '.join(joins)}{where} GROUP BY {key} "
               f"ORDER BY {order}, k")
        names = [query.group_by, *GROUP_COLUMNS]
        if query.group_by == "day" and query.sort is None:
            sql = sql.replace(f"ORDER BY {order}, k", "ORDER BY k")
    else:
        names = list(query.select or DEFAULT_SELECT)
        columns = [_column(name, joins, join_parameters) for name in names]
        sort = query.sort or "captured"
        descending = sort.startswith("-") or sort == "captured"
        order_column = _column(sort.lstrip("-"), joins, join_parameters)
        sql = (f"SELECT {', '.join(columns)} FROM crashes {' '.join(joins)}{where} "
               f"ORDER BY {order_column} {'DESC' if descending else 'ASC'}, crashes.id")
    if query.limit is not None:
        sql += " LIMIT ?"
        parameters.append(query.limit)
    return sql, join_parameters + parameters, names


def has_merges(connection: Store) -> bool:
    return bool(execute(connection, "SELECT 1 FROM merges LIMIT 1", ()))


def run(connection: Store, query: Query) -> tuple[list[str], list[tuple]]:
    sql, parameters, names = build(query, merged=has_merges(connection), store=connection)
    return names, execute(connection, sql, parameters)


def execute(connection: Store, sql: str, parameters) -> list[tuple]:
    """Rows, or one clear error for a store that is damaged, locked or gone."""
    try:
        return [tuple(row) for row in connection.execute(sql, parameters).fetchall()]
    except connection.errors as error:
        raise BadInput("crash store", f"cannot be read: {first_line(error)}") from None
