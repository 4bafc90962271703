#ifndef GEOGRID_CPROJ_SHIM_H
#define GEOGRID_CPROJ_SHIM_H
#include <proj.h>
#endif
