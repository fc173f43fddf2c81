/* SPDX-License-Identifier: MIT */
/*
 * Wall time of a command, median of N runs: fork, exec, wait, with output
 * sent to /dev/null. Prints figures; never passes or fails on time.
 *	bench_startup N LABEL CMD [ARGS...]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench_startup N LABEL CMD [ARGS...]\n");
		return 2;
	}
	int n = atoi(argv[1]);
	if (n < 1 || n > 100000) {
		fprintf(stderr, "bench_startup: N must be 1..100000\n");
		return 2;
	}
	double *t = calloc((size_t)n, sizeof(*t));
	if (t == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		double start = now_ms();
		pid_t pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(fd, 2);
			execvp(argv[3], argv + 3);
			_exit(127);
		}
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) < 0) {
			perror("bench_startup");
			return 1;
		}
		t[i] = now_ms() - start;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench_startup: %s exited with %d\n", argv[3],
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return 1;
		}
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%-34s median %7.3f ms   min %7.3f ms   p90 %7.3f ms   (%d runs)\n", argv[2],
	       t[n / 2], t[0], t[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1], n);
	free(t);
	return 0;
}
