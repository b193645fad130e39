"""Ukrainian first, English second: the language of a request and a small message catalogue.

Ukrainian text is the message key, so templates read in the city's language and a missing English entry
shows Ukrainian rather than nothing. The site has a few dozen strings and no plural forms (we abbreviate
«хв», «год», «дн.»), so a dict pays for itself and gettext tooling does not.
"""

from __future__ import annotations

from flask import g, has_request_context, request

LANGUAGES = ("uk", "en")
DEFAULT = "uk"

EN: dict[str, str] = {
    # layout
    "Аварії та планові роботи": "Emergencies and planned works",
    "аварії та планові роботи": "emergencies and planned works",
    "Перейти до змісту": "Skip to content",
    "Головна": "Home",
    "Своєчасність": "Timeliness",
    "Стрічки й дані": "Feeds and data",
    "Мова": "Language",
    "Час — за Києвом": "Times are Kyiv time",
    "Дані оновлено": "Data as of",
    "Сторінку не знайдено": "Page not found",
    "Запису з таким номером немає.": "There is no record with this number.",
    "На головну": "Back to the home page",
    # filters
    "Фільтри": "Filters",
    "Район": "District",
    "Послуга": "Service",
    "Вулиця": "Street",
    "Адреси, як їх прочитано": "Addresses as read",
    "вулиці немає в довіднику міста": "the street is not in the city's list",
    "усі райони": "all districts",
    "усі послуги": "all services",
    "напр. Соборна 14": "e.g. Соборна 14",
    "Показати": "Show",
    "Скинути": "Reset",
    "Знайдено записів": "Records found",
    # sections
    "Аварії зараз": "Emergencies now",
    "Планові роботи зараз": "Planned works now",
    "Планові роботи на 14 днів": "Planned works, next 14 days",
    "Усунено за добу": "Fixed in the last 24 hours",
    "Немає": "None",
    "Нічого не знайдено. Спробуйте інший район, послугу або вулицю.":
        "Nothing found. Try another district, service or street.",
    # record fields
    "Аварійна ситуація": "Emergency",
    "Планові роботи": "Planned works",
    "Адреси": "Addresses",
    "Причина": "Cause",
    "Наслідки для мешканців": "Consequences for residents",
    "Термін ліквідації": "Expected end",
    "Завершення робіт": "Works end",
    "Сталася": "Happened",
    "Початок робіт": "Works start",
    "Усунено": "Fixed",
    "Скасовано як помилкові (не враховано)": "Cancelled as false alarms (left out)",
    "Виконавець": "Responsible utility",
    "Оновлено": "Updated",
    "Своєчасність внесення": "Timeliness of reporting",
    "прострочено": "overdue",
    "не вказано": "not given",
    "перенесено з": "moved from",
    "Запис": "Record",
    "Історія": "History",
    "Стрічки цього запису": "Feeds for this record",
    "Довгий текст скорочено (позначено «…»); повний текст зберігається в хабі.":
        "Long text is shortened (marked «…»); the hub keeps the full text.",
    "Стрічки для цього вибору": "Feeds for this selection",
    "Запис у JSON": "Record as JSON",
    "Усі записи у JSON": "All records as JSON",
    "Планові роботи в календар (iCalendar)": "Planned works calendar (iCalendar)",
    "Сповіщення CAP": "CAP alerts",
    "Опис API (OpenAPI)": "API description (OpenAPI)",
    "активний": "active",
    "усунено": "fixed",
    # history
    "створено запис": "record created",
    "виправлено запис": "record corrected",
    "оновлення": "update",
    "усунено (ліквідовано)": "fixed",
    "порушено строк внесення": "reporting deadline missed",
    "минув термін ліквідації": "expected end passed",
    "новий термін": "new expected end",
    # timeliness
    "Своєчасність внесення інформації": "Timeliness of reporting",
    ("Аварію треба внести не пізніше ніж через {m} хв після події,"
     " планові роботи — не пізніше ніж за {h} год до початку."):
        "An emergency must be reported within {m} min of the event, planned works at least {h} h before they start.",
    "Цей місяць": "This month",
    "Своєчасність за виконавцями": "Timeliness by utility",
    "Минулий місяць": "Last month",
    "Записів": "Records",
    "Вчасно": "On time",
    "Медіана": "Median",
    "Найгірше": "Worst",
    "Тип": "Type",
    "Найбільші порушення": "Worst delays",
    "Порушень немає.": "No breaches.",
    "Записів немає.": "No records.",
    "хв": "min",
    "год": "h",
    "Для аварій — хвилини від події до внесення, для планових робіт — години від внесення до початку.":
        "Emergencies: minutes from the event to the report; planned works: hours from the report to the start.",
    # summary line, sections, paging, the static copy
    "Аварій зараз": "Emergencies now",
    "Планових робіт сьогодні": "Planned works today",
    "на 14 днів": "next 14 days",
    "Розділи": "Sections",
    "Усі": "All",
    "За районами і послугами": "By district and service",
    "сторінка": "page",
    "Сторінки": "Pages",
    "Записи": "Records",
    "з": "of",
    "Попередня": "Previous",
    "Наступна": "Next",
    "термін минув, новий не повідомлено": "the expected end passed; no new time has been given",
    "Пошук за вулицею працює на живому сайті": "Search by street works on the live site",
    "У цій копії — сторінки районів і послуг нижче.": "This copy has a page for each district and service below.",
    "Це статична копія сайту: вона оновлюється після кожної зміни даних.":
        "This is a static copy of the site; it is refreshed after every change of the data.",
    "Сторінку не знайдено.": "Page not found.",
    "Такої сторінки або запису немає.": "There is no such page or record.",
    # the resident's ways to hear of outages (web/follow.py)
    "Сповіщення": "Get notified",
    "Як дізнаватися про аварії": "How to hear about outages",
    "Листи за вашою адресою": "E-mail for your address",
    "Telegram-бот": "Telegram bot",
    "Telegram-канал": "Telegram channel",
    "Гаряча лінія": "Hotline",
    "Повідомляти мене про цю адресу": "Tell me about this address",
}


def language() -> str:
    """/en/… pages are English; else ?lang= wins, then the browser's Accept-Language, then Ukrainian. Memoised per
    request."""
    if not has_request_context():
        return DEFAULT
    if "lang" not in g:
        asked = request.args.get("lang", "")
        if request.path == "/en" or request.path.startswith("/en/"):
            g.lang = "en"
        elif asked in LANGUAGES:
            g.lang = asked
        else:
            g.lang = request.accept_languages.best_match(LANGUAGES, default=DEFAULT) or DEFAULT
    return g.lang


def gettext(text: str, lang: str | None = None, **values: object) -> str:
    lang = lang or language()
    out = EN.get(text, text) if lang == "en" else text
    return out.format(**values) if values else out


def ago(minutes: float, lang: str | None = None) -> str:
    """«12 хв тому» / «12 min ago»; abbreviated units need no plural forms."""
    lang = lang or language()
    mins = max(0, round(minutes))
    if mins < 1:
        return "щойно" if lang == "uk" else "just now"
    if mins < 60:
        n, uk, en = mins, "хв", "min"
    elif mins < 48 * 60:
        n, uk, en = round(mins / 60), "год", "h"
    else:
        n, uk, en = round(mins / 1440), "дн.", "days"
    return f"{n} {uk} тому" if lang == "uk" else f"{n} {en} ago"


def ahead(minutes: float, lang: str | None = None) -> str:
    """«через 3 год» / «in 3 h» for times still to come."""
    lang = lang or language()
    mins = max(0, round(minutes))
    if mins < 60:
        n, uk, en = max(mins, 1), "хв", "min"
    elif mins < 48 * 60:
        n, uk, en = round(mins / 60), "год", "h"
    else:
        n, uk, en = round(mins / 1440), "дн.", "days"
    return f"через {n} {uk}" if lang == "uk" else f"in {n} {en}"


def init_app(app) -> None:  # noqa: ANN001
    app.jinja_env.globals.update(_=gettext, lang=language)
