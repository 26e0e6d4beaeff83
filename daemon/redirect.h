/* Absolute Symlinks: a walk that meets one hands it back to the client */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * A pool keeps every walk inside its top, but a kernel filesystem resolves
 * an absolute symlink from the process's root: a venv's bin/python3 ->
 * /usr/bin/python3 names the host's python. Where the client asked for it
 * (DN_REQ_REDIRECT) a backend's walk that is to follow such a link stops
 * and answers the path to resolve instead; the client resolves that as
 * any path of its own (the host's, or back into a mount), so the pool
 * never follows a link out of its top itself.
 */

/* A private answer of the backends, never an errno: the walk stopped at an absolute link. */
#define DN_EREDIRECT 4000

/* Per request (the worker's thread): may this request's walk stop at an absolute link? */
void dn_redirect_allow(bool allowed);
bool dn_redirect_allowed(void);

/*
 * The walk met target (absolute) with rest ("" or "/..." as written) after
 * the link: -DN_EREDIRECT, the new path kept for dn_redirect_path; or
 * -ENAMETOOLONG.
 */
int dn_redirect_to(const char *target, const char *rest);

/* Adds what a walk of a directory leaves out (its last component) to the path; 0 or -ENAMETOOLONG. */
int dn_redirect_append(const char *suffix);

/* The path the last dn_redirect_to of this thread made, and its length. */
const char *dn_redirect_path(size_t *len);
