# Shared by the benchmarks that compare with PostGIS (source it): Debian's PostGIS installed when missing, and a
# private cluster in a work folder listening on a Unix socket only, stopped by pg_stop.

pg_install() {
  if ! dpkg-query -W -f='${Status}' postgresql-15-postgis-3 2>/dev/null | grep -q "install ok installed"; then
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3 >/dev/null
  fi
}

# pg_start WORK [extra server options]: a new cluster in WORK/pg.
pg_start() {
  mkdir "$1/pg" && chown postgres "$1/pg"
  su postgres -c "/usr/lib/postgresql/15/bin/initdb -D $1/pg -A trust" >/dev/null
  su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $1/pg -l $1/pg/log -o \"-k $1/pg -c listen_addresses='' ${2:-}\" -w start" >/dev/null
}

pg_stop() {
  if [ -f "$1/pg/postmaster.pid" ]; then su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $1/pg -m fast stop" >/dev/null 2>&1 || true; fi
}

# pg_load_buildings WORK FILE: the NDJSON buildings into table buildings (COPY to jsonb, INSERT … ST_GeomFromGeoJSON),
# then a GiST index.
pg_sql() { su postgres -c "psql -h $PG_WORK/pg -q -v ON_ERROR_STOP=1 -d postgres -c \"$1\"" >/dev/null; }
pg_load_buildings() {
  PG_WORK="$1"
  pg_sql "CREATE EXTENSION IF NOT EXISTS postgis; CREATE UNLOGGED TABLE staging (doc jsonb); CREATE TABLE buildings (id bigserial PRIMARY KEY, name text, floors int, households int, population int, grid_code text, geom geometry(MultiPolygon, 4326));"
  pg_sql "COPY staging (doc) FROM '$2'"
  pg_sql "INSERT INTO buildings (name, floors, households, population, geom) SELECT doc->'properties'->>'name', (doc->'properties'->>'floors')::int, (doc->'properties'->>'households')::int, (doc->'properties'->>'population')::int, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(doc->'geometry'), 4326)) FROM staging"
  pg_sql "CREATE INDEX buildings_geom ON buildings USING gist (geom)"
}
