"""Pipeline commands: changes, merchants, config, rules, reextract."""

from __future__ import annotations

from pathlib import Path

import click

from settlewatch import noise
from settlewatch.cli.root import App, echo_json, pass_app
from settlewatch.config import SETTINGS
from settlewatch.errors import UsageError
from settlewatch.merchant import parse_merchants
from settlewatch.reextract import reextract_source
from settlewatch.store.merchants import upsert_merchants
from settlewatch.store.queries import change_json, list_changes, source_rows
from settlewatch.taxonomy import load_taxonomy


@click.group()
def changes() -> None:
    """Changes detected in notices (new, edited, withdrawn)."""


@changes.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per change.")
@click.option("--source", help="Only this source id.")
@click.option("--kind", type=click.Choice(["new", "edited", "withdrawn"]), help="Only this kind.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (default: all).")
@pass_app
def changes_list(
    app: App, as_json: bool, source: str | None, kind: str | None, limit: int | None
) -> None:
    """List every change, baseline ones included, oldest first."""
    with app.engine.connect() as conn:
        rows = [change_json(r) for r in list_changes(conn, source=source, kind=kind, limit=limit)]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        flags = " [baseline]" if r["baseline"] else ""
        click.echo(
            f"{r['id']:>5}  {r['kind']:<9} {r['source']:<16} {r['category'] or '-':<20} "
            f"{r['severity'] or '-':<3} {r['status'] or '-':<9} {r['title']}{flags}"
        )
    click.echo(f"{len(rows)} change(s)", err=True)


@click.group()
def sources() -> None:
    """Declared sources and their health."""


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: id, health, last_success, ...")
@pass_app
def sources_list(app: App, as_json: bool) -> None:
    """Show every source with its health, last attempt and last success."""
    decls = app.decls()
    with app.engine.connect() as conn:
        stored = {r["id"]: r for r in source_rows(conn)}
    ids = sorted(set(decls) | set(stored))
    rows = []
    for sid in ids:
        r = stored.get(sid, {})
        d = decls.get(sid)
        rows.append(
            {
                "id": sid,
                "name": r.get("name") or (d.name if d else ""),
                "kind": r.get("kind") or (d.kind if d else ""),
                "health": r.get("health", "unknown"),
                "reason": r.get("health_reason", ""),
                "last_attempt": r["last_attempt"].isoformat() if r.get("last_attempt") else None,
                "last_success": r["last_success"].isoformat() if r.get("last_success") else None,
                "consecutive_failures": r.get("consecutive_failures", 0),
                "declared": d is not None,
            }
        )
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'id':<18} {'kind':<9} {'health':<8} {'last success':<20} reason")
    for r in rows:
        last = (r["last_success"] or "never")[:19]
        click.echo(f"{r['id']:<18} {r['kind']:<9} {r['health']:<8} {last:<20} {r['reason']}")


@click.group()
def merchants() -> None:
    """Merchant profiles."""


@merchants.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@pass_app
def merchants_import(app: App, file: Path) -> None:
    """Import merchants from a CSV or YAML file; re-importing updates, never duplicates.

    Fields: id, name, email, language (zh/en), acquirers, flows, channels (CSV lists use ';').
    The whole file is checked before anything is written.
    """
    items = parse_merchants(file)
    with app.engine.begin() as conn:
        upsert_merchants(conn, items)
    click.echo(f"imported {len(items)} merchant(s) from {file}")


@click.group()
def config() -> None:
    """Settings."""


@config.command("show")
@pass_app
def config_show(app: App) -> None:
    """Print every setting, its value, where it came from and its help."""
    for s in SETTINGS:
        click.echo(
            f"{s.name} = {app.config.get(s.name)!r}  [{app.config.origins[s.name]}; "
            f"env {s.env}]\n    {s.help}"
        )


@click.group()
def rules() -> None:
    """Rules: filters, taxonomy, flows."""


@rules.command("kinds")
def rules_kinds() -> None:
    """List the named noise filters a source may use in notice.filters."""
    for name, fn in sorted(noise.FILTERS.items()):
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        default = " (default)" if name in noise.DEFAULT else ""
        click.echo(f"{name}{default}: {doc}")


@rules.command("check")
@pass_app
def rules_check(app: App) -> None:
    """Load and validate every source declaration and the taxonomy."""
    decls = app.decls()
    taxonomy = load_taxonomy()
    click.echo(
        f"ok: {len(decls)} source(s) in {app.sources_dir()}, "
        f"{len(taxonomy.categories)} categories, {len(taxonomy.flows)} flows"
    )


@click.command()
@click.argument("source_ids", nargs=-1, metavar="[SOURCE_ID]...")
@pass_app
def reextract(app: App, source_ids: tuple[str, ...]) -> None:
    """Rebuild Versions from stored Snapshots with the current declarations.

    Run it after fixing a declaration or the extractor. The changes it produces are marked
    technical and are never sent to merchants.
    """
    decls = app.decls()
    unknown = [s for s in source_ids if s not in decls]
    if unknown:
        raise UsageError(
            f"unknown source id(s): {', '.join(unknown)} (fix: one of {', '.join(sorted(decls))})"
        )
    taxonomy = load_taxonomy()
    for sid in source_ids or tuple(decls):
        result = reextract_source(app.engine, decls[sid], taxonomy)
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(result.changes.items())) or "no changes"
        click.echo(f"{sid}: {result.pages} snapshot(s) re-read, {kinds} (technical)")
