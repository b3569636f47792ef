"""`crmbridge procedure`: the written procedure of the manual bridge, generated from the config.

Roles on each side, the daily schedule, exactly which records and fields move in which direction
(from `ownership` and `mappings`), the checks before and after each transfer, and what to do on a
discrepancy. In Ukrainian, for the people who follow it; Markdown, or a PDF with the DejaVu fonts
the package ships (the same files the sandbox's invoice print form embeds), so Cyrillic renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crmbridge.config.model import Config
from crmbridge.manual.layouts import LAYOUTS, What

FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"  # shared with documents/
SIDE = {"crm": "CRM (Bitrix24)", "bas": "BAS"}
ROLE = {"crm": "Менеджер CRM", "bas": "Бухгалтер"}
ENTITY = {
    "client": "клієнти (компанії / контрагенти)",
    "deal": "угоди",
    "product": "номенклатура і ціни",
    "invoice": "рахунки",
    "payment": "оплати",
}


@dataclass(frozen=True)
class Block:
    kind: str  # h1 | h2 | p | li | table | code
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Step:
    what: What
    source: str
    mapping: str | None
    purpose: str


def steps(config: Config) -> list[Step]:
    """The transfers in the order of a day: catalog first (deals need its products), then clients
    and deals into BAS, then invoices and payment status back to the CRM."""
    flows, owners = config.flows, config.ownership.entities
    found = []
    if flows.catalog is not None or "product" in config.mappings:
        mapping = flows.mapping_of("catalog")
        found.append(Step("products", owners.get("product", "bas"), mapping, "ціни в угодах"))
    if flows.clients is not None or "client" in config.mappings:
        mapping = flows.mapping_of("clients")
        found.append(Step("companies", owners.get("client", "crm"), mapping, "нові клієнти"))
    if flows.issue_invoice is not None:
        found.append(Step("deals", owners.get("deal", "crm"), None, "рахунки на оплату"))
        mapping = flows.issue_invoice.mapping
        found.append(Step("invoices", owners.get("invoice", "bas"), mapping, "номер і статус"))
    return found


def blocks(config: Config, source: str, at: str) -> list[Block]:
    out = [
        Block("h1", "Регламент ручного обміну CRM ↔ BAS"),
        Block(
            "p",
            f"Складено crmbridge з конфігурації {source}. Правило: BAS веде фінанси і "
            "каталог, CRM веде клієнтів і комунікації; жодне поле не редагується з обох боків.",
        ),
        Block("h2", "Ролі"),
        Block(
            "li",
            f"{ROLE['crm']}: вивантажує з CRM і завантажує в CRM; виправляє в CRM те, "
            "що належить CRM.",
        ),
        Block(
            "li",
            f"{ROLE['bas']}: вивантажує з BAS і завантажує в BAS; виправляє в BAS те, "
            "що належить BAS.",
        ),
        Block(
            "li",
            "Кожен запуск записується в журнал обміну: хто, який файл (SHA-256), скільки "
            "записів, які помилки (`crmbridge trace deal <№>`).",
        ),
        Block("h2", "Хто чим володіє"),
        Block("table", rows=(("Дані", "Веде", "Не змінювати в"), *_owners(config))),
        Block("h2", f"Розклад: щодня о {at}, у такому порядку"),
    ]
    for n, step in enumerate(steps(config), start=1):
        out += _step(config, n, step, source)
    out += _discrepancies(config)
    return out


def _owners(config: Config) -> list[tuple[str, str, str]]:
    other = {"crm": SIDE["bas"], "bas": SIDE["crm"]}
    rows = [
        (ENTITY.get(entity, entity), SIDE[side], other[side])
        for entity, side in config.ownership.entities.items()
    ]
    rows += [
        (f"поле {name}", SIDE[side], other[side]) for name, side in config.ownership.fields.items()
    ]
    return rows


def _step(config: Config, n: int, step: Step, source: str) -> list[Block]:
    layout = LAYOUTS[step.what]
    target = "bas" if step.source == "crm" else "crm"
    file = f"{step.what}-<дата>.xlsx"
    since = "" if step.what == "products" else " --since <вчора>"
    blocks = [
        Block(
            "h2",
            f"{n}. {ENTITY.get(layout.entity, layout.entity).capitalize()}: "
            f"{SIDE[step.source]} → {SIDE[target]} ({step.purpose})",
        ),
        Block("li", f"{ROLE[step.source]} вивантажує файл:"),
        Block("code", f"crmbridge export --config {source} --what {step.what}{since} --to {file}"),
        Block("li", "Колонки файлу: " + ", ".join(f"«{h}»" for h in layout.headers) + "."),
    ]
    if step.what == "deals":
        stage = config.flows.issue_invoice.invoice_stage if config.flows.issue_invoice else ""
        blocks += _deal_fields()
        blocks.append(
            Block(
                "li",
                f"У файлі угоди на етапі {stage}, по рядку на товар; у BAS "
                "з них створюються контрагент (за ЄДРПОУ), договір і проведений рахунок.",
            )
        )
    blocks += _fields(config, step, target)
    blocks += [
        Block("li", f"{ROLE[target]} перевіряє файл, нічого не записуючи:"),
        Block("code", f"crmbridge import --config {source} {file} --into {target} --dry-run"),
        Block(
            "li",
            "Якщо є помилки (рядок і колонка названі), файл не виправляють вручну: "
            f"{ROLE[step.source]} виправляє дані в {SIDE[step.source]} і вивантажує знову.",
        ),
        Block("li", "Без помилок: завантажити."),
        Block("code", f"crmbridge import --config {source} {file} --into {target}"),
        Block(
            "li",
            "Перевірка після: у звіті створених і знайдених записів стільки, скільки їх у "
            "файлі; повторне завантаження того самого файлу нічого нового не створює (його "
            "можна повторити, якщо не певні, чи завантажили).",
        ),
    ]
    return blocks


def _deal_fields() -> list[Block]:
    rows = (
        ("Колонка файлу", "Поле рахунку в BAS"),
        ("Угода №", "Комментарий: [crm:deal:№] (за ним рахунок знаходиться повторно)"),
        ("ЄДРПОУ, Компанія, Повна назва", "Контрагент (пошук за ЄДРПОУ) і його договір"),
        ("Код товару", "Товары / Услуги: Номенклатура"),
        ("Кількість, Ціна", "Количество, Цена; Сумма і СуммаНДС рахуються"),
    )
    return [Block("li", "Що з рядків угоди потрапляє в рахунок:"), Block("table", rows=rows)]


def _fields(config: Config, step: Step, target: str) -> list[Block]:
    mapping = config.mappings.get(step.mapping or "")
    if mapping is None:
        return []
    rows = tuple((f, SIDE[target], expr) for f, expr in mapping.fields.items())
    return [
        Block("li", f"Поля, які записуються в {SIDE[target]} (правило `{step.mapping}`):"),
        Block("table", rows=(("Поле", "Куди", "Звідки (вираз)"), *rows)),
    ]


def _discrepancies(config: Config) -> list[Block]:
    drift = (
        "буде перезаписана з системи-власника"
        if config.flows.drift.policy == "overwrite"
        else "буде показана як розбіжність"
    )
    return [
        Block("h2", "Що робити при розбіжності"),
        Block(
            "li",
            "Дані виправляються лише в системі-власнику (таблиця вище), потім файл "
            f"вивантажується знову. Правка в іншій системі {drift}.",
        ),
        Block(
            "li",
            "Завантаження відмовило: жоден рядок не записано. Виправити всі названі рядки "
            "або, за згодою обох сторін, завантажити справні з `--partial`; решту — завтра.",
        ),
        Block(
            "li",
            "Контрагент задвоївся чи рахунок не знайдено: `crmbridge trace deal <№>` "
            "показує, хто, коли і яким файлом передав угоду, і що з нею зроблено.",
        ),
        Block(
            "li",
            "Сума рахунку не дорівнює сумі угоди: менеджер перевіряє рядки угоди в CRM; "
            "рахунок у BAS змінює лише бухгалтер.",
        ),
        Block(
            "li",
            "Щодня після обміну — звірка обох систем (`crmbridge reconcile`): розбіжність "
            "знаходиться за день, а не в кінці кварталу.",
        ),
        Block(
            "li",
            "Розбіжність, не вирішена за день, записується і передається відповідальному "
            "за обмін; не чекати кінця кварталу.",
        ),
    ]


def markdown(items: list[Block]) -> str:
    lines: list[str] = []
    for block in items:
        if block.kind == "h1":
            lines += [f"# {block.text}", ""]
        elif block.kind == "h2":
            lines += ["", f"## {block.text}", ""]
        elif block.kind == "p":
            lines += [block.text, ""]
        elif block.kind == "li":
            lines.append(f"- {block.text}")
        elif block.kind == "code":
            lines += ["", "```", block.text, "```", ""]
        elif block.kind == "table":
            head, *body = block.rows
            lines += ["", _md_row(head), _md_row(tuple("---" for _ in head))]
            lines += [_md_row(r) for r in body] + [""]
    return "\n".join(lines).replace("\n\n\n", "\n\n").strip() + "\n"


def _md_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def pdf(items: list[Block]) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    doc = FPDF(orientation="P", unit="mm", format="A4")
    doc.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    doc.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    doc.set_auto_page_break(auto=True, margin=15)
    doc.add_page()
    for block in items:
        if block.kind in ("h1", "h2"):
            doc.ln(3)
            doc.set_font("DejaVu", "B", 15 if block.kind == "h1" else 12)
            doc.multi_cell(0, 7, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        elif block.kind == "table":
            doc.set_font("DejaVu", "", 8.5)
            with doc.table(first_row_as_headings=True) as table:
                for row in block.rows:
                    table.row(row)
        else:
            size, indent = (
                (8.5, "    ") if block.kind == "code" else (10, "• " if block.kind == "li" else "")
            )
            doc.set_font("DejaVu", "", size)
            doc.multi_cell(
                0, 5.5, indent + block.text.replace("`", ""), new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
    return bytes(doc.output())
