"""``nkt-motion train``: train a compensation classifier on a labelled trial table.

Runs a subject-grouped cross-validation (prints its metrics), fits the final
model on every trial and writes it with skops plus a JSON model card beside it.
"""

from __future__ import annotations

import argparse
from typing import Any

from nkt_motion.assess.kinds import KINDS

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``train`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The parent parser's subparsers.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> register(p.add_subparsers())
    >>> a = p.parse_args(["train", "t.csv", "--label", "mmt", "--model", "m.skops"])
    >>> a.kind, a.features, a.n_splits
    ('logistic', None, 5)
    """
    parser = subparsers.add_parser(
        "train",
        help="train a compensation classifier on a labelled trial table",
        description="Cross-validate by subject, fit on all trials and save the model "
        "(skops) with a JSON model card. A measurement aid, never a diagnosis.",
    )
    parser.add_argument("table", help="trial table, .csv (or .parquet with pyarrow)")
    parser.add_argument("--label", required=True, help="label column (binary)")
    parser.add_argument("--model", required=True, help="model file to write (.skops)")
    parser.add_argument("--kind", choices=KINDS, default="logistic", help="classifier kind")
    parser.add_argument(
        "--features", nargs="+", default=None, help="feature columns (default: all numeric)"
    )
    parser.add_argument("--positive", default=None, help="label value of the positive class")
    parser.add_argument("--n-splits", type=int, default=5, help="wanted number of CV folds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds and the model")
    parser.add_argument(
        "--data-description", default="", help="where the trials come from (in the card)"
    )
    parser.add_argument(
        "--simulated",
        action="store_true",
        default=None,
        help="mark the data as simulated (default: the description says 'simulated')",
    )
    parser.add_argument("--json", default=None, help="also write the CV metrics as JSON here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, print the cross-validation summary and write the model and card.

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
    >>> run(argparse.Namespace(table="absent.csv"))
    Traceback (most recent call last):
    ...
    nkt_motion.errors.FileFormatError: absent.csv: trial table not found
    """
    from nkt_motion.assess import read_trial_table, save_model, train_model

    table = read_trial_table(args.table)
    estimator, card, report = train_model(
        table,
        label=args.label,
        features=args.features,
        positive=args.positive,
        kind=args.kind,
        n_splits=args.n_splits,
        random_state=args.seed,
        data_description=args.data_description,
        simulated=args.simulated,
    )
    if card.warning:
        print(f"WARNING: {card.warning}")
    print(report.summary())
    cp = save_model(args.model, estimator, card)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(report.to_json() + "\n")
    print(f"model written to {args.model}, card to {cp}")
    return 0
