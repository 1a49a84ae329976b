"""Who may do what with an import, beyond reading its record (every signed-in user may).

- Apply or discard a preview: whoever sent the file, or an administrator (the rows were
  checked against the sender's rights, and are again when applied).
- Download the file as received: whoever sent it, the writers of the org unit its rows are
  under (Import.org_unit), and administrators. Board members and analysts read the record,
  not the file; nor does anyone for an import whose rows resolved to no org unit, but its
  sender and the administrators.
- Import the file again on purpose: whoever may write somewhere and may download it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from divisions.access import can_write, can_write_anywhere, is_administrator

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from .models import Import


def is_sender(user: AbstractBaseUser, record: Import) -> bool:
    return record.user_id is not None and record.user_id == user.pk


def may_decide(user: AbstractBaseUser, record: Import) -> bool:
    return is_administrator(user) or is_sender(user, record)


def may_download(user: AbstractBaseUser, record: Import) -> bool:
    if is_administrator(user) or is_sender(user, record):
        return True
    return record.org_unit is not None and can_write(user, record.org_unit)


def stored_file_of(record: Import) -> Import | None:
    """The import whose stored file is this one's: a duplicate keeps none of its own."""
    if record.file:
        return record
    original = record.duplicate_of
    return original if original is not None and original.file else None


def may_import_again(user: AbstractBaseUser, record: Import) -> bool:
    stored = stored_file_of(record)
    return stored is not None and can_write_anywhere(user) and may_download(user, stored)
