/* MDS Cap Count: the MDS's count of cap messages from clients, read over its admin socket */
#pragma once

#include <stdint.h>

/*
 * The MDS's handle_client_caps counter (perf dump, logger "mds") read from
 * the admin socket at asok: >= 0, or a negative errno (-EPROTO: an answer
 * without the counter).
 */
int64_t mds_caps_read(const char *asok);
