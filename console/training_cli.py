"""`ycc training export-nlu --out FILE --as NAME`: the turns trainers labelled, masked, for `make nlu-import`.

The file holds what young people wrote (masked): console/private_export.py limits and audits it.
"""

from __future__ import annotations

import argparse
from typing import Any

from console import private_export
from console.nlu_labels import examples_yaml, labelled_examples

EXPORT = private_export.PrivateExport(
    command="training export-nlu", action="export_nlu_labels", object_type="nlu_label",
    collect=labelled_examples, render=examples_yaml,
)


def _export_nlu(args: argparse.Namespace) -> int:
    return private_export.run(EXPORT, args)


def add_commands(sub: Any) -> None:
    """Called from console/cli.py."""
    training = sub.add_parser("training", help="trainers' labels on misread bot turns").add_subparsers(
        dest="training_command", required=True)
    cmd = training.add_parser("export-nlu", help="labelled turns as masked NLU examples to edit (YAML, 0600; "
                                                 "admin or trainer password on stdin)")
    private_export.add_arguments(cmd, "var/nlu-reviewed.yml")
    cmd.set_defaults(func=_export_nlu)
