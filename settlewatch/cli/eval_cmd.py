"""`settlewatch eval`: score the classifier on a labelled corpus."""

from __future__ import annotations

from pathlib import Path

import click

from settlewatch.cli.root import echo_json
from settlewatch.eval_report import format_report, report_json
from settlewatch.evaluate import evaluate
from settlewatch.taxonomy import load_taxonomy


@click.command("eval")
@click.option(
    "--corpus",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="A labelled JSONL corpus: one object per line with id, title, text, published, "
    "category, flows and effective.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (figures, per_category and one predicted item per row).",
)
def eval_cmd(corpus: Path, as_json: bool) -> None:
    """Score the classifier, flows and date extractor on a labelled corpus."""
    report = evaluate(corpus, load_taxonomy())
    if as_json:
        echo_json(report_json(report))
    else:
        click.echo(format_report(report))
