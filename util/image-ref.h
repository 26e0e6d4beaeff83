/* Image References: NAME[:TAG] as the image store and the union name images */
#pragma once

#include <stddef.h>

#define DN_IMAGE_REF_MAX 256

/* NAME:TAG ("latest" when REF has no tag) into OUT; -EINVAL for a bad name. */
int dn_image_ref(const char *ref, char *out, size_t len);
