"""The classifier's subcommands of `linli`: `train`, `classify` and `eval`, with all options.

Declaring them imports nothing heavy; running one loads the model, jieba or scikit-learn.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nlp.linear import default_model_path

COMMANDS = ("train", "classify", "eval")
DEFAULT_SEED = 13


def add_commands(commands: Any) -> None:
    """Add the three subcommands to `linli`'s subparsers."""
    train = commands.add_parser("train", help="rebuild the classifier model from the corpus")
    train.add_argument("--corpus", type=Path, default=Path("corpus"))
    train.add_argument("--out", type=Path, default=default_model_path())
    train.add_argument("--seed", type=int, default=DEFAULT_SEED)
    train.add_argument(
        "--with",
        dest="extra",
        type=Path,
        action="append",
        default=[],
        metavar="FILE.jsonl",
        help="extra labelled lines to train on as well (repeatable)",
    )
    train.add_argument("--extra-weight", type=float, help="weight of an extra line")
    evaluate = commands.add_parser("eval", help="evaluate the classifier on a labelled JSONL")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument(
        "--cross",
        action="store_true",
        help="k-fold: train on corpus + the other folds of FILE, score the held-out fold",
    )
    evaluate.add_argument("--folds", type=int, default=5)
    evaluate.add_argument("--corpus", type=Path, default=Path("corpus"))
    evaluate.add_argument("--seed", type=int, default=DEFAULT_SEED)
    evaluate.add_argument("--extra-weight", type=float)
    evaluate.add_argument(
        "--model", type=Path, help="weights file to score with (default: the shipped model)"
    )
    classify = commands.add_parser("classify", help="classify texts, one JSON line each")
    classify.add_argument("file", nargs="?", type=Path, help="input file (default: stdin)")
    classify.add_argument("--jsonl", action="store_true", help="input lines are JSON with text")


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed subcommand; bad input files exit 2 with one line on stderr."""
    from nlp.cli import classify_command, cross_eval_command, eval_command, train_command
    from nlp.corpus import CorpusError
    from nlp.linear import ModelFileError

    try:
        if args.command == "train":
            return train_command(
                args.corpus,
                args.out,
                seed=args.seed,
                extra=args.extra,
                extra_weight=args.extra_weight,
            )
        if args.command == "eval":
            if args.cross:
                report = cross_eval_command(
                    args.file,
                    args.corpus,
                    folds=args.folds,
                    seed=args.seed,
                    extra_weight=args.extra_weight,
                )
            else:
                report = eval_command(args.file, args.model)
            print(report)
            return 0
        source = args.file.open(encoding="utf-8") if args.file else sys.stdin
        with source:
            for line in classify_command(source, jsonl=args.jsonl):
                print(line)
    except (CorpusError, ModelFileError, OSError) as error:
        print(str(error), file=sys.stderr)
        return 2
    return 0
