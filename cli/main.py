"""`chargewatch`: operate the backend from a terminal. Every command has --help.

Exit codes: 0 done, 1 a bad outcome (unhealthy, items refused, a check failed, a model refused
by the quality gate), 2 bad input, 3 the backend did not answer, 4 an unexpected error
(cli.errors).
"""

from __future__ import annotations

import typer

from . import checks, dead_letters, local, ocpp, predictions, releases, training

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)

for command in (
    predictions.predict,
    predictions.fleet,
    predictions.invalidate,
    predictions.stats,
    predictions.health,
    training.train,
    training.simulate,
    local.run,
    local.demo,
    local.secrets,
):
    app.command()(command)

app.add_typer(releases.models, name="models")
app.add_typer(releases.outcomes, name="outcomes")
app.add_typer(dead_letters.dead_letters, name="dead-letters")
app.add_typer(ocpp.ocpp, name="ocpp")
app.add_typer(checks.check, name="check")

if __name__ == "__main__":
    app()
