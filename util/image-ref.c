/* Image References: one spelling of a name, so a lookup finds what an import stored */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "image-ref.h"

int dn_image_ref(const char *ref, char *out, size_t len)
{
	size_t n = strlen(ref);
	if (n == 0 || n >= DN_IMAGE_REF_MAX || strspn(ref, "abcdefghijklmnopqrstuvwxyz"
						 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@-") != n ||
	    ref[0] == '/' || ref[0] == '.' || ref[0] == ':' || strstr(ref, ".."))
		return -EINVAL;
	/* a tag is what follows the last ':' that comes after the last '/' */
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(ref, ':');
	bool tagged = colon && (!slash || colon > slash) && colon[1];
	if (colon && !colon[1])
		return -EINVAL;
	if ((size_t)snprintf(out, len, "%s%s", ref, tagged ? "" : ":latest") >= len)
		return -ENAMETOOLONG;
	return 0;
}

int dn_image_user_name(const char *upper, char *out, size_t len)
{
	size_t n = strlen(upper);
	if (n + 1 > len || n > 255)
		return -ENAMETOOLONG;
	for (size_t i = 0; i <= n; i++)
		out[i] = upper[i] == '/' ? '%' : upper[i];
	return 0;
}
