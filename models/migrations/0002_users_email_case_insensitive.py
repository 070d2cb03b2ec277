"""One user per address and organization whatever the letter case, enforced by the database.

`manage.py create-user` already refuses an address that differs from an existing one only in
case, but it checks, then inserts: two runs at once could both pass the check. The unique index
on lower(email) closes that. If existing rows already collide, creating the index fails with
PostgreSQL naming the duplicated key, the transaction rolls back, and the duplicates must be
resolved before migrating again.
"""


def up(migrator, db):
    db.execute_sql("DROP INDEX users_organization_id_email")
    db.execute_sql("CREATE UNIQUE INDEX users_organization_id_lower_email ON users (organization_id, lower(email))")


def down(migrator, db):
    db.execute_sql("DROP INDEX users_organization_id_lower_email")
    db.execute_sql("CREATE UNIQUE INDEX users_organization_id_email ON users (organization_id, email)")
