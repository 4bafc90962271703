/// The store's schema, as forward migrations. A migration is frozen once released: later changes are
/// new migrations, never edits, so every store reaches the same schema by the same steps.
enum Schema {
    /// Each migration is SQL run in one transaction after `InitSpatialMetadata`. SpatiaLite's
    /// AddGeometryColumn and CreateSpatialIndex return 0 instead of failing, hence the CHECK helper
    /// table trick is not available; `Migrations.apply` checks their results instead.
    static let migrations: [[String]] = [
        // 1: the five layers of the foundation.
        [
            """
            CREATE TABLE communities (
                id INTEGER PRIMARY KEY,
                code TEXT NOT NULL UNIQUE,
                name TEXT,
                level TEXT NOT NULL CHECK (level IN ('district', 'street', 'community')),
                parent_code TEXT)
            """,
            "SELECT AddGeometryColumn('communities', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1)",
            "SELECT CreateSpatialIndex('communities', 'geom')",
            """
            CREATE TABLE grids (
                id INTEGER PRIMARY KEY,
                code TEXT NOT NULL UNIQUE,
                name TEXT,
                community_code TEXT NOT NULL,
                worker_name TEXT,
                worker_phone TEXT,
                households INTEGER CHECK (households >= 0),
                population INTEGER CHECK (population >= 0),
                valid_from TEXT,
                valid_to TEXT)
            """,
            "SELECT AddGeometryColumn('grids', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1)",
            "SELECT CreateSpatialIndex('grids', 'geom')",
            "CREATE INDEX grids_community ON grids (community_code)",
            """
            CREATE TABLE buildings (
                id INTEGER PRIMARY KEY,
                name TEXT,
                address TEXT,
                floors INTEGER CHECK (floors >= 0),
                households INTEGER CHECK (households >= 0),
                population INTEGER CHECK (population >= 0),
                grid_code TEXT)
            """,
            "SELECT AddGeometryColumn('buildings', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1)",
            "SELECT CreateSpatialIndex('buildings', 'geom')",
            "CREATE INDEX buildings_grid ON buildings (grid_code)",
            """
            CREATE TABLE resources (
                id INTEGER PRIMARY KEY,
                type TEXT NOT NULL,
                name TEXT,
                capacity INTEGER CHECK (capacity >= 0),
                status TEXT NOT NULL DEFAULT 'in_service')
            """,
            "SELECT AddGeometryColumn('resources', 'geom', 4326, 'POINT', 'XY', 1)",
            "SELECT CreateSpatialIndex('resources', 'geom')",
            "CREATE INDEX resources_type ON resources (type)",
            """
            CREATE TABLE roads (
                id INTEGER PRIMARY KEY,
                name TEXT,
                class TEXT,
                width REAL CHECK (width >= 0))
            """,
            "SELECT AddGeometryColumn('roads', 'geom', 4326, 'MULTILINESTRING', 'XY', 1)",
            "SELECT CreateSpatialIndex('roads', 'geom')",
        ],
        // 2: the open store: every attribute kept, layers of the city's own, tokens and the audit.
        [
            // Properties no field takes, as a JSON object in text (QGIS and GDAL show it as a string column).
            "ALTER TABLE communities ADD COLUMN extra_properties TEXT",
            "ALTER TABLE grids ADD COLUMN extra_properties TEXT",
            "ALTER TABLE buildings ADD COLUMN extra_properties TEXT",
            "ALTER TABLE resources ADD COLUMN extra_properties TEXT",
            "ALTER TABLE roads ADD COLUMN extra_properties TEXT",
            // The catalogue: a defined layer's definition (fields, title, tile properties), or a built-in
            // layer's settings, as JSON.
            """
            CREATE TABLE geogrid_layers (
                name TEXT PRIMARY KEY,
                definition TEXT NOT NULL,
                created TEXT NOT NULL)
            """,
            // Bearer tokens: only a SHA-256 of each is kept.
            """
            CREATE TABLE geogrid_tokens (
                id INTEGER PRIMARY KEY,
                name TEXT,
                role TEXT NOT NULL CHECK (role IN ('viewer', 'dispatcher', 'planner', 'admin')),
                scopes TEXT NOT NULL DEFAULT '[]',
                hash TEXT NOT NULL UNIQUE,
                created TEXT NOT NULL,
                expires TEXT,
                revoked TEXT)
            """,
            // Every write, with the feature before and after as GeoJSON; rows are never changed or removed.
            """
            CREATE TABLE geogrid_audit (
                id INTEGER PRIMARY KEY,
                time TEXT NOT NULL,
                token_id INTEGER,
                token_name TEXT,
                collection TEXT NOT NULL,
                feature_id INTEGER,
                operation TEXT NOT NULL,
                before TEXT,
                after TEXT)
            """,
            "CREATE INDEX geogrid_audit_feature ON geogrid_audit (collection, feature_id)",
            """
            CREATE TRIGGER geogrid_audit_append_only_update BEFORE UPDATE ON geogrid_audit
            BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END
            """,
            """
            CREATE TRIGGER geogrid_audit_append_only_delete BEFORE DELETE ON geogrid_audit
            BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END
            """,
        ],
    ]

    static var latestVersion: Int { migrations.count }
}
