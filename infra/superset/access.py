"""Users, roles and jurisdiction row-level security of Superset, from ``users.yaml`` (issue 12).

``users.yaml`` (or ``$SUPERSET_USERS_FILE``) lists the roles — ``regulator`` (with a GB/T 2260
jurisdiction), ``statistician``, ``quality_owner``, ``engineer`` — and the users with the
environment variable holding each password. Every dataset's region code(s) are declared beside
its view (``region:`` in ``dashboards/<domain>/views.yaml``). From both this module derives:

- one Superset role per ``users.yaml`` role with an explicit permission list (regulators:
  dashboards, charts, chart data, CSV/XLSX export — no SQL Lab, no database API, no YAML export;
  statisticians: the same plus read-only SQL Lab; quality owners: the same as regulators, on the
  datasets of their dashboards), and ``datasource_access`` on the datasets it is granted (a view
  that names ``roles:`` in its views.yaml — the quality owner's ops records — only to those);
- one role per jurisdiction (``jurisdiction_350902``, no permissions) and ``jurisdiction_all``
  (no row filter), so every non-admin user holds exactly one;
- one REGULAR row-level-security rule per jurisdiction and dataset: every region code of a row
  (NULL counts as the province's) starts with the jurisdiction's prefix — province 350000: ``35``,
  city 350900: ``3509``, county 350902: ``350902``; a dataset without region column is the
  province's (``1 = 1`` for a regulator of that province, else ``1 = 0``);
- one BASE rule ``1 = 0`` on every dataset for everyone but the admins and the jurisdiction roles:
  a user who somehow lacks a jurisdiction sees no row (fails closed).

Superset applies these rules to every dataset query — dashboards, ``/api/v1/chart/data``, CSV
export, filter values, samples — and, with ``RLS_IN_SQLLAB`` (superset_config.py), to SQL Lab.

``apply`` is idempotent: it compares roles, permissions, users (password checked against its hash,
never re-hashed when equal) and rules, writes only the differences and prints them; managed users
no longer listed are deactivated, rules and jurisdiction roles no longer generated are deleted.

    .venv-superset/bin/python infra/superset/access.py apply   # after import-dashboards
    .venv-superset/bin/python infra/superset/access.py dump    # managed state as JSON (tests)
    python infra/superset/access.py plan                        # the rules, no Superset needed

The plan (``load_config``, ``plan_rules``, ``row_filter``) needs only PyYAML; ``apply`` and
``dump`` run inside Superset's app context (its own virtualenv, ``SUPERSET_CONFIG_PATH`` set).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
USERS_FILE = HERE / "users.yaml"
# the lake's rules, for bulletin.province
RULES_FILE = HERE.parent.parent / "transforms" / "rules.yaml"
RULE_PREFIX = "lakehouse · "  # every rule this module manages is named so
RULE_GROUP = "jurisdiction"  # rules of one group are ORed: two jurisdictions = their union
ADMIN_ROLE = "Admin"
UNRESTRICTED_ROLE = "jurisdiction_all"
JURISDICTION_ROLE = "jurisdiction_{code}"
_CODE = re.compile(r"^[1-9][0-9]{5}$")  # GB/T 2260: 2 digits province, 2 city, 2 county
_USERNAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_ROLE_KEYS = {"jurisdiction", "datasets", "dashboards", "sql_lab", "admin"}
_USER_KEYS = {"username", "name", "role", "jurisdiction", "password_env"}

# What a regulator's pages need: dashboards, charts, chart data and its CSV/XLSX export, the
# dashboards' filter state and permalinks, drill to detail. Deliberately absent (Gamma has
# them): `can_read on Database` (connection list), `can_export` on Dashboard/Chart (their YAML
# bundles hold the database URI), `can_write` on Chart/Dashboard, `can_read on
# RowLevelSecurity` (every jurisdiction's clauses), tags, embedded dashboards, SQL Lab exports.
DASHBOARD_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("can_read", "Dashboard"), ("can_read", "Chart"), ("can_read", "Dataset"),
    ("can_dashboard", "Superset"), ("can_slice", "Superset"), ("can_explore", "Superset"),
    ("can_explore_json", "Superset"), ("can_csv", "Superset"),
    ("can_dashboard_permalink", "Superset"), ("can_share_dashboard", "Superset"),
    ("can_share_chart", "Superset"), ("can_fetch_datasource_metadata", "Superset"),
    ("can_log", "Superset"), ("can_language_pack", "Superset"), ("can_get", "Datasource"),
    ("can_samples", "Datasource"), ("can_get_column_values", "Datasource"),  # drill, filters
    ("can_read", "Explore"), ("can_read", "ExploreFormDataRestApi"),
    ("can_write", "ExploreFormDataRestApi"), ("can_read", "ExplorePermalinkRestApi"),
    ("can_write", "ExplorePermalinkRestApi"), ("can_read", "DashboardFilterStateRestApi"),
    ("can_write", "DashboardFilterStateRestApi"), ("can_read", "DashboardPermalinkRestApi"),
    ("can_write", "DashboardPermalinkRestApi"), ("can_read", "CurrentUserRestApi"),
    ("can_drill", "Dashboard"), ("can_view_chart_as_table", "Dashboard"),
    ("can_get_drill_info", "Dataset"), ("can_read", "AdvancedDataType"),
    ("can_time_range", "Api"), ("can_query_form_data", "Api"), ("can_query", "Api"),
    ("can_read", "CssTemplate"), ("can_read", "Theme"), ("can_list", "AsyncEventsRestApi"),
    ("can_list", "DynamicPlugin"), ("can_show", "DynamicPlugin"), ("can_get", "MenuApi"),
    ("can_read", "AvailableDomains"), ("can_recent_activity", "Log"),
    ("can_read", "SecurityRestApi"),  # /api/v1/security/csrf_token/ only: REST clients
    ("menu_access", "Dashboards"), ("menu_access", "Charts"), ("menu_access", "Home"),
    ("resetmypassword", "UserDBModelView"), ("can_userinfo", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"), ("can_this_form_post", "ResetMyPasswordView"),
)  # fmt: skip

# SQL Lab (Superset's sql_lab role without cost estimates and saved-query export). `can_read on
# Database` lists the database (name, flags) for the editor; its connection (`/connection`,
# export) needs `can_write` / `can_export`, which only the admin has. What SQL may run is
# superset_config.py's business (SELECT over the serving views only, RLS applied).
SQL_LAB_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("can_sqllab", "Superset"), ("can_sqllab_history", "Superset"),
    ("can_execute_sql_query", "SQLLab"), ("can_get_results", "SQLLab"), ("can_read", "SQLLab"),
    ("can_format_sql", "SQLLab"), ("can_export_csv", "SQLLab"), ("can_read", "Database"),
    ("can_read", "Query"), ("can_read", "SavedQuery"), ("can_write", "SavedQuery"),
    ("can_read", "SqlLabPermalinkRestApi"), ("can_write", "SqlLabPermalinkRestApi"),
    ("can_activate", "TabStateView"), ("can_delete", "TabStateView"),
    ("can_delete_query", "TabStateView"), ("can_get", "TabStateView"),
    ("can_migrate_query", "TabStateView"), ("can_post", "TabStateView"),
    ("can_put", "TabStateView"), ("can_delete", "TableSchemaView"),
    ("can_expanded", "TableSchemaView"), ("can_post", "TableSchemaView"),
    ("menu_access", "SQL Lab"), ("menu_access", "SQL Editor"),
    ("menu_access", "Query Search"), ("menu_access", "Saved Queries"),
)  # fmt: skip


@dataclass(frozen=True)
class RoleSpec:
    name: str
    jurisdiction: str = "none"  # required | optional | none
    datasets: str | None = None  # "all" or None
    dashboards: tuple[str, ...] = ()  # slugs: the datasets of their charts
    sql_lab: bool = False
    admin: bool = False

    @property
    def permissions(self) -> tuple[tuple[str, str], ...]:
        return DASHBOARD_PERMISSIONS + (SQL_LAB_PERMISSIONS if self.sql_lab else ())


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str
    jurisdiction: str | None
    password_env: str


@dataclass(frozen=True)
class AccessConfig:
    province: str
    demo_variable: str
    demo_default: str
    roles: Mapping[str, RoleSpec]
    users: tuple[User, ...]

    def superset_roles(self, user: User) -> list[str]:
        """The Superset roles of ``user``: Admin, or its role and its jurisdiction role."""
        if self.roles[user.role].admin:
            return [ADMIN_ROLE]
        return [user.role, jurisdiction_role(user.jurisdiction)]

    def jurisdictions(self) -> list[str | None]:
        """Every jurisdiction a non-admin user holds (None: no row filter), sorted."""
        found = {u.jurisdiction for u in self.users if not self.roles[u.role].admin}
        return sorted(found, key=lambda j: j or "")


@dataclass(frozen=True)
class Rule:
    """A row-level-security rule: REGULAR applies to ``roles``, BASE to everyone but them."""

    name: str
    filter_type: str  # "Regular" | "Base"
    tables: tuple[str, ...]  # dataset table_names
    roles: tuple[str, ...]
    clause: str
    group_key: str | None


def jurisdiction_role(code: str | None) -> str:
    return UNRESTRICTED_ROLE if code is None else JURISDICTION_ROLE.format(code=code)


def jurisdiction_prefix(code: str) -> str:
    """The region-code prefix inside ``code``: province 350000 -> '35', city 350900 -> '3509',
    county 350902 -> '350902' (GB/T 2260)."""
    if not _CODE.match(code):
        raise ValueError(f"{code!r} is no GB/T 2260 code (six digits)")
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def row_filter(jurisdiction: str, region: tuple[str, ...], province: str) -> str:
    """The SQL a row of a dataset with region expressions ``region`` must satisfy to be seen in
    ``jurisdiction``: every code inside it by prefix, a NULL code being ``province``'s."""
    prefix = jurisdiction_prefix(jurisdiction)
    if not region:  # no region column: the row is the province's
        return "1 = 1" if province.startswith(prefix) else "1 = 0"
    # SUBSTR, not LIKE '35%': a clause compiled for a pyformat driver would double the %
    return " AND ".join(
        f"(SUBSTR(COALESCE(CAST(({expr}) AS VARCHAR), '{province}'), 1, {len(prefix)})"
        f" = '{prefix}')"
        for expr in region
    )


def lake_province(rules: Path | str = RULES_FILE) -> str:
    """The lake's province — the rules file's ``bulletin.province``, as the pipeline reads it: the
    override named by $LAKEHOUSE_RULES wins where it sets one (one definition for the bulletin's
    default jurisdiction and for the rows without a code here)."""
    province = None
    for path in (Path(rules), os.environ.get("LAKEHOUSE_RULES")):
        if path and Path(path).is_file():
            doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            province = (doc.get("bulletin") or {}).get("province", province)
    return str(province or "")


def load_config(path: Path | str = USERS_FILE) -> AccessConfig:
    """Parse and check ``users.yaml``: known keys, GB/T 2260 codes, a jurisdiction exactly where
    the role wants one, unique usernames, a password variable per user."""
    path = Path(path)
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    errors: list[str] = []
    if "province" in doc:
        errors.append("province: the lake's province is the rules file's bulletin.province")
    province = lake_province()
    if not _CODE.match(province) or not province.endswith("0000"):
        errors.append(
            f"bulletin.province {province!r} of the rules is no GB/T 2260 province code "
            "(e.g. '350000')"
        )
    demo = doc.get("demo_password") or {}
    roles: dict[str, RoleSpec] = {}
    for name, spec in (doc.get("roles") or {}).items():
        spec = spec or {}
        if unknown := set(spec) - _ROLE_KEYS:
            errors.append(f"role {name}: unknown keys {sorted(unknown)}")
        role = RoleSpec(
            name=name,
            jurisdiction=str(spec.get("jurisdiction", "none")),
            datasets=spec.get("datasets"),
            dashboards=tuple(spec.get("dashboards") or ()),
            sql_lab=bool(spec.get("sql_lab", False)),
            admin=bool(spec.get("admin", False)),
        )
        if role.jurisdiction not in {"required", "optional", "none"}:
            errors.append(f"role {name}: jurisdiction is required, optional or none")
        if role.datasets not in {None, "all"}:
            errors.append(f"role {name}: datasets is 'all' or absent (then: dashboards)")
        if name in {ADMIN_ROLE, UNRESTRICTED_ROLE} or name.startswith("jurisdiction_"):
            errors.append(f"role {name}: reserved name")
        roles[name] = role
    users: list[User] = []
    for entry in doc.get("users") or []:
        where = f"user {entry.get('username')!r}"
        if unknown := set(entry) - _USER_KEYS:
            errors.append(f"{where}: unknown keys {sorted(unknown)}")
        code = entry.get("jurisdiction")
        code = None if code is None else str(code)
        role = roles.get(str(entry.get("role")))
        if not _USERNAME.match(str(entry.get("username", ""))):
            errors.append(f"{where}: username is lowercase letters, digits, _")
        if role is None:
            errors.append(f"{where}: role {entry.get('role')!r} is not one of {sorted(roles)}")
        elif role.jurisdiction == "required" and code is None:
            errors.append(f"{where}: a {role.name} needs a jurisdiction")
        elif role.jurisdiction == "none" and code is not None:
            errors.append(f"{where}: a {role.name} has no jurisdiction")
        if code is not None and not _CODE.match(code):
            errors.append(f"{where}: jurisdiction {code!r} is no GB/T 2260 code (six digits)")
        if not entry.get("password_env"):
            errors.append(f"{where}: password_env names the variable holding the password")
        username = str(entry.get("username"))
        users.append(User(username, str(entry.get("name") or username), str(entry.get("role")),
                          code, str(entry.get("password_env"))))  # fmt: skip
    names = [u.username for u in users]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"users listed twice: {duplicates}")
    if errors:
        raise ValueError(f"{path}:\n  " + "\n  ".join(errors))
    return AccessConfig(province, str(demo.get("variable", "")), str(demo.get("default", "")),
                        roles, tuple(users))  # fmt: skip


def load_views() -> tuple[Any, ...]:
    """The serving views (serving.py beside this file), each with its declared region."""
    spec = importlib.util.spec_from_file_location("lakehouse_serving", HERE / "serving.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module.VIEWS


def plan_rules(config: AccessConfig, views: tuple[Any, ...]) -> dict[str, Rule]:
    """Every rule, by name: one per jurisdiction and dataset, and the BASE rule. Raises if a
    view declares no region (``region:`` absent): its rows could not be filtered."""
    undeclared = sorted(v.name for v in views if v.region is None)
    if undeclared:
        raise ValueError(
            f"views without `region:` in dashboards/<domain>/views.yaml: {undeclared}; declare "
            "the region column(s) of each (or [] for rows about platforms / the whole province)"
        )
    rules: dict[str, Rule] = {}
    coded = [j for j in config.jurisdictions() if j is not None]
    for code in coded:
        for view in views:
            name = f"{RULE_PREFIX}{code} · {view.name}"
            clause = row_filter(code, view.region, config.province)
            role = jurisdiction_role(code)
            rules[name] = Rule(name, "Regular", (view.name,), (role,), clause, RULE_GROUP)
    exempt = (ADMIN_ROLE, UNRESTRICTED_ROLE, *(jurisdiction_role(c) for c in coded))
    name = f"{RULE_PREFIX}no jurisdiction: no rows"
    rules[name] = Rule(name, "Base", tuple(v.name for v in views), exempt, "1 = 0", None)
    return rules


def password_of(user: User, config: AccessConfig, environ: Mapping[str, str]) -> tuple[str, bool]:
    """(password, whether it is the printed demo default) of ``user``."""
    value = environ.get(user.password_env)
    if value:
        return value, False
    if user.password_env == config.demo_variable and config.demo_default:
        return config.demo_default, True
    raise ValueError(f"user {user.username}: set {user.password_env} (its password)")


# --- Superset side (runs in .venv-superset inside the app context) -----------------------------


def _dashboard_tables(db: Any, slugs: tuple[str, ...]) -> set[str]:
    from superset.models.dashboard import Dashboard

    tables: set[str] = set()
    for slug in slugs:
        dashboard = db.session.query(Dashboard).filter_by(slug=slug).one_or_none()
        if dashboard is None:
            raise ValueError(f"users.yaml names dashboard {slug!r}, which is not imported")
        tables |= {ds.table_name for ds in dashboard.datasources}
    return tables


class _Applier:
    def __init__(self, config: AccessConfig, views: tuple[Any, ...], out=sys.stdout) -> None:
        from superset import db, security_manager
        from superset.connectors.sqla.models import SqlaTable

        self.db, self.sm, self.out = db, security_manager, out
        self.config, self.views = config, views
        self.changes = 0
        self.datasets = {t.table_name: t for t in db.session.query(SqlaTable).all()}
        if missing := sorted({v.name for v in views} - set(self.datasets)):
            raise ValueError(f"views without a dataset (import the dashboards first): {missing}")

    def note(self, what: str, count: int = 1) -> None:
        self.changes += count
        print(f"access: {what}", file=self.out)

    def role(self, name: str) -> Any:
        role = self.sm.find_role(name)
        if role is None:
            role = self.sm.add_role(name, commit=False)
            self.note(f"+ role {name}")
        return role

    def sync_permissions(self, role: Any, wanted: list[Any]) -> None:
        have = {pv.id: pv for pv in role.permissions}
        want = {pv.id: pv for pv in wanted}
        if set(have) != set(want):
            role.permissions = list(want.values())
            added = len(set(want) - set(have))
            removed = len(set(have) - set(want))
            self.note(f"~ role {role.name}: +{added} / -{removed} permissions")

    def permission(self, perm: str, view: str) -> Any:
        pv = self.sm.find_permission_view_menu(perm, view)
        if pv is None:
            raise ValueError(f"Superset has no permission {perm} on {view} (run `superset init`)")
        return pv

    def password_hash(self, password: str) -> str:
        from flask import current_app
        from werkzeug.security import generate_password_hash

        return generate_password_hash(
            password,
            method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
            salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
        )

    def granted_tables(self, spec: RoleSpec) -> set[str]:
        """The datasets ``spec`` is granted: every view open to it (a view naming ``roles`` is
        open to those only), all of them or those of its dashboards."""
        views = {v.name for v in self.views if getattr(v, "roles", None) in (None, ())
                 or spec.name in v.roles}  # fmt: skip
        if spec.datasets == "all":
            return views
        return _dashboard_tables(self.db, spec.dashboards) & views

    def roles(self) -> None:
        for spec in self.config.roles.values():
            if spec.admin:
                continue
            wanted = [self.permission(p, v) for p, v in spec.permissions]
            for table in sorted(self.granted_tables(spec)):
                wanted.append(self.permission("datasource_access", self.datasets[table].perm))
            self.sync_permissions(self.role(spec.name), wanted)
        for code in self.config.jurisdictions():
            self.sync_permissions(self.role(jurisdiction_role(code)), [])

    def users(self, environ: Mapping[str, str]) -> list[tuple[User, bool]]:
        from werkzeug.security import check_password_hash

        listed: list[tuple[User, bool]] = []
        for user in self.config.users:
            password, demo = password_of(user, self.config, environ)
            roles = [self.sm.find_role(r) for r in self.config.superset_roles(user)]
            found = self.sm.find_user(username=user.username)
            if found is None:
                email = f"{user.username}@lakehouse.local"
                created = self.sm.add_user(user.username, user.name, user.role, email, roles,
                                           password=password, commit=False)  # fmt: skip
                if not created:
                    raise RuntimeError(f"could not create user {user.username}")
                self.note(f"+ user {user.username} ({', '.join(r.name for r in roles)})")
            else:
                if {r.name for r in found.roles} != {r.name for r in roles}:
                    found.roles = roles
                    self.note(f"~ user {user.username}: roles {[r.name for r in roles]}")
                if not found.active:
                    found.active = True
                    self.note(f"~ user {user.username}: active")
                if (found.first_name, found.last_name) != (user.name, user.role):
                    found.first_name, found.last_name = user.name, user.role
                    self.note(f"~ user {user.username}: name")
                if not check_password_hash(found.password or "", password):
                    found.password = self.password_hash(password)
                    self.note(f"~ user {user.username}: password from {user.password_env}")
            listed.append((user, demo))
        managed = {spec.name for spec in self.config.roles.values() if not spec.admin}
        # an engineer this file provisioned: Admin, with the role's name where we put it (the
        # last name); the bootstrap's own admin is never one of them
        admins = {spec.name for spec in self.config.roles.values() if spec.admin}
        bootstrap_admin = environ.get("SUPERSET_ADMIN_USER") or "admin"
        usernames = {u.username for u in self.config.users}
        for found in self.db.session.query(self.sm.user_model).all():
            names = {r.name for r in found.roles}
            held = names & managed or {n for n in names if n.startswith("jurisdiction_")}
            engineer = (
                ADMIN_ROLE in names
                and found.last_name in admins
                and found.username != bootstrap_admin
            )
            if (held or engineer) and found.username not in usernames and found.active:
                found.active = False
                self.note(f"- user {found.username}: deactivated (not in the users file)")
        return listed

    def databases(self) -> None:
        """The connection of each database of ``dashboards/databases/`` as its file says: the
        dashboards import never overwrites an existing database, so a metadata DB from before
        issue 12 would keep its file-path URI (shown by the database API) without this."""
        from superset.models.core import Database

        for path in sorted((HERE / "dashboards" / "databases").glob("*.yaml")):
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            if "@" in doc["sqlalchemy_uri"]:  # templated: build_bundle.py renders it
                continue
            found = self.db.session.query(Database).filter_by(uuid=doc["uuid"]).one_or_none()
            if found is None:
                raise ValueError(f"database {doc['database_name']} ({path.name}) is not imported")
            if found.sqlalchemy_uri != doc["sqlalchemy_uri"]:
                found.set_sqlalchemy_uri(doc["sqlalchemy_uri"])
                self.note(f"~ database {found.database_name}: URI of {path.name}")
            if json.loads(found.extra or "{}") != doc.get("extra", {}):
                found.extra = json.dumps(doc.get("extra", {}))
                self.note(f"~ database {found.database_name}: extra of {path.name}")

    def rules(self) -> None:
        from superset.connectors.sqla.models import RowLevelSecurityFilter

        wanted = plan_rules(self.config, self.views)
        existing = {
            r.name: r
            for r in self.db.session.query(RowLevelSecurityFilter).all()
            if r.name.startswith(RULE_PREFIX)
        }
        description = "generated from infra/superset/users.yaml by access.py: edits are undone"
        added, changed = [], []
        for name, rule in wanted.items():
            row = existing.pop(name, None)
            if row is None:
                row = RowLevelSecurityFilter(name=name)
                self.db.session.add(row)
                added.append(name)
            elif (row.filter_type, row.clause, row.group_key, row.description,
                  sorted(r.name for r in row.roles), sorted(t.table_name for t in row.tables)) != (
                rule.filter_type, rule.clause, rule.group_key, description,
                sorted(rule.roles), sorted(rule.tables)):  # fmt: skip
                changed.append(name)
            else:
                continue
            row.filter_type, row.clause, row.group_key = (
                rule.filter_type,
                rule.clause,
                rule.group_key,
            )
            row.description = description
            row.roles = [self.role(r) for r in rule.roles]
            row.tables = [self.datasets[t] for t in rule.tables]
        for row in existing.values():
            self.db.session.delete(row)
        for sign, names in (("+", added), ("~", changed), ("-", sorted(existing))):
            if names:
                shown = ", ".join(n.removeprefix(RULE_PREFIX) for n in names[:3])
                more = f" and {len(names) - 3} more" if len(names) > 3 else ""
                self.note(f"{sign} {len(names)} row-level security rule(s): {shown}{more}",
                          len(names))  # fmt: skip
        # jurisdiction roles nobody is given any more
        wanted_roles = {jurisdiction_role(c) for c in self.config.jurisdictions()}
        for role in self.db.session.query(self.sm.role_model).all():
            if role.name.startswith("jurisdiction_") and role.name not in wanted_roles:
                for user in self.db.session.query(self.sm.user_model).all():
                    if role in user.roles:
                        user.roles.remove(role)
                self.db.session.delete(role)
                self.note(f"- role {role.name}")


def _app_context():
    from superset.app import create_app

    return create_app().app_context()


def apply(config: AccessConfig, views: tuple[Any, ...], environ: Mapping[str, str],
          out=sys.stdout) -> int:  # fmt: skip
    """Bring Superset's roles, users and rules to ``config``; return the number of changes."""
    with _app_context():
        applier = _Applier(config, views, out)
        try:
            applier.databases()
            applier.roles()
            listed = applier.users(environ)
            applier.rules()
            applier.db.session.commit()
        except BaseException:
            applier.db.session.rollback()
            raise
        print(f"access: {applier.changes or 'no'} change(s); users:", file=out)
        for user, demo in listed:
            where = user.jurisdiction or "-"
            secret = (f"DEMO password '{config.demo_default}' ({user.password_env} unset)"
                      if demo else f"password from {user.password_env}")  # fmt: skip
            print(f"  {user.username:<16} {user.role:<14} {where:<7} {secret}", file=out)
        return applier.changes


def dump(config: AccessConfig) -> dict[str, Any]:
    """The managed state: roles and their permissions, users, rules (compared by tests)."""
    with _app_context():
        from superset import db
        from superset import security_manager as sm
        from superset.connectors.sqla.models import RowLevelSecurityFilter

        managed = set(config.roles) | {jurisdiction_role(j) for j in config.jurisdictions()}
        roles = {
            r.name: sorted(str(pv) for pv in r.permissions)
            for r in db.session.query(sm.role_model).all()
            if r.name in managed
        }
        users = {
            u.username: {"roles": sorted(r.name for r in u.roles), "active": u.active,
                         "name": u.first_name, "password_hash": u.password}
            for u in db.session.query(sm.user_model).all()
            if u.username in {x.username for x in config.users}
        }  # fmt: skip
        rules = {
            r.name: {"type": r.filter_type, "clause": r.clause, "group_key": r.group_key,
                     "roles": sorted(x.name for x in r.roles),
                     "tables": sorted(t.table_name for t in r.tables)}
            for r in db.session.query(RowLevelSecurityFilter).all()
            if r.name.startswith(RULE_PREFIX)
        }  # fmt: skip
        return {"roles": roles, "users": users, "rules": rules}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("apply", "dump", "plan"))
    default = Path(os.environ.get("SUPERSET_USERS_FILE") or USERS_FILE)
    parser.add_argument("--users", type=Path, default=default, help=f"default: {default}")
    args = parser.parse_args(argv)
    config = load_config(args.users)
    views = load_views()
    if args.command == "plan":
        for rule in plan_rules(config, views).values():
            print(f"{rule.name}\t{rule.filter_type}\t{','.join(rule.roles)}\t{rule.clause}")
    elif args.command == "apply":
        apply(config, views, os.environ)
    else:
        print(json.dumps(dump(config), ensure_ascii=False, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
