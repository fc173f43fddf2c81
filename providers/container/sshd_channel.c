/* SPDX-License-Identifier: MIT */
/*
 * One session channel of den's SSH server (sshd-internal.h): its command
 * runs the image's /bin/sh as root, its input comes from the channel's
 * data callback, its output goes out from the event loop's callbacks, and
 * its end sends the exit status as OpenSSH's sshd does.
 */
#include "providers/container/sshd-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utmp.h>

/* libssh 0.10 marks the server-side SFTP and message API deprecated (sshd.c says why). */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define CHUNK 32768
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Writes all of buf to fd (non-blocking: waits while the command does not read). */
static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { fd, POLLOUT, 0 };
			poll(&p, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		buf += w, n -= (size_t)w;
	}
	return 0;
}

/* Input from the client, to the command; SFTP's, and what comes before a command, wait. */
static int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *ud)
{
	struct sshd_chan *c = ud;

	(void)s, (void)ch, (void)is_stderr;
	if (c->sftp != NULL || c->pid == 0)
		return 0; /* left in the channel's buffer */
	if (c->in_fd >= 0 && write_all(c->in_fd, data, len) < 0 && !c->pty) {
		close(c->in_fd);
		c->in_fd = -1;
	}
	return (int)len;
}

static void on_eof(ssh_session s, ssh_channel ch, void *ud)
{
	struct sshd_chan *c = ud;

	(void)s, (void)ch;
	/* A pty has no end of input but ^D, which the client sends as data. */
	if (c->sftp == NULL && !c->pty && c->in_fd >= 0) {
		close(c->in_fd);
		c->in_fd = -1;
	}
}

static void on_close(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s, (void)ch;
	((struct sshd_chan *)ud)->client_closed = true;
}

static int on_window_change(ssh_session s, ssh_channel ch, int w, int h, int pw, int ph, void *ud)
{
	struct sshd_chan *c = ud;

	(void)s, (void)ch;
	c->ws = (struct winsize){ (unsigned short)h, (unsigned short)w, (unsigned short)pw,
				  (unsigned short)ph };
	if (c->pty && c->out_fd >= 0)
		ioctl(c->out_fd, TIOCSWINSZ, &c->ws);
	return 0;
}

struct sshd_chan *sshd_chan_new(struct sshd_conn *conn, ssh_channel ch)
{
	struct sshd_chan *c;
	size_t i = 0;

	while (i < SSHD_MAX_CHANNELS && conn->chans[i] != NULL)
		i++;
	if (i == SSHD_MAX_CHANNELS || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->conn = conn;
	c->ch = ch;
	c->in_fd = c->out_fd = c->err_fd = -1;
	c->cb.userdata = c;
	c->cb.channel_data_function = on_data;
	c->cb.channel_eof_function = on_eof;
	c->cb.channel_close_function = on_close;
	c->cb.channel_pty_window_change_function = on_window_change;
	ssh_callbacks_init(&c->cb);
	ssh_set_channel_callbacks(ch, &c->cb);
	conn->chans[i] = c;
	return c;
}

/* The command's output, to the channel; its end is noted, and closed by sshd_chan_step. */
static int on_output(socket_t fd, int revents, void *ud)
{
	struct sshd_chan *c = ud;
	bool is_err = fd == c->err_fd && !c->pty;
	char buf[CHUNK];
	ssize_t n;

	if ((is_err ? c->err_eof : c->out_eof) || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0 && !c->client_closed) {
		if (is_err)
			ssh_channel_write_stderr(c->ch, buf, (uint32_t)n);
		else
			ssh_channel_write(c->ch, buf, (uint32_t)n);
		return 0;
	}
	/* The end (EIO: a pty whose last holder let go), or a channel no one reads. */
	if (n <= 0) {
		if (is_err)
			c->err_eof = true;
		else
			c->out_eof = true;
	}
	return 0;
}

/* The command's environment: den's defaults, the image's Env, what the client sent. */
static void build_env(const struct sshd_chan *c, char **env, size_t max, char *term, size_t tn)
{
	const struct ctr_sshd *d = c->conn->d;
	size_t n = 0;

	env[n++] = DEFAULT_PATH;
	env[n++] = "HOME=/root";
	env[n++] = "USER=root";
	env[n++] = "LOGNAME=root";
	env[n++] = "SHELL=/bin/sh";
	if (c->pty) {
		snprintf(term, tn, "TERM=%s", c->term[0] ? c->term : "xterm");
		env[n++] = term;
	}
	for (size_t i = 0; d->env[i] != NULL && n + 1 < max; i++)
		env[n++] = (char *)d->env[i];
	for (size_t i = 0; i < c->n_env && n + 1 < max; i++)
		env[n++] = c->env[i];
	env[n] = NULL;
}

/* The child: the image's /bin/sh, on the pty or the pipes, as the image's root. */
static __attribute__((noreturn)) void run_child(const struct sshd_chan *c, const char *cmd,
						int slave, const int in[2], const int out[2],
						const int errp[2])
{
	char *env[CTR_SSHD_MAX_ENV + SSHD_CLIENT_ENV_MAX + 16], term[80];
	const char *wd = c->conn->d->workdir;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	if (c->pty) {
		if (login_tty(slave) < 0)
			_exit(126);
	} else {
		setsid();
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(errp[1], 2) < 0)
			_exit(126);
	}
	/* Nothing of den's but 0, 1 and 2 goes on: not the connection, not other channels'. */
	closefrom(3);
	build_env(c, env, sizeof(env) / sizeof(*env), term, sizeof(term));
	if ((wd == NULL || chdir(wd) < 0) && chdir("/root") < 0 && chdir("/") < 0)
		_exit(126);
	if (cmd != NULL) {
		char *const argv[] = { "sh", "-c", (char *)cmd, NULL };
		execve("/bin/sh", argv, env);
	} else {
		char *const argv[] = { "-sh", NULL };
		execve("/bin/sh", argv, env);
	}
	fprintf(stderr, "den: cannot run /bin/sh in this machine: %s\n", strerror(errno));
	_exit(127);
}

void sshd_chan_start(struct sshd_chan *c, const char *cmd)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, master = -1, slave = -1;
	bool ok = c->pty ? openpty(&master, &slave, NULL, NULL, &c->ws) == 0
			 : pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 &&
				   pipe2(errp, O_CLOEXEC) == 0;
	pid_t pid = ok ? fork() : -1;

	if (pid == 0)
		run_child(c, cmd, slave, in, out, errp);
	if (pid < 0) {
		int fds[] = { in[0], in[1], out[0], out[1], errp[0], errp[1], master, slave };
		for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++)
			if (fds[i] >= 0)
				close(fds[i]);
		c->pid = -1;
		c->exited = true;
		c->status = 127 << 8;
		c->out_eof = c->err_eof = true;
		return;
	}
	c->pid = pid;
	if (c->pty) {
		close(slave);
		fcntl(master, F_SETFD, FD_CLOEXEC);
		c->in_fd = c->out_fd = master;
		c->err_eof = true;
	} else {
		close(in[0]), close(out[1]), close(errp[1]);
		c->in_fd = in[1], c->out_fd = out[0], c->err_fd = errp[0];
		fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
		ssh_event_add_fd(c->conn->ev, c->err_fd, POLLIN, on_output, c);
	}
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
	ssh_event_add_fd(c->conn->ev, c->out_fd, POLLIN, on_output, c);
	/* Input that came with the request, before the callback could take it. */
	char buf[CHUNK];
	int n;
	while (c->in_fd >= 0 && (n = ssh_channel_read_nonblocking(c->ch, buf, sizeof(buf), 0)) > 0)
		write_all(c->in_fd, buf, (size_t)n);
}

/* The exit status as SSH says it: a code, or the signal's name. */
static void send_status(ssh_channel ch, int status)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = { { SIGHUP, "HUP" },   { SIGINT, "INT" },	{ SIGKILL, "KILL" },
		      { SIGPIPE, "PIPE" }, { SIGTERM, "TERM" }, { SIGSEGV, "SEGV" },
		      { SIGABRT, "ABRT" }, { SIGQUIT, "QUIT" }, { SIGUSR1, "USR1" } };

	if (WIFSIGNALED(status)) {
		for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
			if (names[i].sig == WTERMSIG(status)) {
				ssh_channel_request_send_exit_signal(ch, names[i].name, 0, "", "");
				return;
			}
	}
	ssh_channel_request_send_exit_status(ch, WIFSIGNALED(status) ? 128 + WTERMSIG(status)
								     : WEXITSTATUS(status));
}

static void close_fd(struct sshd_chan *c, int *fd)
{
	int f = *fd;

	if (f < 0)
		return;
	ssh_event_remove_fd(c->conn->ev, f);
	close(f);
	/* A pty's master is all three. */
	if (c->in_fd == f)
		c->in_fd = -1;
	if (c->out_fd == f)
		c->out_fd = -1;
	if (c->err_fd == f)
		c->err_fd = -1;
}

/* SFTP requests that have arrived, answered; the channel done when the client is. */
static void step_sftp(struct sshd_chan *c)
{
	while (!c->done && ssh_channel_poll(c->ch, 0) > 0) {
		sftp_client_message m;
		if (!c->sftp_ready) {
			c->sftp_ready = sftp_server_init(c->sftp) == 0;
			if (!c->sftp_ready)
				c->done = true;
			continue;
		}
		m = sftp_get_client_message(c->sftp);
		if (m == NULL) {
			c->done = true;
			break;
		}
		ctr_sftp_handle(c->sftp, m);
		sftp_client_message_free(m);
	}
	if (c->client_closed || ssh_channel_is_eof(c->ch) || ssh_channel_is_closed(c->ch))
		c->done = true;
}

void sshd_chan_step(struct sshd_chan *c)
{
	if (c->sftp != NULL) {
		step_sftp(c);
		return;
	}
	if (c->pid == 0) {
		c->done = c->client_closed;
		return;
	}
	if (!c->exited && c->pid > 0 && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
		c->exited = true;
	if (c->client_closed && !c->exited) {
		kill(-c->pid, SIGHUP);
		kill(c->pid, SIGHUP);
		return;
	}
	/* A pty's last holder may be a daemon the command started: the command's end counts. */
	if (c->pty && c->exited && !c->out_eof && c->out_fd >= 0) {
		char buf[CHUNK];
		ssize_t n;
		while ((n = read(c->out_fd, buf, sizeof(buf))) > 0 && !c->client_closed)
			ssh_channel_write(c->ch, buf, (uint32_t)n);
		c->out_eof = true;
	}
	if (c->out_eof)
		close_fd(c, &c->out_fd);
	if (c->err_eof && !c->pty)
		close_fd(c, &c->err_fd);
	if (!c->exited || c->out_fd >= 0 || c->err_fd >= 0)
		return;
	if (!c->client_closed && !ssh_channel_is_closed(c->ch)) {
		send_status(c->ch, c->status);
		ssh_channel_send_eof(c->ch);
	}
	c->done = true;
}

void sshd_chan_free(struct sshd_chan *c)
{
	if (c->pid > 0 && !c->exited) {
		kill(-c->pid, SIGHUP);
		kill(c->pid, SIGHUP);
	}
	close_fd(c, &c->out_fd);
	close_fd(c, &c->err_fd);
	close_fd(c, &c->in_fd);
	if (c->sftp != NULL)
		sftp_server_free(c->sftp);
	/* libssh keeps a channel freed before the client closed it: it must not call back here. */
	ssh_remove_channel_callbacks(c->ch, &c->cb);
	if (!ssh_channel_is_closed(c->ch))
		ssh_channel_close(c->ch);
	ssh_channel_free(c->ch);
	for (size_t i = 0; i < c->n_env; i++)
		free(c->env[i]);
	for (size_t i = 0; i < SSHD_MAX_CHANNELS; i++)
		if (c->conn->chans[i] == c)
			c->conn->chans[i] = NULL;
	free(c);
}
