/* spawn module of libdanaus.so */
#include "client.h"
