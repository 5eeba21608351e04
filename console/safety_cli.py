"""`ycc safety export-feedback --out FILE --as NAME`: counsellors' verdicts on safety flags as labelled examples.

The file holds what young people wrote: console/private_export.py limits and audits it.
"""

from __future__ import annotations

import argparse
from typing import Any

from console import private_export
from console.safety_feedback import examples_yaml, labelled_examples

EXPORT = private_export.PrivateExport(
    command="safety export-feedback", action="export_safety_feedback", object_type="safety_feedback",
    collect=labelled_examples, render=examples_yaml,
)


def _export_feedback(args: argparse.Namespace) -> int:
    return private_export.run(EXPORT, args)


def add_commands(sub: Any) -> None:
    """Called from console/cli.py."""
    safety = sub.add_parser("safety", help="the safety screen's training material").add_subparsers(
        dest="safety_command", required=True)
    cmd = safety.add_parser("export-feedback", help="counsellors' verdicts on flags as labelled examples (YAML, "
                                                    "0600; admin or trainer password on stdin)")
    private_export.add_arguments(cmd, "var/safety-feedback.yml")
    cmd.set_defaults(func=_export_feedback)
