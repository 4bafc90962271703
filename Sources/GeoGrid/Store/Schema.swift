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
        // 3: cases and their workflow (issue 10).
        [
            // Grid workers get a role of their own: the CHECK is rebuilt with the table (SQLite cannot alter it).
            """
            CREATE TABLE geogrid_tokens_v3 (
                id INTEGER PRIMARY KEY,
                name TEXT,
                role TEXT NOT NULL CHECK (role IN ('viewer', 'grid_worker', 'dispatcher', 'planner', 'admin')),
                scopes TEXT NOT NULL DEFAULT '[]',
                hash TEXT NOT NULL UNIQUE,
                created TEXT NOT NULL,
                expires TEXT,
                revoked TEXT)
            """,
            "INSERT INTO geogrid_tokens_v3 SELECT id, name, role, scopes, hash, created, expires, revoked FROM geogrid_tokens",
            "DROP TABLE geogrid_tokens",
            "ALTER TABLE geogrid_tokens_v3 RENAME TO geogrid_tokens",
            """
            CREATE TABLE incidents (
                id INTEGER PRIMARY KEY,
                case_number TEXT NOT NULL UNIQUE,
                category TEXT NOT NULL,
                subcategory TEXT,
                priority TEXT,
                kind TEXT CHECK (kind IN ('immediate', 'promised')),
                promised_date DATE,
                title TEXT,
                description TEXT,
                channel TEXT,
                reporter_name TEXT,
                reporter_contact TEXT,
                building_id INTEGER,
                floor INTEGER,
                location_detail TEXT,
                owner TEXT,
                grid_code TEXT,
                community_code TEXT,
                street_code TEXT,
                district_code TEXT,
                stage TEXT NOT NULL,
                open BOOLEAN NOT NULL DEFAULT 1,
                department TEXT,
                department_level TEXT,
                assignee TEXT,
                co_departments TEXT,
                light TEXT,
                yellow_at TIMESTAMP,
                red_at TIMESTAMP,
                overdue BOOLEAN NOT NULL DEFAULT 0,
                reporter_answered BOOLEAN,
                no_answer_reason TEXT,
                satisfaction INTEGER CHECK (satisfaction BETWEEN 1 AND 5),
                reported_at TIMESTAMP,
                registered_at TIMESTAMP,
                dispatched_at TIMESTAMP,
                accepted_at TIMESTAMP,
                handling_at TIMESTAMP,
                handled_at TIMESTAMP,
                closed_at TIMESTAMP,
                evaluated_at TIMESTAMP,
                stage_since TIMESTAMP,
                updated_at TIMESTAMP,
                extra_properties TEXT)
            """,
            "SELECT AddGeometryColumn('incidents', 'geom', 4326, 'POINT', 'XY', 1)",
            "SELECT CreateSpatialIndex('incidents', 'geom')",
            "CREATE INDEX incidents_reported ON incidents (reported_at)",
            "CREATE INDEX incidents_grid ON incidents (grid_code)",
            "CREATE INDEX incidents_department ON incidents (department)",
            // What the light scheduler asks: the open cases whose next limit comes first.
            "CREATE INDEX incidents_yellow ON incidents (yellow_at) WHERE open AND light = 'green'",
            "CREATE INDEX incidents_red ON incidents (red_at) WHERE open AND light IN ('green', 'yellow')",
            // Every transition of every case, never rewritten.
            """
            CREATE TABLE geogrid_incident_history (
                id INTEGER PRIMARY KEY,
                incident_id INTEGER NOT NULL,
                time TEXT NOT NULL,
                token_id INTEGER,
                token_name TEXT,
                action TEXT NOT NULL,
                from_stage TEXT,
                to_stage TEXT NOT NULL,
                department TEXT,
                note TEXT,
                late BOOLEAN NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX geogrid_incident_history_case ON geogrid_incident_history (incident_id, id)",
            "CREATE INDEX geogrid_incident_history_time ON geogrid_incident_history (time)",
            """
            CREATE TRIGGER geogrid_incident_history_append_only_update BEFORE UPDATE ON geogrid_incident_history
            BEGIN SELECT RAISE(ABORT, 'a case history is append-only'); END
            """,
            """
            CREATE TRIGGER geogrid_incident_history_append_only_delete BEFORE DELETE ON geogrid_incident_history
            BEGIN SELECT RAISE(ABORT, 'a case history is append-only'); END
            """,
            // The situation package of each case, as made at creation or last recomputed.
            """
            CREATE TABLE geogrid_incident_situations (
                incident_id INTEGER PRIMARY KEY,
                computed_at TEXT NOT NULL,
                situation TEXT NOT NULL)
            """,
            // Live events (created, transitioned, light_changed, reassigned, moved), kept so that SSE clients
            // resume from Last-Event-ID after a disconnect or a restart.
            """
            CREATE TABLE geogrid_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time TEXT NOT NULL,
                kind TEXT NOT NULL,
                incident_id INTEGER,
                data TEXT NOT NULL)
            """,
            // Catalogues, workflow, deadlines and calendar, one JSON document each, replaceable per city.
            """
            CREATE TABLE geogrid_config (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated TEXT NOT NULL)
            """,
            // The last case number given out per year.
            "CREATE TABLE geogrid_case_numbers (year INTEGER PRIMARY KEY, last INTEGER NOT NULL)",
        ],
        // 4: boundary plans (issue 11). A grid's code is unique among the grids not yet closed, no longer among all
        // rows: a redrawn grid keeps its code in a new row and its old row keeps its dates. SQLite cannot drop
        // a UNIQUE, so the table is rebuilt (ids, columns and geometries kept; SpatiaLite's metadata, triggers
        // and R*Tree made anew).
        [
            "CREATE TABLE geogrid_grids_v3 AS SELECT * FROM grids",
            "SELECT DropTable(NULL, 'grids')",
            """
            CREATE TABLE grids (
                id INTEGER PRIMARY KEY,
                code TEXT NOT NULL,
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
            "ALTER TABLE grids ADD COLUMN extra_properties TEXT",
            """
            INSERT INTO grids (id, code, name, community_code, worker_name, worker_phone, households, population, valid_from, valid_to,
                extra_properties, geom)
            SELECT id, code, name, community_code, worker_name, worker_phone, households, population, valid_from, valid_to, extra_properties, geom
            FROM geogrid_grids_v3
            """,
            "DROP TABLE geogrid_grids_v3",
            "CREATE INDEX grids_community ON grids (community_code)",
            "CREATE UNIQUE INDEX grids_open_code ON grids (code) WHERE valid_to IS NULL",
            "CREATE INDEX grids_code ON grids (code, valid_from)",
            // A plan: proposed grids for some communities, checked and previewed, then applied once (or rolled
            // back by a later plan); `record` keeps what its apply changed, so that a rollback restores exactly it.
            """
            CREATE TABLE geogrid_plans (
                id INTEGER PRIMARY KEY,
                title TEXT,
                status TEXT NOT NULL CHECK (status IN ('draft', 'applied', 'rolled_back')),
                communities TEXT NOT NULL,
                created TEXT NOT NULL,
                created_by TEXT,
                updated TEXT NOT NULL,
                effective TEXT,
                applied_at TEXT,
                applied_by TEXT,
                in_force INTEGER NOT NULL DEFAULT 0,
                rollback_of INTEGER REFERENCES geogrid_plans (id),
                rolled_back_by INTEGER REFERENCES geogrid_plans (id),
                record TEXT)
            """,
            // The plan's grids: a geometry table, so that QGIS can show and edit a proposal in the file.
            """
            CREATE TABLE geogrid_plan_grids (
                id INTEGER PRIMARY KEY,
                plan_id INTEGER NOT NULL REFERENCES geogrid_plans (id),
                code TEXT,
                action TEXT NOT NULL CHECK (action IN ('add', 'change', 'retire')),
                name TEXT,
                worker_name TEXT,
                worker_phone TEXT,
                households INTEGER,
                population INTEGER,
                extra_properties TEXT,
                UNIQUE (plan_id, code))
            """,
            "SELECT AddGeometryColumn('geogrid_plan_grids', 'geom', 4326, 'MULTIPOLYGON', 'XY', 0)",
            "CREATE INDEX geogrid_plan_grids_plan ON geogrid_plan_grids (plan_id)",
        ],
    ]

    static var latestVersion: Int { migrations.count }
}
