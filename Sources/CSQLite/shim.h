#ifndef GEOGRID_CSQLITE_SHIM_H
#define GEOGRID_CSQLITE_SHIM_H
// spatialite.h uses `sqlite3 *` without including sqlite3.h, so the order matters.
#include <sqlite3.h>
#include <spatialite/gaiageo.h>
#include <spatialite.h>

// SQLITE_TRANSIENT is a macro casting -1 to a destructor pointer; Swift cannot import it.
static inline sqlite3_destructor_type geogrid_sqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
