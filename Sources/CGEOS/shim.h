#ifndef GEOGRID_CGEOS_SHIM_H
#define GEOGRID_CGEOS_SHIM_H
// Only the re-entrant (_r) API: every call takes the context of the thread that owns it.
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>
#endif
