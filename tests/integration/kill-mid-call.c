/* Kill Mid-Call: children of one session killed at any point of their calls leave the session served */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

static int round_no;

static void hung(int sig)
{
	(void)sig;
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "round %d: statfs unanswered for 10 s\n", round_no);
	if (write(2, msg, (size_t)n) < 0)
		_exit(3);
	_exit(1);
}

/*
 * Usage: kill-mid-call DIR ROUNDS. Each round forks two children that call
 * stat and statfs on DIR without end (through the parent's session), kills
 * them after 0-2 ms, then calls statfs itself, which must be answered: a
 * child killed between taking a queue slot and filling it must not hold up
 * the requests behind the slot (stress-ng kills its children so).
 */
int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s DIR ROUNDS\n", argv[0]);
		return 2;
	}
	const char *dir = argv[1];
	int rounds = atoi(argv[2]);
	struct statfs sf;
	if (statfs(dir, &sf) < 0) { /* the session starts here: the children share it */
		perror("statfs");
		return 2;
	}
	signal(SIGALRM, hung);
	srand((unsigned)getpid());
	for (round_no = 0; round_no < rounds; round_no++) {
		pid_t kids[2];
		for (int k = 0; k < 2; k++) {
			kids[k] = fork();
			if (kids[k] < 0) {
				perror("fork");
				return 2;
			}
			if (kids[k] == 0) {
				struct stat st;
				struct statfs s;
				for (;;) {
					stat(dir, &st);
					statfs(dir, &s);
				}
			}
		}
		struct timespec ts = {0, (rand() % 2000) * 1000L};
		nanosleep(&ts, NULL);
		for (int k = 0; k < 2; k++)
			kill(kids[k], SIGKILL);
		for (int k = 0; k < 2; k++)
			waitpid(kids[k], NULL, 0);
		alarm(10);
		if (statfs(dir, &sf) < 0) {
			perror("statfs");
			return 1;
		}
		alarm(0);
	}
	printf("%d rounds: every statfs answered\n", rounds);
	return 0;
}
