"""Organizations, secrets, users, images, clipboards with their ordered images, jobs."""

STATEMENTS = [
    """
    CREATE TABLE organizations (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    """
    CREATE TABLE secrets (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        name text,
        key text NOT NULL,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX secrets_organization_id ON secrets (organization_id)",
    """
    CREATE TABLE users (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        email varchar(320) NOT NULL,
        name text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE UNIQUE INDEX users_organization_id_email ON users (organization_id, email)",
    """
    CREATE TABLE images (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        album_id varchar(255) NOT NULL,
        filename text,
        format varchar(32),
        width integer,
        height integer,
        bytes bigint,
        url text,
        title text,
        description text,
        metadata jsonb NOT NULL DEFAULT '{}',
        tags jsonb NOT NULL DEFAULT '[]',
        source_image_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    # Album listings: newest first, keyset-paginated on (created_at, id).
    """CREATE INDEX images_album_listing
       ON images (organization_id, album_id, created_at DESC, id DESC)""",
    "CREATE INDEX images_source_image_id ON images (source_image_id)",
    """
    CREATE TABLE clipboards (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        user_id uuid,
        revision bigint NOT NULL DEFAULT 0,
        state varchar(16) NOT NULL,
        error text,
        rejected_images jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX clipboards_organization_id ON clipboards (organization_id)",
    """
    CREATE TABLE clipboard_images (
        clipboard_id uuid NOT NULL REFERENCES clipboards (id) ON DELETE CASCADE,
        position integer NOT NULL,
        image_id uuid NOT NULL,
        PRIMARY KEY (clipboard_id, position)
    )""",
    """
    CREATE TABLE jobs (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        kind varchar(32) NOT NULL,
        state varchar(16) NOT NULL DEFAULT 'queued',
        params jsonb NOT NULL DEFAULT '{}',
        result jsonb,
        error text,
        started_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX jobs_organization_id ON jobs (organization_id)",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)


def down(migrator, db):
    for table in ("jobs", "clipboard_images", "clipboards", "images", "users", "secrets", "organizations"):
        db.execute_sql(f"DROP TABLE IF EXISTS {table}")
