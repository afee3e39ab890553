"""CSV export and import of a régie's inventory, as French spreadsheets write them.

INTERFACE DRAFT — to be implemented (see the brief of the CSV work).
"""

from dataclasses import dataclass, field

from sharing.accounts.models import User


@dataclass
class LineError:
    line: int  # 1-based line number in the file, header = line 1
    errors: dict[str, list[str]]  # column/field name -> French messages


@dataclass
class ImportReport:
    dry_run: bool
    applied: bool  # False for a dry run, or when bad lines were found and not skipped
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[LineError] = field(default_factory=list)


def export_inventory(actor: User) -> str:
    """The actor's régie's inventory as CSV text (``;``, decimal commas, UTF-8 with BOM)."""
    raise NotImplementedError


def import_inventory(actor: User, data: bytes, *, dry_run: bool, skip_invalid: bool) -> ImportReport:
    """Check every line, then create or update the actor's régie's resources."""
    raise NotImplementedError
