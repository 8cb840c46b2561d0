"""Re-encrypt every stored token under the newest key in FIELD_ENCRYPTION_KEYS.

Key rotation: put the new key first in FIELD_ENCRYPTION_KEYS, deploy, run this command, then
drop the old key.
"""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from integrations.crypto import rotate
from integrations.models import FortnoxConnection, HubSpotInstallation


class Command(BaseCommand):
    help = "Re-encrypt stored tokens with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args, **options) -> None:
        total = 0
        for model in (HubSpotInstallation, FortnoxConnection):
            table = connection.ops.quote_name(model._meta.db_table)
            with transaction.atomic(), connection.cursor() as cursor:
                # Raw SQL: rotate the ciphertext as stored, without decrypting into the ORM.
                cursor.execute(f"SELECT id, access_token, refresh_token FROM {table}")  # noqa: S608
                for row_id, access, refresh in cursor.fetchall():
                    cursor.execute(
                        f"UPDATE {table} SET access_token = %s, refresh_token = %s "  # noqa: S608
                        "WHERE id = %s",
                        [
                            rotate(access) if access else access,
                            rotate(refresh) if refresh else refresh,
                            row_id,
                        ],
                    )
                    total += 1
        self.stdout.write(f"Re-encrypted the tokens of {total} rows with the newest key.")
