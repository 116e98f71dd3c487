"""``loanbridge messages``: the applicant's message centre — the notices the platform sent the
enterprise (newest first, unread marked, with the case each is about) and read marks."""

from __future__ import annotations

from typing import Annotated

import typer

from api.schemas import NotificationOut
from cli import session
from cli.display import beijing, label
from cli.refusals import explain
from client.api import LoanBridgeError

messages_app = typer.Typer(help="Your enterprise's messages (applicants).", no_args_is_help=True)


def _case(notice: NotificationOut) -> str:
    """The case a notice is about, with the id the case's commands take (verification: none)."""
    if notice.case_kind is None:
        return ""
    kind = label("notice_case", notice.case_kind)
    return f"  ({kind})" if notice.case_kind == "verification" else f"  ({kind} {notice.case_id})"


def _line(notice: NotificationOut) -> str:
    mark = "●" if notice.read_at is None else " "
    title = label("notice", notice.template)
    when = beijing(notice.created_at)
    english = f"\n    {notice.body_en}" if notice.body_en else ""
    return f"{mark} {when}  {title}{_case(notice)}\n    {notice.body}{english}\n    id {notice.id}"


@messages_app.command("list")
def messages_list(
    limit: Annotated[
        int, typer.Option(help="At most this many, newest first.", min=1, max=200)
    ] = 20,
) -> None:
    """The notices sent to your enterprise, newest first (● unread; times in Beijing time)."""
    with session.client(session.settings()) as client:
        try:
            page = client.list_notifications(limit=limit)
        except LoanBridgeError as exc:
            explain(exc)
    typer.echo(f"unread 未读 {page.unread} / {page.total}")
    for notice in page.items:
        typer.echo(_line(notice))


@messages_app.command("read")
def messages_read(
    notification_id: Annotated[str, typer.Argument(help="The id `messages list` shows.")] = "",
    all_: Annotated[bool, typer.Option("--all", help="Mark every unread message read.")] = False,
) -> None:
    """Mark one message read, or every unread one with --all."""
    with session.client(session.settings()) as client:
        try:
            if all_:
                done = client.mark_all_notifications_read()
                typer.echo(f"marked read 已标记已读: {done.marked_read}")
                return
            if not notification_id:
                raise typer.BadParameter("name a message id, or pass --all")
            notice = client.mark_notification_read(notification_id)
        except LoanBridgeError as exc:
            explain(exc)
    typer.echo(f"read 已读 {beijing(notice.read_at)}: {label('notice', notice.template)}")
