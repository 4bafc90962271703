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
        ]
    ]

    static var latestVersion: Int { migrations.count }
}
