"""Where each configuration keeps what the invoice prints, declared once per profile.

Entity sets and fields common to both profiles are constants here; what differs is a
`PrintSources` (the model is `connectors/onec/profile.py`). Each name carries its public source;
"assumed" marks what no public source settles — check it against the `$metadata` of the target
base. docs/invoice-pdf.md lists the sets that must be in the OData composition.

Common to both (reference §2.2–2.5 and these sources):
- `Catalog_Организации`: `НаименованиеПолное`, `ОсновнойБанковскийСчет_Key`, tabular section
  `КонтактнаяИнформация` (`Тип`, `Вид_Key`, `Представление`) — sabatex/1C8
  `src/V1C8.AccountingUkrCorp/Models/Catalogs/Организации.cs` (UA BP КОРП); recorded rows with
  `Тип = Адрес` in datareducer/console `src/test/resources/odata/TabularSection.xml`.
- `Catalog_ВидыКонтактнойИнформации`, the legal address being the predefined
  `ЮрАдресОрганизации` (`PredefinedDataName`) — oknosoft/metadata.js print forms; BSP naming.
- `Catalog_БанковскиеСчета` (`НомерСчета` up to 34 characters: the IBAN, `Банк_Key`) and
  `Catalog_Банки` (no МФО attribute, so the МФО is `Code`: inferred) — sabatex/1C8 `Банки.cs`,
  `БанковскиеСчета.cs`.
- `Catalog_ДоговорыКонтрагентов` (`Номер`, `Дата`), `Catalog_КлассификаторЕдиницИзмерения`
  (`Description`) — reference §2.3, §2.4; sabatex/1C8 `КлассификаторЕдиницИзмерения.cs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crmbridge.errors import ConfigError

ORGANISATIONS = "Catalog_Организации"
COUNTERPARTIES = "Catalog_Контрагенты"
CONTRACTS = "Catalog_ДоговорыКонтрагентов"
PRODUCTS = "Catalog_Номенклатура"
UNITS = "Catalog_КлассификаторЕдиницИзмерения"
BANK_ACCOUNTS = "Catalog_БанковскиеСчета"
BANKS = "Catalog_Банки"
CONTACT_KINDS = "Catalog_ВидыКонтактнойИнформации"
LEGAL_ADDRESS = "ЮрАдресОрганизации"
INVOICES = "Document_СчетНаОплатуПокупателю"


@dataclass(frozen=True)
class Code:
    """A tax code printed as «label value»; a 10-digit value may take another label (the
    РНОКПП of a sole trader sits where a company's 8-digit ЄДРПОУ does)."""

    field: str
    label: str
    ten_digits: str | None = None

    def text(self, value: str) -> str:
        label = self.ten_digits if self.ten_digits and len(value) == 10 else self.label
        return f"{label} {value}"


@dataclass(frozen=True)
class PrintSources:
    codes: tuple[Code, ...]  # of the organisation and the counterparty
    vat_number: Code | None  # printed after «Платник ПДВ» (and among the buyer's codes)
    vat_register: str  # periodic, dimension Организация: SliceLast gives the VAT status
    vat_flag: str
    unit: str  # Catalog_Номенклатура's reference to the units classifier
    account: str  # the invoice's bank account of the organisation (else its main one)
    bank_code: str  # the label of Catalog_Банки.Code
    sections: tuple[str, ...]  # the invoice's tabular sections with lines, in print order


SOURCES: Mapping[str, PrintSources] = {
    "bas-buh": PrintSources(
        # КодПоЕДРПОУ and ИНН (= ІПН of a VAT payer): reference §2.2 (SABATEX)
        codes=(Code("КодПоЕДРПОУ", "код за ЄДРПОУ", "РНОКПП"),),
        vat_number=Code("ИНН", "ІПН"),
        # The register «Облікова політика організацій» keeps the tax system per period
        # (portfel.ua «Облікова політика організації в BAS Бухгалтерія»); its metadata name
        # and the flag's name are assumed.
        vat_register="InformationRegister_УчетнаяПолитикаОрганизаций",
        vat_flag="ПлательщикНДС",
        unit="БазоваяЕдиницаИзмерения_Key",  # reference §2.4 (SABATEX)
        account="СтруктурнаяЕдиница_Key",  # synonym «Банковский счет»: reference §2.5
        bank_code="МФО",
        sections=("Товары", "Услуги"),  # reference §2.5
    ),
    "bp30": PrintSources(
        codes=(Code("ИНН", "ИНН"), Code("КПП", "КПП")),  # reference §2.2 (LARAVEL)
        vat_number=None,
        # "В БП 3.0.194 … НастройкиСистемыНалогообложения.{ПлательщикНДС, …}": a public BP 3.0
        # sync service's comment; the register is periodic by Организация (assumed).
        vat_register="InformationRegister_НастройкиСистемыНалогообложения",
        vat_flag="ПлательщикНДС",
        unit="ЕдиницаИзмерения_Key",  # reference §2.4 (LARAVEL app/Nomenklatura.php)
        account="БанковскийСчетОрганизации_Key",  # reference §2.5 [INF]
        bank_code="БИК",  # Catalog_Банки.Code is the БИК in the RU configurations
        sections=("Товары",),
    ),
}


def sources(profile: str) -> PrintSources:
    if profile not in SOURCES:
        raise ConfigError(f"no invoice print form for BAS profile {profile!r}")
    return SOURCES[profile]


def print_sets(profile: str) -> tuple[str, ...]:
    """The entity sets the print form reads beyond the invoice's own: without them in the OData
    composition the page prints blanks where the IBAN, bank, address or units go."""
    found = sources(profile)
    return (UNITS, BANK_ACCOUNTS, BANKS, CONTACT_KINDS, found.vat_register)
