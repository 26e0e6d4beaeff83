/* Image References: NAME[:TAG] as the image store and the union name images */
#pragma once

#include <stddef.h>

#define DN_IMAGE_REF_MAX 256

/* NAME:TAG ("latest" when REF has no tag) into OUT; -EINVAL for a bad name. */
int dn_image_ref(const char *ref, char *out, size_t len);

/*
 * A store's users/ directory holds one file per writable layer that a union
 * stacks on an image: its name is the layer's path with '/' as '%', its
 * text the image's NAME:TAG and a newline. danaus-image rm refuses an image
 * such a file names; removing the writable layer (or the file) frees it.
 */
#define DN_IMAGE_USERS "users"
/* The record's file name for writable layer upper, into out; -ENAMETOOLONG. */
int dn_image_user_name(const char *upper, char *out, size_t len);
