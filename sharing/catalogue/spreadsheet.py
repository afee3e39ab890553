"""CSV export and import of a régie's inventory, as French spreadsheets write them.

The export is what Excel in French opens with a double click: UTF-8 with a byte order mark,
``;`` between cells, decimal commas, French labels. The import reads that back, and also what
régies actually keep: Windows-1252 files, ``,`` separators, headers such as « Désignation » or
« Caution (€) », labels instead of slugs, amounts such as « 1 234,50 € ».

Every line goes through ``ResourceArgs``, the API's own rules. The whole file is checked before
anything is written, so an import that is refused (or a dry run) changes nothing.

A line whose ``id`` is one of the régie's resources updates it; any other line creates a new
resource, so a file exported by another régie copies its inventory and never touches theirs.
Retired resources are history: their lines are exported, and ignored on import.
"""

import codecs
import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields

from sharing.accounts.models import User
from sharing.catalogue import queries, services
from sharing.catalogue.models import (
    CATEGORIES,
    CONDITION_LABELS,
    STATUS_LABELS,
    Condition,
    Resource,
    ResourceStatus,
)
from sharing.catalogue.permissions import can_import_resources
from sharing.catalogue.schemas import ResourceArgs
from sharing.errors import Forbidden, Invalid
from sharing.extensions import db
from sharing.http import Args
from sharing.regies.models import Regie
from sharing.search import fold

MAX_LINES = 5000
BOM = "\ufeff"


@dataclass
class LineError:
    line: int  # 1-based line number in the file, header = line 1
    errors: dict[str, list[str]]  # column/field name -> French messages


@dataclass
class ImportReport:
    """What an import did, or would do. The counts describe the valid lines; ``applied``
    says whether they were written."""

    dry_run: bool
    applied: bool  # False for a dry run, or when bad lines were found and not skipped
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # lines of the régie's resources that change nothing
    ignored: int = 0  # lines of retired resources: history, never imported
    skipped: int = 0  # bad lines left out because of ``skip_invalid``
    errors: list[LineError] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)  # headers read as nothing


# --- Columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str  # as exported
    field: str  # a ResourceArgs field, or "id"
    synonyms: tuple[str, ...] = ()  # other headers people write, matched like the header


COLUMNS = (
    Column("id", "id", ("identifiant", "uuid")),
    Column(
        "nom",
        "name",
        ("désignation", "libellé", "intitulé", "matériel", "équipement", "nom du matériel"),
    ),
    Column("categorie", "category", ("famille", "catégorie de matériel")),
    Column("etat", "condition", ("état général", "état du matériel")),
    Column("statut", "status", ("disponibilité",)),
    Column(
        "emplacement",
        "location",
        ("lieu", "localisation", "lieu de stockage", "stockage", "adresse", "lieu de retrait"),
    ),
    Column("description", "description", ("descriptif", "détails")),
    Column("caution_eur", "deposit_eur", ("caution", "dépôt de garantie", "montant de la caution")),
    Column(
        "valeur_remplacement_eur",
        "replacement_value_eur",
        ("valeur de remplacement", "valeur", "valeur à neuf", "prix neuf"),
    ),
    Column(
        "duree_max_jours",
        "max_loan_days",
        ("durée max", "durée maximale", "durée maximale de prêt", "durée de prêt max"),
    ),
    Column("preavis_heures", "min_notice_hours", ("préavis", "délai de prévenance")),
    Column(
        "prerequis",
        "requirements",
        ("prérequis", "exigences", "contraintes", "conditions de prêt", "permis et formation"),
    ),
)
REQUIRED = ("name", "category")

# Words that say nothing about which column it is: articles, units, currencies.
_NOISE = {
    "a", "au", "d", "de", "des", "du", "en", "l", "la", "le", "les", "par",
    "eur", "euro", "euros", "j", "jour", "jours", "h", "heure", "heures", "days", "hours",
}  # fmt: skip


def header_key(text: str) -> str:
    """ "Caution (€)", "caution_eur" and "CAUTION EN EUROS" all become "caution"."""
    words = re.findall(r"[a-z0-9]+", fold(text.replace("€", " ")))
    return " ".join(w for w in words if w not in _NOISE)


HEADERS: dict[str, Column] = {}
for _column in COLUMNS:
    for _name in (_column.header, _column.field, *_column.synonyms):
        HEADERS.setdefault(header_key(_name), _column)


# --- Cell values -----------------------------------------------------------------------------


def _value_key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


CATEGORY_VALUES = {_value_key(slug): slug for slug in CATEGORIES} | {
    _value_key(label): slug for slug, label in CATEGORIES.items()
}
CONDITION_VALUES = {_value_key(c.value): c for c in Condition} | {
    _value_key(label): c for c, label in CONDITION_LABELS.items()
}
CONDITION_VALUES |= {
    "neuve": Condition.NEW,
    "bon": Condition.GOOD,
    "bonne": Condition.GOOD,
    "usee": Condition.WORN,
    "endommagee": Condition.DAMAGED,
    "abime": Condition.DAMAGED,
    "abimee": Condition.DAMAGED,
}
STATUS_VALUES = {_value_key(s.value): s for s in ResourceStatus} | {
    _value_key(label): s for s, label in STATUS_LABELS.items()
}
STATUS_VALUES |= {"retiree": ResourceStatus.RETIRED, "maintenance": ResourceStatus.MAINTENANCE}

# A cell starting with one of these is a formula to a spreadsheet: the export writes a quote
# before it (OWASP's advice against CSV injection) and the import takes it off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_INTEGER = re.compile(r"^(\d+)(?:[.,]0+)?(?:\s*(?:j|jours?|h|heures?))?$")


def _escape_formula(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _unescape_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def _french_amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def _parse_integer(text: str) -> int:
    match = _INTEGER.match(re.sub(r"[\u00a0\u202f ]", "", text).lower())
    if match is None:
        raise ValidationError(f"Nombre entier attendu, pas « {text} ».")
    return int(match.group(1))


def _choices(labels: dict[Any, str]) -> str:
    return ", ".join(labels.values())


# --- Export ----------------------------------------------------------------------------------


def export_inventory(actor: User) -> str:
    """The actor's régie's inventory as CSV text (``;``, decimal commas, UTF-8 with BOM)."""
    if not can_import_resources(actor):
        raise Forbidden("Seuls les responsables de la régie exportent son inventaire.")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in COLUMNS])
    for resource in db.session.scalars(queries.regie_inventory(actor.regie_id)):
        writer.writerow(
            [
                str(resource.id),
                _escape_formula(resource.name),
                resource.category_label,
                CONDITION_LABELS[resource.condition],
                STATUS_LABELS[resource.status],
                _escape_formula(resource.location),
                _escape_formula(resource.description),
                _french_amount(resource.deposit_eur),
                _french_amount(resource.replacement_value_eur),
                "" if resource.max_loan_days is None else str(resource.max_loan_days),
                str(resource.min_notice_hours),
                _escape_formula(resource.requirements),
            ]
        )
    return BOM + out.getvalue()


def export_filename(regie: Regie) -> str:
    """``inventaire-<slug>-<date>.csv``, dated in the régie's own timezone."""
    today = datetime.now(ZoneInfo(regie.timezone)).date()
    return f"inventaire-{regie.slug}-{today.isoformat()}.csv"


# --- Import ----------------------------------------------------------------------------------


@dataclass
class _Plan:
    """One valid line and what it will do."""

    action: str  # "create", "update", "unchanged" or "ignore"
    args: dict[str, Any]
    resource: Resource | None = None


def import_inventory(
    actor: User, data: bytes, *, dry_run: bool, skip_invalid: bool
) -> ImportReport:
    """Check every line, then create or update the actor's régie's resources."""
    if not can_import_resources(actor):
        raise Forbidden("Seuls les responsables de la régie importent son inventaire.")
    rows = _read_rows(_decode(data))
    header = rows[0][1]
    columns, unknown = _match_header(header)
    width = len(header)
    if len(rows) == 1:
        raise _file_error(
            "Le fichier ne contient que la ligne d'en-tête : aucun matériel à importer."
        )

    inventory = {r.id: r for r in db.session.scalars(queries.regie_inventory(actor.regie_id))}
    report = ImportReport(dry_run=dry_run, applied=False, unknown_columns=unknown)
    plans: list[_Plan] = []
    seen: dict[uuid.UUID, int] = {}
    for line, cells in rows[1:]:
        try:
            plans.append(_plan_line(line, cells, width, columns, inventory, seen))
        except _LineInvalid as error:
            report.errors.append(LineError(line, error.errors))

    actions = [plan.action for plan in plans]
    report.created, report.updated = actions.count("create"), actions.count("update")
    report.unchanged, report.ignored = actions.count("unchanged"), actions.count("ignore")
    if report.errors and skip_invalid:
        report.skipped = len(report.errors)
    if dry_run or (report.errors and not skip_invalid):
        return report

    for plan in plans:
        if plan.action == "create":
            services.create_resource(actor, plan.args)
        elif plan.action == "update":
            assert plan.resource is not None
            services.update_resource(actor, plan.resource, plan.args)
    report.applied = True
    return report


class _LineInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _file_error(message: str) -> Invalid:
    return Invalid(message, fields={"file": [message]})


def _decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    if data[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        raise _file_error(
            "Ce fichier est un classeur Excel : enregistrez-le au format "
            "« CSV (séparateur : point-virgule) » puis importez ce fichier."
        )
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        elif b"\x00" in data:
            raise UnicodeError
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1252")
    except UnicodeError:
        raise _file_error(
            "Ce fichier n'est pas un fichier CSV lisible : enregistrez-le au format "
            "« CSV UTF-8 » ou « CSV (séparateur : point-virgule) »."
        ) from None
    if "\x00" in text:
        raise _file_error("Ce fichier n'est pas un fichier CSV lisible.")
    return text.lstrip(BOM)


def _separator(text: str) -> str:
    """``;`` (French Excel), ``,`` or a tab, whichever the header line uses most."""
    first_line = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    counts = {sep: first_line.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ";"


def _read_rows(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows with the file line each starts on; a quoted cell may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    rows: list[tuple[int, list[str]]] = []
    last = 0
    try:
        for cells in reader:
            start, last = last + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append((start, cells))
            if len(rows) > MAX_LINES + 1:
                limit = f"{MAX_LINES:,}".replace(",", "\u202f")
                raise _file_error(
                    f"Le fichier dépasse {limit} lignes : découpez-le en plusieurs fichiers."
                )
    except csv.Error:
        raise _file_error(
            f"Le fichier CSV est mal formé à la ligne {last + 1} "
            "(guillemet non refermé ou cellule trop longue)."
        ) from None
    if not rows:
        raise _file_error("Le fichier est vide.")
    return rows


def _match_header(header: list[str]) -> tuple[dict[int, tuple[str, Column]], list[str]]:
    """Which column each cell of the header is, and the headers matching nothing."""
    columns: dict[int, tuple[str, Column]] = {}
    found: dict[str, str] = {}
    unknown: list[str] = []
    for index, raw in enumerate(header):
        title = raw.strip().lstrip(BOM).strip()
        if not title:
            continue
        column = HEADERS.get(header_key(title))
        if column is None:
            unknown.append(title[:80])
            continue
        if column.field in found:
            raise _file_error(
                f"Les colonnes « {found[column.field]} » et « {title} » désignent la même "
                f"donnée ({column.header}) : gardez-en une seule."
            )
        found[column.field] = title
        columns[index] = (title, column)
    missing = [c.header for c in COLUMNS if c.field in REQUIRED and c.field not in found]
    if missing:
        seen = ", ".join(f"« {title[:40]} »" for title in (list(found.values()) + unknown)[:12])
        raise _file_error(
            f"Colonne(s) obligatoire(s) manquante(s) : {', '.join(missing)}. "
            f"Colonnes lues : {seen or 'aucune'}. Vérifiez la ligne d'en-tête."
        )
    return columns, unknown


_ARGS = ResourceArgs()


def _plan_line(
    line: int,
    cells: list[str],
    width: int,
    columns: dict[int, tuple[str, Column]],
    inventory: dict[uuid.UUID, Resource],
    seen: dict[uuid.UUID, int],
) -> _Plan:
    """Turn one line into ResourceArgs input, validate it, and decide what it does."""
    if any(cell.strip() for cell in cells[width:]):
        raise _LineInvalid(
            {
                "ligne": [
                    f"Cette ligne a {len(cells)} cellules pour {width} colonnes d'en-tête : "
                    "un séparateur hors guillemets ?"
                ]
            }
        )
    titles = {column.field: title for title, column in columns.values()}
    raw = {column.field: _cell(cells, i) for i, (_, column) in columns.items()}
    errors: dict[str, list[str]] = {}

    resource_id = _parse_id(raw.pop("id", ""), errors, titles)
    is_retired_line = STATUS_VALUES.get(_value_key(raw.get("status", ""))) is ResourceStatus.RETIRED
    if is_retired_line:
        del raw["status"]  # the schema refuses "retired"; such lines are handled below
    values: dict[str, Any] = {}
    for name, text in raw.items():
        if not text and name != "name":  # a blank name is the schema's error to report
            if name == "category":
                errors[titles[name]] = ["Indiquez une catégorie."]
            continue  # blank cell: the schema's default
        try:
            values[name] = _convert(name, text)
        except ValidationError as error:
            errors[titles[name]] = [str(message) for message in error.messages]

    # Columns missing from the file are left as they are; cells already refused are not
    # checked twice.
    partial = {c.field for c in COLUMNS if c.field not in raw or titles[c.field] in errors}
    try:
        args = _ARGS.load(values, partial=tuple(partial - {"id"}))
    except ValidationError as error:
        messages = error.normalized_messages()
        assert isinstance(messages, dict)
        for name, field_messages in messages.items():
            key = titles.get(str(name), str(name))
            errors.setdefault(key, []).extend(map(str, field_messages))
        args = {}

    target = None
    if resource_id is not None:
        target = inventory.get(resource_id)
        if resource_id in seen:
            errors.setdefault(titles["id"], []).append(
                f"Ce matériel figure déjà à la ligne {seen[resource_id]}."
            )
        seen.setdefault(resource_id, line)
    if target is not None:
        is_retired = target.status is ResourceStatus.RETIRED
        if is_retired and not is_retired_line:
            errors.setdefault(titles.get("status", titles["id"]), []).append(
                "Ce matériel est retiré du catalogue : il ne peut plus être modifié."
            )
        elif is_retired_line and not is_retired:
            errors.setdefault(titles["status"], []).append(
                "Retirez un matériel depuis le catalogue, pas par un import."
            )
    if errors:
        raise _LineInvalid(errors)

    if is_retired_line:
        return _Plan("ignore", args, target)
    if target is None:
        return _Plan("create", args)
    if all(getattr(target, key) == value for key, value in args.items()):
        return _Plan("unchanged", args, target)
    return _Plan("update", args, target)


def _cell(cells: list[str], index: int) -> str:
    """A cell's text, trimmed; spreadsheets often drop the empty cells at the end of a row."""
    text = cells[index].strip() if index < len(cells) else ""
    return _unescape_formula(text)


def _parse_id(text: str, errors: dict[str, list[str]], titles: dict[str, str]) -> uuid.UUID | None:
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        errors[titles["id"]] = [
            "Identifiant non reconnu : laissez cette case vide pour ajouter un nouveau "
            "matériel, ou gardez l'identifiant d'un fichier exporté."
        ]
        return None


def _convert(name: str, text: str) -> Any:
    """A cell as ResourceArgs input: slugs and API values for labels, ints for counts."""
    if name == "category":
        slug = CATEGORY_VALUES.get(_value_key(text))
        if slug is None:
            raise ValidationError(
                f"Catégorie inconnue : « {text} » (possibles : {_choices(CATEGORIES)})."
            )
        return slug
    if name == "condition":
        condition = CONDITION_VALUES.get(_value_key(text))
        if condition is None:
            raise ValidationError(
                f"État inconnu : « {text} » (possibles : {_choices(CONDITION_LABELS)})."
            )
        return condition.value
    if name == "status":
        status = STATUS_VALUES.get(_value_key(text))
        if status is None:
            raise ValidationError(
                f"Statut inconnu : « {text} » (possibles : {_choices(STATUS_LABELS)})."
            )
        return status.value
    if name in ("max_loan_days", "min_notice_hours"):
        return _parse_integer(text)
    return text


# --- HTTP boundary ---------------------------------------------------------------------------


class ImportArgs(Args):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Check and count; write nothing"}
    )
    skip_invalid = fields.Boolean(
        load_default=False,
        metadata={"description": "Import the valid lines and leave the bad ones out"},
    )


class LineErrorSchema(Schema):
    line = fields.Integer(metadata={"description": "Line in the file; the header is line 1"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Column header as written in the file → French messages"},
    )


class ImportReportSchema(Schema):
    dry_run = fields.Boolean()
    applied = fields.Boolean(metadata={"description": "Whether the valid lines were written"})
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer(metadata={"description": "Lines that change nothing"})
    ignored = fields.Integer(metadata={"description": "Lines of retired resources"})
    skipped = fields.Integer(metadata={"description": "Bad lines left out (skip_invalid)"})
    errors = fields.List(fields.Nested(LineErrorSchema))
    unknown_columns = fields.List(
        fields.String(), metadata={"description": "Headers that match no field, ignored"}
    )
