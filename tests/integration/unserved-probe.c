/* A statically linked program (the library cannot reach it) looks at a mountpoint:
 * unserved-probe DIR prints DIR's entries, the first line of DIR/DANAUS-NOT-SERVED,
 * and what creating DIR/new.txt answers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: unserved-probe DIR\n");
		return 2;
	}
	DIR *d = opendir(argv[1]);
	if (!d) {
		printf("opendir: %s\n", strerror(errno));
		return 1;
	}
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			printf("entry: %s\n", e->d_name);
	closedir(d);
	char path[4096], line[256] = "";
	snprintf(path, sizeof(path), "%s/DANAUS-NOT-SERVED", argv[1]);
	FILE *f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f))
		printf("note: %s", line);
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/new.txt", argv[1]);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	printf("create: %s\n", fd < 0 ? strerror(errno) : "done");
	return 0;
}
