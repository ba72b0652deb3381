from __future__ import annotations

import json as _json

from django.core.management.base import CommandError

from lineage.assistant.answers import answer_question
from lineage.assistant.planner import AskContext, QuestionError
from lineage.observability.output import TerminalCommand, terminal_scope
from lineage.tenancy.lookup import NotFound, resolve_organization


class Command(TerminalCommand):
    help = (
        'Ask the assistant a question, e.g. ask "what failed today?" --org acme; prints the '
        "answer with the ids of the traces it cites. For people at a terminal, not for cron."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("question")
        parser.add_argument("--org", help="Organization slug (needed when there are several).")
        parser.add_argument("--json", action="store_true", help="Print intent, arguments and answer.")

    def handle(self, *args, question: str, org: str | None, json: bool, **options) -> None:
        try:
            organization = resolve_organization(org)
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        # The terminal is trusted like manage.py run_metric: asking to run a
        # metric there runs it, with no button to confirm.
        context = AskContext(
            organization=organization, org_ids=[organization.pk], can_run=True, confirmed=True
        )
        try:
            with terminal_scope(organization):
                answer = answer_question(question, context)
        except QuestionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(_json.dumps(answer.as_dict(), indent=2) if json else answer.text)

