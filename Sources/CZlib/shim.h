#ifndef GEOGRID_CZLIB_SHIM_H
#define GEOGRID_CZLIB_SHIM_H
#include <zlib.h>
#endif
