"""``nkt-motion evaluate``: metrics of a saved compensation classifier on a table.

On the training table it reruns the subject-grouped cross-validation with the
saved settings and seed, which reproduces the numbers in the model card; on a
separate labelled table it reports held-out metrics of the saved model.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The parent parser's subparsers.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> register(p.add_subparsers())
    >>> p.parse_args(["evaluate", "m.skops", "t.csv", "--label", "mmt"]).mode
    'auto'
    """
    parser = subparsers.add_parser(
        "evaluate",
        help="metrics of a saved classifier on a labelled trial table",
        description="Reproduce a saved model's subject-grouped cross-validation on its "
        "training table, or report held-out metrics on a separate labelled table.",
    )
    parser.add_argument("model", help="model file written by 'nkt-motion train' (.skops)")
    parser.add_argument("table", help="labelled trial table, .csv (or .parquet with pyarrow)")
    parser.add_argument("--label", default=None, help="label column (default: the card's)")
    parser.add_argument(
        "--mode",
        choices=("auto", "cv", "held-out"),
        default="auto",
        help="cv: rerun the grouped CV; held-out: apply the saved model; auto: cv on the "
        "training table, held-out otherwise",
    )
    parser.add_argument("--json", default=None, help="also write the metrics as JSON here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the model safely, evaluate it and print the metrics.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of :func:`register`.

    Returns
    -------
    int
        0 on success.

    Examples
    --------
    >>> run(argparse.Namespace(model="absent.skops"))
    Traceback (most recent call last):
    ...
    nkt_motion.errors.FileFormatError: absent.skops: model file not found
    """
    from nkt_motion.assess import evaluate_model, load_model, read_trial_table

    estimator, card = load_model(args.model)
    table = read_trial_table(args.table)
    report = evaluate_model(estimator, card, table, mode=args.mode, label=args.label)
    if card.warning:
        print(f"WARNING: {card.warning}")
    print(report.summary())
    if not report.held_out:
        same = report.to_dict() == card.cv
        verdict = "yes" if same else "no (different table, settings or library versions)"
        print(f"reproduces the cross-validation in the model card: {verdict}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(report.to_json() + "\n")
    return 0
