"""The sandbox's deterministic seed: one data set that both emulators load.

Both systems are seeded from the same plan so the CRM companies and BAS counterparties line up by
tax code the way they do in a real business (some match, some exist on one side only), and CRM
products mirror part of the BAS catalog (`XML_ID` = the BAS `Ref_Key`, the usual 1C slot).
`size` scales the catalog and the counterparties for benchmarks; the same size gives the same data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from crmbridge.taxcodes import with_edrpou_check, with_rnokpp_check

_NAMESPACE = uuid.UUID("6f1c7c3e-2a43-4f0e-9d7a-8f3b0c9a2e51")


def ref_key(kind: str, n: int | str) -> str:
    """A stable 1C `Ref_Key` for the n-th object of a kind."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{n}"))


@dataclass(frozen=True)
class Organisation:
    ref_key: str
    name: str
    full_name: str
    edrpou: str
    ipn: str  # ІПН of a VAT payer, 12 digits
    vat_certificate: str
    iban: str
    bank_name: str
    mfo: str
    address: str


@dataclass(frozen=True)
class Product:
    ref_key: str
    code: str
    name: str
    sku: str
    is_service: bool
    vat_rate: str  # enum value of СтавкиНДС: НДС20, НДС7, НДС0, БезНДС
    unit: str
    price: Decimal


@dataclass(frozen=True)
class Counterparty:
    ref_key: str
    code: str
    name: str
    full_name: str
    legal_form: str  # ЮридическоеЛицо | ФизическоеЛицо
    edrpou: str  # 8 digits for a legal entity, 10-digit РНОКПП for a ФОП
    ipn: str
    head_ref_key: str | None = None  # set for a branch (ОбособленноеПодразделение)


@dataclass(frozen=True)
class Rep:
    id: int
    name: str
    last_name: str
    email: str


@dataclass(frozen=True)
class Company:
    id: int
    title: str
    edrpou: str | None  # RQ_EDRPOU of its requisite; None when the company has no requisite
    inn: str | None  # RQ_INN (ІПН)
    is_fop: bool
    assigned_by_id: int
    phone: str
    email: str


@dataclass(frozen=True)
class DealRow:
    product_index: int  # index into Seed.products
    quantity: Decimal
    discount_rate: Decimal = Decimal(0)


@dataclass(frozen=True)
class Deal:
    id: int
    title: str
    company_id: int
    assigned_by_id: int
    stage_id: str
    rows: tuple[DealRow, ...]


DEAL_STAGES: tuple[tuple[str, str, str], ...] = (
    # STATUS_ID, NAME, semantics (process | success | failure)
    ("NEW", "Новая", "process"),
    ("PREPARATION", "Подготовка документов", "process"),
    ("PREPAYMENT_INVOICE", "Рахунок", "process"),
    ("UC_PAID", "Оплачено", "process"),
    ("EXECUTING", "В работе", "process"),
    ("WON", "Сделка успешна", "success"),
    ("LOSE", "Сделка провалена", "failure"),
)

VAT_RATES: dict[str, Decimal] = {
    "НДС20": Decimal(20),
    "НДС7": Decimal(7),
    "НДС0": Decimal(0),
    "БезНДС": Decimal(0),
}

_GOODS = (
    ("Папір офісний А4, 500 арк.", "шт", "НДС20", "189.00"),
    ("Картридж лазерний HP 85A", "шт", "НДС20", "1450.00"),
    ('Монітор 27" IPS', "шт", "НДС20", "8999.00"),
    ("Клавіатура бездротова", "шт", "НДС20", "899.50"),
    ("Ліки: аптечка офісна", "шт", "НДС7", "640.00"),
    ("Кабель UTP Cat.6, 305 м", "бухта", "НДС20", "3120.00"),
)
_SERVICES = (
    ("Налаштування обладнання", "послуга", "НДС20", "1500.00"),
    ("Доставка по Києву", "послуга", "НДС20", "250.00"),
    ("Абонентське обслуговування, місяць", "місяць", "НДС20", "4800.00"),
    ("Консультація бухгалтера", "година", "БезНДС", "900.00"),
)
_COMPANY_NAMES = (
    "Альфа-Трейд",
    "Будмайстер",
    "Вектор Плюс",
    "Граніт Інвест",
    "Дніпро Логістик",
    "Еко Продукт",
    "Житомир Агро",
    "Зоря Сервіс",
)
_REPS = (
    Rep(1, "Олена", "Коваленко", "olena@example.com"),
    Rep(3, "Андрій", "Шевченко", "andrii@example.com"),
    Rep(5, "Марія", "Бондар", "maria@example.com"),
)


@dataclass
class Seed:
    size: int
    organisation: Organisation
    price_type_ref_key: str
    price_type_name: str
    currency_ref_key: str
    products: list[Product] = field(default_factory=list)
    counterparties: list[Counterparty] = field(default_factory=list)
    reps: tuple[Rep, ...] = _REPS
    companies: list[Company] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    crm_product_count: int = 0  # the first N products also exist in the CRM (ID = index + 1)


def _products(size: int) -> list[Product]:
    catalog = [(*g, False) for g in _GOODS] + [(*s, True) for s in _SERVICES]
    products = []
    for i in range(size):
        name, unit, vat, price, is_service = catalog[i % len(catalog)]
        batch = i // len(catalog)
        products.append(
            Product(
                ref_key=ref_key("product", i),
                code=f"00-{i + 1:08d}",
                name=name if batch == 0 else f"{name} (серія {batch + 1})",
                sku=f"SKU-{i + 1:05d}",
                is_service=is_service,
                vat_rate=vat,
                unit=unit,
                price=Decimal(price) + batch,
            )
        )
    return products


def _counterparties(size: int) -> list[Counterparty]:
    parties: list[Counterparty] = []
    for i in range(max(size, 3)):
        base = f"{3100000 + i * 7919:07d}"[-7:]
        name = _COMPANY_NAMES[i % len(_COMPANY_NAMES)]
        if i // len(_COMPANY_NAMES):
            name = f"{name} {i // len(_COMPANY_NAMES) + 1}"
        edrpou = with_edrpou_check(base)
        parties.append(
            Counterparty(
                ref_key=ref_key("counterparty", i),
                code=f"{i + 1:09d}",
                name=f"ТОВ «{name}»",
                full_name=f"Товариство з обмеженою відповідальністю «{name}»",
                legal_form="ЮридическоеЛицо",
                edrpou=edrpou,
                ipn=f"{edrpou[:7]}{i % 90 + 10:02d}265",  # ІПН of a VAT payer: 12 digits
            )
        )
    head = parties[0]
    parties.append(  # a branch that shares its head's ЄДРПОУ
        Counterparty(
            ref_key=ref_key("counterparty", "branch-0"),
            code=f"{len(parties) + 1:09d}",
            name=f"{head.name}, філія Львів",
            full_name=f"{head.full_name}, Львівська філія",
            legal_form="ЮридическоеЛицо",
            edrpou=head.edrpou,
            ipn=head.ipn,
            head_ref_key=head.ref_key,
        )
    )
    rnokpp = with_rnokpp_check("312457896")
    parties.append(  # a ФОП: a person, identified by a 10-digit РНОКПП
        Counterparty(
            ref_key=ref_key("counterparty", "fop-0"),
            code=f"{len(parties) + 1:09d}",
            name="ФОП Петренко Іван Миколайович",
            full_name="Фізична особа-підприємець Петренко Іван Миколайович",
            legal_form="ФизическоеЛицо",
            edrpou=rnokpp,
            ipn=rnokpp,
        )
    )
    return parties


def _companies(counterparties: list[Counterparty]) -> list[Company]:
    legal = [c for c in counterparties if c.head_ref_key is None and len(c.edrpou) == 8]
    fop = next(c for c in counterparties if len(c.edrpou) == 10)
    companies: list[Company] = []
    # The first three legal entities are clients on both sides (they match by ЄДРПОУ).
    for i, party in enumerate(legal[:3]):
        title = party.name.replace("ТОВ «", "").rstrip("»")
        companies.append(_company(len(companies) + 1, title, party.edrpou, party.ipn, False, i))
    # The ФОП exists in both systems too.
    companies.append(_company(len(companies) + 1, fop.name, fop.edrpou, fop.ipn, True, 1))
    # New clients, known only to the CRM: BAS will have to create them.
    for i, title in enumerate(("Сонячна Енергія", "Київ Ритейл")):
        edrpou = with_edrpou_check(f"{4400000 + i * 311:07d}")
        companies.append(_company(len(companies) + 1, title, edrpou, None, False, i + 2))
    # A prospect without requisites: cannot be invoiced until someone fills in its tax code.
    companies.append(_company(len(companies) + 1, "Прайм Консалт", None, None, False, 0))
    return companies


def _company(
    cid: int, title: str, edrpou: str | None, inn: str | None, is_fop: bool, rep: int
) -> Company:
    return Company(
        id=cid,
        title=title,
        edrpou=edrpou,
        inn=inn,
        is_fop=is_fop,
        assigned_by_id=_REPS[rep % len(_REPS)].id,
        phone=f"+38044{5550100 + cid}",
        email=f"office{cid}@client.example.com",
    )


def _deals(companies: list[Company], product_count: int) -> list[Deal]:
    deals = []
    for i, company in enumerate(companies):
        goods = DealRow(product_index=i % 6, quantity=Decimal(2 + i))
        service = DealRow(product_index=6 + i % 4, quantity=Decimal(1))
        candidates = (goods, service) if i % 2 == 0 else (goods,)
        rows = tuple(r for r in candidates if r.product_index < product_count)
        deals.append(
            Deal(
                id=i + 1,
                title=f"Поставка для {company.title}",
                company_id=company.id,
                assigned_by_id=company.assigned_by_id,
                stage_id="PREPARATION" if i < 4 else "NEW",
                rows=rows,
            )
        )
    return deals


def build(size: int = 20) -> Seed:
    """The seed for a sandbox of `size` products and (at least) `size` counterparties."""
    if size < 1:
        raise ValueError("seed size must be at least 1")
    products = _products(max(size, len(_GOODS) + len(_SERVICES)))
    counterparties = _counterparties(max(size, 8))
    companies = _companies(counterparties)
    seed = Seed(
        size=size,
        organisation=Organisation(
            ref_key=ref_key("organisation", 0),
            name="ТОВ «Торговий дім Сандбокс»",
            full_name="Товариство з обмеженою відповідальністю «Торговий дім Сандбокс»",
            edrpou=with_edrpou_check("4398712"),
            ipn="439871226598",
            vat_certificate="1726543210",
            iban="UA213223130000026007233566001",
            bank_name="АТ «Сандбокс Банк»",
            mfo="322313",
            address="01001, м. Київ, вул. Хрещатик, 1",
        ),
        price_type_ref_key=ref_key("price_type", 0),
        price_type_name="Оптова ціна",
        currency_ref_key=ref_key("currency", "UAH"),
        products=products,
        counterparties=counterparties,
        companies=companies,
        crm_product_count=len(_GOODS) + len(_SERVICES),
    )
    seed.deals = _deals(companies, seed.crm_product_count)
    return seed
