/* fts-walk: glibc's fts_* walks of a directory, printed with the directory shown as "@" */
#include <errno.h>
#include <fts.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Run on a kernel directory without the library and on a pool directory
 * under danaus-run (libc-calls.sh): the outputs must be equal. Children are
 * sorted by name, so readdir's order does not matter.
 */

static const char *top;

static void show(const char *what, const char *s)
{
	size_t n = strlen(top);
	if (s && strncmp(s, top, n) == 0)
		printf(" %s=@%s", what, s + n);
	else
		printf(" %s=%s", what, s ? s : "(null)");
}

static void entry(const FTSENT *e, int options)
{
	printf("  %d lvl=%d name=%s", e->fts_info, e->fts_level, e->fts_name);
	show("path", e->fts_path);
	if (options & (FTS_NOCHDIR | FTS_LOGICAL)) /* glibc's own is name-relative otherwise */
		show("acc", e->fts_accpath);
	/* fts_pathlen counts the directory's own path: shown without it */
	size_t n = strlen(top);
	printf(" plen=%d", (int)e->fts_pathlen - (strncmp(e->fts_path, top, n) == 0 ? (int)n : 0));
	if (e->fts_info == FTS_NS || e->fts_info == FTS_DNR || e->fts_info == FTS_ERR)
		printf(" err=%s", strerrorname_np(e->fts_errno));
	else if (e->fts_info != FTS_NSOK && e->fts_info != FTS_DP && !(options & FTS_NOSTAT))
		/* glibc gives no stat buffer with FTS_NOSTAT */
		printf(" mode=%o size=%lld", e->fts_statp->st_mode,
		       S_ISDIR(e->fts_statp->st_mode) ? 0 : (long long)e->fts_statp->st_size);
	if (e->fts_info == FTS_DC)
		printf(" cycle=%s", e->fts_cycle->fts_name);
	printf("\n");
}

static int by_name(const FTSENT **a, const FTSENT **b)
{
	return strcmp((*a)->fts_name, (*b)->fts_name);
}

static void walk(const char *title, char *const *roots, int options, int skip_sub, int children)
{
	printf("%s options=%#x\n", title, options);
	FTS *f = fts_open(roots, options, by_name);
	if (!f) {
		printf("  fts_open: %s\n", strerrorname_np(errno));
		return;
	}
	FTSENT *e;
	while ((errno = 0, e = fts_read(f))) {
		entry(e, options);
		if (children && e->fts_info == FTS_D) {
			for (FTSENT *c = fts_children(f, children == 2 ? FTS_NAMEONLY : 0); c;
			     c = c->fts_link) {
				printf("   child");
				entry(c, options);
			}
			printf("   children end: %s\n", strerrorname_np(errno));
		}
		if (skip_sub && e->fts_info == FTS_D && strcmp(e->fts_name, "sub") == 0)
			fts_set(f, e, FTS_SKIP);
		if (e->fts_info == FTS_SL && strcmp(e->fts_name, "dirlink") == 0)
			fts_set(f, e, FTS_FOLLOW);
	}
	printf("  end: %s\n", errno ? strerrorname_np(errno) : "0");
	printf("  close: %d\n", fts_close(f));
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	top = argv[1];
	char t[4096], missing[4096], file[4096], rel[] = "t";
	snprintf(t, sizeof(t), "%s/t", top);
	snprintf(missing, sizeof(missing), "%s/missing", top);
	snprintf(file, sizeof(file), "%s/t/top", top);
	char *one[] = {t, NULL}, *several[] = {file, missing, t, NULL}, *relative[] = {rel, NULL};
	char *empty[] = {"", NULL};
	walk("physical", one, FTS_PHYSICAL, 0, 0);
	walk("physical nochdir seedot", one, FTS_PHYSICAL | FTS_NOCHDIR | FTS_SEEDOT, 0, 0);
	walk("logical", one, FTS_LOGICAL, 0, 0);
	walk("comfollow skip follow", one, FTS_PHYSICAL | FTS_COMFOLLOW, 1, 0);
	walk("nostat", one, FTS_PHYSICAL | FTS_NOSTAT | FTS_NOCHDIR, 0, 0);
	walk("children", one, FTS_PHYSICAL | FTS_NOCHDIR, 0, 1);
	walk("children nameonly", one, FTS_PHYSICAL | FTS_NOCHDIR, 0, 2);
	walk("several roots", several, FTS_PHYSICAL | FTS_NOCHDIR, 0, 0);
	walk("bad options", one, 0x1000, 0, 0);
	walk("empty root", empty, FTS_PHYSICAL, 0, 0);
	if (chdir(top) == 0)
		walk("relative", relative, FTS_PHYSICAL | FTS_NOCHDIR, 0, 0);
	printf("done\n");
	return 0;
}
