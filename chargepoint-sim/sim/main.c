/* SPDX-License-Identifier: MIT */
/* cpsim: command line, worker processes (one per ~19,000 chargers), progress and the report. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "run.h"
#include "scenario.h"
#include "stats.h"

#define FD_RESERVE   600 /* descriptors kept for lws, pipes, files */
#define MSG_PROGRESS 1
#define MSG_FINAL    2

struct msg_head {
	uint32_t type;
	uint32_t len;
};

struct worker {
	pid_t pid;
	int fd; /* read end, -1 when done */
	uint32_t first, count;
	struct cpsim_progress p;
	bool final;
};

static volatile sig_atomic_t got_term;

/* The last resort if a run hangs (an lws close that never completes): SIGALRM ends it. */
static unsigned watchdog_s(const struct cpsim_scenario *sc)
{
	return (unsigned)(sc->duration_s + sc->drain_s) + 120;
}

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Raise the soft descriptor limit to the hard one; returns the limit in force. */
static rlim_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur;
}

/* ---------------------------------------------------------------- progress */

struct printer {
	bool tty;
	bool quiet;
	double last;
	double every;
};

static void print_progress(struct printer *pr, const struct cpsim_progress *p, double t, bool force)
{
	char line[256];

	if (pr->quiet || (!force && t - pr->last < pr->every - 1e-6))
		return;
	pr->last = t;
	cpsim_progress_format(p, t, line, sizeof(line));
	if (pr->tty)
		fprintf(stderr, "\r%-150s", line);
	else
		fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

static void inproc_progress(const struct cpsim_progress *p, double t, void *arg)
{
	print_progress(arg, p, t, false);
}

/* ---------------------------------------------------------------- pipes */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_msg(int fd, uint32_t type, const void *buf, size_t len)
{
	struct msg_head h = {type, (uint32_t)len};
	int r = write_all(fd, &h, sizeof(h));

	return r < 0 ? r : write_all(fd, buf, len);
}

static void worker_progress(const struct cpsim_progress *p, double t, void *arg)
{
	(void)t;
	send_msg(*(int *)arg, MSG_PROGRESS, p, sizeof(*p));
}

/* ---------------------------------------------------------------- workers */

static void merge_progress(const struct worker *w, unsigned n, struct cpsim_progress *ret)
{
	struct cpsim_progress t = {0};
	bool all = true;

	t.all_booted_s = -1;
	for (unsigned i = 0; i < n; i++) {
		t.chargers += w[i].count;
		t.started += w[i].p.started;
		t.open += w[i].p.open;
		t.booted += w[i].p.booted;
		t.in_session += w[i].p.in_session;
		t.errors += w[i].p.errors;
		t.answered += w[i].p.answered;
		if (w[i].p.all_booted_s < 0)
			all = false;
		else if (w[i].p.all_booted_s > t.all_booted_s)
			t.all_booted_s = w[i].p.all_booted_s;
	}
	if (!all)
		t.all_booted_s = -1;
	*ret = t;
}

static int run_workers(const struct cpsim_scenario *sc, uint32_t per, struct cpsim_stats *total,
		       struct printer *pr)
{
	unsigned n = (sc->total + per - 1) / per;
	struct worker *w = calloc(n, sizeof(*w));
	struct pollfd *pfd = calloc(n, sizeof(*pfd));
	struct cpsim_stats *st = malloc(sizeof(*st));
	int64_t wall0 = wall_ms();
	uint64_t t0 = uv_hrtime();
	double bound_s = sc->duration_s + sc->drain_s + 60;
	unsigned live = 0;
	int ret = 0;

	if (!w || !pfd || !st) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		int fds[2];

		w[i].first = i * per;
		w[i].count = i + 1 < n ? per : sc->total - i * per;
		w[i].fd = -1;
		w[i].p.all_booted_s = -1;
		if (pipe(fds) < 0) {
			ret = -errno;
			break;
		}
		fflush(NULL);
		w[i].pid = fork();
		if (w[i].pid < 0) {
			ret = -errno;
			close(fds[0]);
			close(fds[1]);
			break;
		}
		if (w[i].pid == 0) {
			/* the worker: its share of chargers, reports through the pipe */
			int fd = fds[1];
			struct cpsim_stats *mine = malloc(sizeof(*mine));
			int r;

			prctl(PR_SET_PDEATHSIG, SIGTERM);
			alarm(watchdog_s(sc)); /* alarms are not inherited across fork */
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			close(fds[0]);
			for (unsigned j = 0; j < i; j++)
				if (w[j].fd >= 0)
					close(w[j].fd);
			if (!mine)
				_exit(3);
			cpsim_stats_init(mine);
			r = cpsim_run_fleet(sc, w[i].first, w[i].count, mine, wall0, t0,
					    worker_progress, &fd);
			send_msg(fd, MSG_FINAL, mine, sizeof(*mine));
			_exit(r < 0 ? 3 : 0);
		}
		close(fds[1]);
		w[i].fd = fds[0];
		live++;
	}
	while (live) {
		double t = (double)(uv_hrtime() - t0) / 1e9;
		unsigned k = 0;
		struct cpsim_progress p;

		if (got_term == 1) {
			/* forward SIGTERM once; a terminal's Ctrl-C reached the workers already */
			got_term = 2;
			for (unsigned i = 0; i < n; i++)
				if (w[i].pid > 0 && !w[i].final)
					kill(w[i].pid, SIGTERM);
		}
		if (t > bound_s) {
			fprintf(stderr, "cpsim: workers overran %.0f s; killing them\n", bound_s);
			for (unsigned i = 0; i < n; i++)
				if (w[i].pid > 0 && !w[i].final)
					kill(w[i].pid, SIGKILL);
			break;
		}
		for (unsigned i = 0; i < n; i++) {
			if (w[i].fd < 0)
				continue;
			pfd[k].fd = w[i].fd;
			pfd[k].events = POLLIN;
			pfd[k].revents = 0;
			k++;
		}
		if (poll(pfd, k, 200) < 0 && errno != EINTR)
			break;
		for (unsigned j = 0; j < k; j++) {
			struct worker *x = NULL;
			struct msg_head h;

			if (!pfd[j].revents)
				continue;
			for (unsigned i = 0; i < n; i++)
				if (w[i].fd == pfd[j].fd)
					x = &w[i];
			if (read_all(x->fd, &h, sizeof(h)) < 0 ||
			    (h.type == MSG_PROGRESS &&
			     (h.len != sizeof(x->p) || read_all(x->fd, &x->p, sizeof(x->p)) < 0)) ||
			    (h.type == MSG_FINAL &&
			     (h.len != sizeof(*st) || read_all(x->fd, st, sizeof(*st)) < 0)) ||
			    (h.type != MSG_PROGRESS && h.type != MSG_FINAL)) {
				close(x->fd);
				x->fd = -1;
				live--;
				continue;
			}
			if (h.type == MSG_FINAL) {
				cpsim_stats_merge(total, st);
				x->final = true;
				close(x->fd);
				x->fd = -1;
				live--;
			}
		}
		merge_progress(w, n, &p);
		print_progress(pr, &p, (double)(uv_hrtime() - t0) / 1e9, false);
	}
	for (unsigned i = 0; i < n; i++) {
		int status;

		if (w[i].fd >= 0)
			close(w[i].fd);
		if (w[i].pid <= 0)
			continue;
		if (waitpid(w[i].pid, &status, 0) == w[i].pid && !w[i].final) {
			fprintf(stderr, "cpsim: worker %u (pid %d) ended without a report\n", i,
				(int)w[i].pid);
			ret = -ECHILD;
		}
	}
	if (total->elapsed_s < (double)(uv_hrtime() - t0) / 1e9 - 5)
		total->elapsed_s = (double)(uv_hrtime() - t0) / 1e9;
out:
	free(w);
	free(pfd);
	free(st);
	return ret;
}

/* ---------------------------------------------------------------- source addresses */

#define ADDR_BUSY 1000 /* sockets on an address (TIME_WAIT included) that make us skip it */
#define ADDR_SCAN 4096 /* addresses looked at: 127.0.0.2 .. 127.0.16.1 */

/*
** Choose the first run of addresses from 127.0.0.2 on that carry (almost) no sockets. A
** previous run leaves its connections in TIME_WAIT on the client side for a minute, and
** binding next to tens of thousands of them makes the kernel's port search crawl (a 19,000
** charger boot storm went from 7 s to over 25 s). Returns 0, or -errno.
*/
static int pick_source_base(struct cpsim_scenario *sc)
{
	uint16_t *count = calloc(ADDR_SCAN, sizeof(*count));
	unsigned need = (sc->total + sc->per_address - 1) / sc->per_address, run = 0, first = 0;
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[256];

	if (!count) {
		if (f)
			fclose(f);
		return -ENOMEM;
	}
	while (f && fgets(line, sizeof(line), f)) {
		unsigned sl, a, port;

		if (sscanf(line, " %u: %8X:%4X", &sl, &a, &port) != 3)
			continue;
		a = ntohl(a); /* /proc prints the address as the host-order number of the bytes */
		if ((a >> 24) == 127 && (a & 0xffffff) < ADDR_SCAN &&
		    count[a & 0xffffff] < UINT16_MAX)
			count[a & 0xffffff]++;
	}
	if (f)
		fclose(f);
	for (unsigned i = 2; i < ADDR_SCAN; i++) {
		if ((i & 255) == 0 || (i & 255) == 255 || count[i] >= ADDR_BUSY) {
			run = 0;
			continue;
		}
		if (!run)
			first = i;
		if (++run == need)
			break;
	}
	free(count);
	if (run < need)
		return -EADDRINUSE;
	snprintf(sc->source_base, sizeof(sc->source_base), "127.%u.%u.%u",
		 (unsigned char)(first >> 16), (unsigned char)(first >> 8), (unsigned char)first);
	return 0;
}

/* ---------------------------------------------------------------- main */

static bool is_loopback(const char *host)
{
	struct in_addr a;

	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int main(int argc, char **argv)
{
	struct cpsim_scenario sc;
	struct cpsim_stats *total = NULL;
	struct printer pr = {0};
	char err[512] = "";
	rlim_t nofile;
	uint32_t per;
	int r, status = 0;

	signal(SIGPIPE, SIG_IGN);
	nofile = raise_nofile();
	r = cpsim_scenario_from_args(&sc, argc, argv, err, sizeof(err));
	if (r == 1) {
		cpsim_scenario_free(&sc);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "cpsim: %s\n", err[0] ? err : strerror(-r));
		cpsim_scenario_free(&sc);
		return 2;
	}
	/* day patterns in the sites' local time; worker processes inherit it across fork */
	cpsim_site_set_utc_offset(sc.utc_offset_min);
	if (sc.emit_stations || sc.emit_config || sc.emit_ratings) {
		if (sc.emit_stations &&
		    (r = cpsim_scenario_emit_stations(&sc, sc.emit_stations)) < 0)
			fprintf(stderr, "cpsim: %s: %s\n", sc.emit_stations, strerror(-r));
		if (r >= 0 && sc.emit_config &&
		    (r = cpsim_scenario_emit_config(&sc, sc.emit_config)) < 0)
			fprintf(stderr, "cpsim: %s: %s\n", sc.emit_config, strerror(-r));
		if (r >= 0 && sc.emit_ratings &&
		    (r = cpsim_scenario_emit_ratings(&sc, sc.emit_ratings)) < 0)
			fprintf(stderr, "cpsim: %s: %s\n", sc.emit_ratings, strerror(-r));
		cpsim_scenario_free(&sc);
		return r < 0 ? 1 : 0;
	}
	if (!is_loopback(sc.host)) {
		/* this build is for load tests on one machine: loopback servers only */
		fprintf(stderr, "cpsim: --url host must be a 127.x.y.z address, got %s\n", sc.host);
		cpsim_scenario_free(&sc);
		return 2;
	}
	if (!sc.source_given && pick_source_base(&sc) < 0)
		fprintf(stderr, "cpsim: no free run of source addresses; using %s\n",
			sc.source_base);
	if (sc.verbose)
		fprintf(stderr, "cpsim: source addresses from %s, %u chargers each\n",
			sc.source_base, sc.per_address);
	per = sc.per_process;
	if (nofile < (rlim_t)per + FD_RESERVE)
		per = nofile > FD_RESERVE + 100 ? (uint32_t)(nofile - FD_RESERVE) : 100;
	total = malloc(sizeof(*total));
	if (!total) {
		cpsim_scenario_free(&sc);
		return 1;
	}
	cpsim_stats_init(total);
	pr.tty = isatty(STDERR_FILENO);
	pr.every = sc.progress_s > 0 ? sc.progress_s : pr.tty ? 1.0 : 10.0;
	pr.last = -1e9;
	if (sc.progress_s <= 0)
		sc.progress_s = pr.tty ? 1.0 : (pr.every < 1.0 ? pr.every : 1.0);
	alarm(watchdog_s(&sc) + 30);
	if (sc.total <= per) {
		struct cpsim_stats *one = malloc(sizeof(*one));

		if (!one) {
			status = 1;
			goto out;
		}
		cpsim_stats_init(one);
		r = cpsim_run_fleet(&sc, 0, sc.total, one, wall_ms(), uv_hrtime(), inproc_progress,
				    &pr);
		cpsim_stats_merge(total, one);
		free(one);
	} else {
		struct sigaction sa = {.sa_handler = on_term};

		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		/* a terminal's Ctrl-C reaches every worker, which drains and reports */
		signal(SIGINT, SIG_IGN);
		r = run_workers(&sc, per, total, &pr);
	}
	if (pr.tty && !pr.quiet)
		fputc('\n', stderr);
	if (r < 0) {
		fprintf(stderr, "cpsim: run failed: %s\n", strerror(-r));
		status = 1;
	}
	if (sc.json || sc.json_file) {
		json_t *j = cpsim_stats_json(total);

		if (j && sc.json_file && json_dump_file(j, sc.json_file, JSON_INDENT(1)) < 0) {
			fprintf(stderr, "cpsim: cannot write %s\n", sc.json_file);
			status = 1;
		}
		if (j && sc.json) {
			json_dumpf(j, stdout, JSON_INDENT(1));
			fputc('\n', stdout);
		}
		json_decref(j);
	}
	if (!sc.json)
		cpsim_stats_print(total, stdout);
	if (!total->conn_made && !status)
		status = 3; /* nothing could connect: make scripts notice */
out:
	free(total);
	cpsim_scenario_free(&sc);
	return status;
}
