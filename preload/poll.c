/* poll module of libdanaus.so */
#include "client.h"
