"""The operator's words for the codes the store keeps: statuses, message kinds, events, roles.

The CLI prints the Ukrainian word with the code in brackets («надіслано (sent)»), as the summary lines do, so an
operator can read the table and still grep or filter by the code. A code nobody has named yet is printed as is.
"""

from __future__ import annotations

from outages.officials.directory import ROLE_UK

OUTBOX_STATUS = {
    "queued": "у черзі", "sending": "надсилається", "sent": "надіслано", "failed": "не доставлено",
}
MESSAGE_KIND = {
    "created": "нове повідомлення", "edited": "уточнення", "updated": "оновлення", "resolved": "ліквідовано",
    "corrected": "виправлено (контакт-центр)", "cancelled": "скасовано",
    "breach": "порушення строку", "overdue": "прострочено", "planned_reminder": "нагадування про планові роботи",
    "relay_reminder": "нагадування про передачу", "relay_escalation": "передачу не підтверджено",
    "breach_digest": "тижневий звіт про порушення", "monthly_report": "місячний звіт",
    "reporter_accepted": "автору: прийнято", "reporter_rejected": "автору: відхилено",
    "overdue_reminder": "нагадування про забутий запис", "digest": "зведення змін",
    "rejected_emergency": "контролю: відхилена аварія",
    # Residents' reports (outages/reports/).
    "report_forward": "виконавцю: повідомлення мешканця", "report_night": "черговому: повідомлення вночі",
    "report_late": "контролю: повідомлення не взято в роботу", "report_signal": "можлива аварія (кілька повідомлень)",
    # Residents' channels: Telegram, the bot, subscribers.
    "tg_post": "пост у каналі", "tg_edit": "зміна поста", "tg_reply": "відповідь під постом",
    "bot_reply": "відповідь бота", "subscribe_confirm": "підтвердження підписки",
    "sub_created": "підписнику: новий запис", "sub_updated": "підписнику: новий термін",
    "sub_resolved": "підписнику: ліквідовано", "sub_planned_eve": "підписнику: завтра планові роботи",
}
# «контроль (Контакт-центр) (control)» would stack brackets: the CLI says it without them.
ROLE = {**ROLE_UK, "control": "контроль Контакт-центру", "reporter": "автор рядка форми",
        "channel": "канал Telegram", "bot": "бот", "subscriber": "підписник", "webhook": "вебхук"}


def word(words: dict[str, str], code: str | None) -> str:
    """«слово (code)», or the code alone when it has no word yet; empty for no code."""
    if not code:
        return ""
    said = words.get(code)
    return f"{said} ({code})" if said else code


# A record's events (outages/records/events.py and the console's): a kind nobody has named yet is printed as is.
EVENT_KIND = {
    "created": "створено", "edited": "рядок виправлено", "updated": "оновлення", "resolved": "ліквідовано",
    "breach": "порушення строку внесення", "overdue": "термін минув", "ended": "завершено за планом",
    "corrected": "виправлено в консолі", "cancelled": "скасовано",
}
# The one computed state of a record (outages/records/state.py).
STATE = {
    "active": "активний", "overdue": "ПРОСТРОЧЕНО", "ended": "завершено за планом", "resolved": "ліквідовано",
    "cancelled": "скасовано",
}
CHANNEL = {"email": "e-mail", "telegram": "Telegram", "webhook": "вебхук"}
# The record's fields an edit names (events' data["changed"]).
FIELD = {
    "executor": "виконавець", "service": "послуга", "districts": "райони", "addresses": "адреси",
    "summary": "що сталося", "cause": "причина", "impact": "наслідки", "event_at": "час події",
    "expected_end": "термін", "kind": "тип", "status": "стан", "deadline_met": "строк внесення",
}
