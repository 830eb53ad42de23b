"""`chargewatch dead-letters list|requeue|purge`: tasks that failed for good."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import client, console, one_line_errors
from .errors import plural

dead_letters = typer.Typer(help="Tasks that failed for good, and poison messages.")


@dead_letters.command("list")
@one_line_errors
def dead_letters_list(count: Annotated[int, typer.Option(help="newest entries")] = 20) -> None:
    """The newest dead letters: task, error, time, whether they can be requeued."""
    with client() as c:
        letters = c.dead_letters.list(count)
    console.print_json(
        data=[
            {
                "id": d.id,
                "task": d.task,
                "task_id": d.task_id,
                "error": d.error,
                "message": d.message,
                "at": d.at,
                "requeueable": d.requeueable,
            }
            for d in letters
        ]
    )


@dead_letters.command("requeue")
@one_line_errors
def dead_letters_requeue(
    entry_id: Annotated[str, typer.Argument(help="e.g. 1764150000000-0")],
) -> None:
    """Send a dead letter's task again (it leaves the list)."""
    with client() as c:
        task_id = c.requeue_dead_letter(entry_id)
    console.print(f"requeued as task {task_id}")


@dead_letters.command("purge")
@one_line_errors
def dead_letters_purge() -> None:
    """Delete every dead letter."""
    with client() as c:
        console.print(f"{plural(c.dead_letters.purge(), 'dead letter')} deleted")
