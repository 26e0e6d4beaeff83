/* Config Fuzzer: arbitrary bytes as a pool's ini text, then the cross-key checks */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A finding libFuzzer reports with the input and a stack, like a crash. */
#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz-config: %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* 0, or a negative errno with a message that fits err and names the file ("FILE:LINE: why"). */
static void check_result(int r, const char *err, size_t errlen)
{
	check(r == 0 || (r < 0 && r > -4096));
	if (r < 0) {
		check(memchr(err, '\0', errlen) != NULL);
		check(strncmp(err, "fuzz.ini", strlen("fuzz.ini")) == 0);
	}
}

/* An absolute path as parse_path() promises it: no "//", no trailing '/', no "." or "..". */
static void check_path(const char *p)
{
	check(p && p[0] == '/');
	check(!strstr(p, "//") && !strstr(p, "/./") && !strstr(p, "/../"));
	size_t n = strlen(p);
	check(n == 1 || p[n - 1] != '/');
	check(!(n >= 2 && strcmp(p + n - 2, "/.") == 0) && !(n >= 3 && strcmp(p + n - 3, "/..") == 0));
}

/* What config.h says of every field once a file was accepted. */
static void check_config(const struct dn_config *cfg)
{
	check(strcmp(cfg->backend, "local") == 0 || strcmp(cfg->backend, "ceph") == 0);
	check(cfg->workers >= 1 && cfg->workers <= 64);
	check(cfg->queues >= 1 && cfg->queues <= 64);
	check(cfg->poll_us <= 100000 && cfg->poll_max_us <= 100000);
	check(cfg->request_timeout >= 1 && cfg->request_timeout <= 3600);
	check_path(cfg->mountpoint);
	check(strcmp(cfg->mountpoint, "/") != 0);
	if (cfg->local_root)
		check_path(cfg->local_root);
	check_path(cfg->ceph_conf);
	check_path(cfg->ceph_root);
	if (cfg->ceph_keyring)
		check_path(cfg->ceph_keyring);
	check(cfg->ceph_mount_timeout >= 1 && cfg->ceph_mount_timeout <= 3600);
	check(cfg->cpu_quota_pct <= 100000);
	check(cfg->io_weight <= 10000);
	check(cfg->memory_max == 0 || cfg->memory_max >= 4096);
	check(cfg->memory_high == 0 || cfg->memory_high >= 4096);
	check(cfg->ceph_cache_size == 0 || cfg->ceph_cache_size >= 4096);
	check(cfg->n_users == 0 || cfg->users);
	check(cfg->n_groups == 0 || cfg->groups);
	if (cfg->cpus)
		check(strspn(cfg->cpus, "0123456789,-") == strlen(cfg->cpus));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The parser takes a C string: the text ends at the first NUL, as a file's would not. */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct dn_config *cfg = dn_config_new("fuzz");
	check(cfg);
	char err[DN_CONFIG_ERR_MAX] = "";
	int r = dn_config_parse_string(cfg, "fuzz.ini", text, err, sizeof(err));
	check_result(r, err, sizeof(err));
	if (r == 0) {
		r = dn_config_finish(cfg, "fuzz.ini", err, sizeof(err));
		check_result(r, err, sizeof(err));
		if (r == 0)
			check_config(cfg);
	}
	dn_config_free(cfg);
	free(text);
	return 0;
}
