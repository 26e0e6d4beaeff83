/* CDI Claim: a pool started by hand holds its spec while it runs, and gives it back */
#include "cdi-claim.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "cdi-spec.h"
#include "unix-listener.h"

int dn_cdi_claim_begin(struct dn_cdi_claim *c, const char *dir, const char *name)
{
	*c = (struct dn_cdi_claim){.path = ""};
	if ((size_t)snprintf(c->name, sizeof(c->name), "%s", name) >= sizeof(c->name))
		return -ENAMETOOLONG;
	int r = dn_cdi_spec_path(dir, name, c->path, sizeof(c->path));
	if (r < 0) {
		c->path[0] = 0;
		return r;
	}
	r = dn_cdi_spec_load(c->path, &c->previous);
	return r == -ENOENT ? 0 : r;
}

int dn_cdi_claim_hold(struct dn_cdi_claim *c)
{
	struct stat st;
	if (!c->path[0] || lstat(c->path, &st) < 0) {
		int r = c->path[0] ? -errno : -EINVAL;
		c->path[0] = 0;
		return r;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	return 0;
}

/*
 * Whether the spec TEXT names a socket, not OURS, that someone still listens
 * on (systemd's). A socket file is not enough: a pool killed by SIGKILL
 * leaves its file, and putting back its spec would send containers to it.
 */
static bool still_served(const char *text, const char *name, const char *ours)
{
	char sock[PATH_MAX];
	struct stat st;
	return dn_cdi_spec_socket(text, name, sock, sizeof(sock)) == 0 && strcmp(sock, ours) != 0 &&
	       stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) && dn_unix_listener_exists(sock);
}

void dn_cdi_claim_end(struct dn_cdi_claim *c, const char *our_socket)
{
	struct stat st;
	if (c->path[0] && lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino) {
		if (c->previous && still_served(c->previous, c->name, our_socket))
			dn_file_replace(c->path, c->previous, strlen(c->previous), 0644);
		else
			unlink(c->path);
	}
	free(c->previous);
	c->previous = NULL;
	c->path[0] = 0;
}
