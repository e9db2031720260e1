"""The ``praclox-privacy`` command line: click only here, one module per command group.

Exit codes: 0 success, 1 a check failed or an operation was refused, 2 usage errors.
Heavy modules are imported inside the commands, so ``--help`` answers at once. Options
shared by several commands are declared once, in :mod:`.options`.
"""

import click

from .. import __version__
from .agenda import agenda
from .check import check
from .consent import consent, disclosure
from .crm import crm
from .documents import export, register, statement
from .guards import agreement, guard, staff
from .map import map_group
from .policy import policy
from .requests import request
from .sweep import demo, sweep
from .workspace import audit, data, init, subject

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="praclox-privacy")
def main() -> None:
    """Turn a privacy statement into enforced code."""


for _command in (
    policy,
    init,
    subject,
    data,
    audit,
    sweep,
    demo,
    statement,
    register,
    export,
    request,
    check,
    consent,
    disclosure,
    staff,
    guard,
    agreement,
    agenda,
    crm,
    map_group,
):
    main.add_command(_command)
