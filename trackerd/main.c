/* trackerd: options, startup, signals, reload and shutdown. */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "catalog.h"
#include "log.h"
#include "notify.h"
#include "server.h"
#include "stats.h"
#include "strnum.h"
#include "tconfig.h"
#include "tracker.h"
#include "xmalloc.h"

#define TICK_SECS 1
#define STATUS_EVERY 5                       /* ticks between STATUS= updates */
#define SWEEP_CYCLE_MAX 60                   /* seconds for a pass over all shards */

struct options {
	const char *config;                     /* NULL: default file if it exists */
	struct config_strlist http, udp;        /* replace the file's lists when given */
	const char *state_dir;
	int threads;                            /* -1: from the file */
	const char *log_level;
	bool check_only;
};

struct daemon {
	struct options opt;
	struct tconfig cfg;
	struct tracker tr;
	struct server srv;
	struct event_base *base;
	struct event *sig_term, *sig_int, *sig_hup, *tick, *watchdog;
	unsigned ticks;
	unsigned sweep_next;
};

static void usage(FILE *fp)
{
	fprintf(fp,
	        "usage: trackerd [--config FILE] [--http ADDR:PORT]... [--udp ADDR:PORT]...\n"
	        "                [--state-dir DIR] [--threads N] [--log-level LEVEL]\n"
	        "                [--check-config] [--help] [--version]\n"
	        "\n"
	        "  -c, --config FILE      configuration file (default %s)\n"
	        "  -H, --http ADDR:PORT   HTTP listen address, repeatable ([::]:6969 for IPv6)\n"
	        "  -U, --udp ADDR:PORT    UDP listen address, repeatable\n"
	        "  -d, --state-dir DIR    where the catalog is kept\n"
	        "  -t, --threads N        worker threads (0 = one per core)\n"
	        "  -l, --log-level LEVEL  err, warning, notice, info or debug\n"
	        "  -n, --check-config     check the configuration and exit\n"
	        "  -h, --help             show this help\n"
	        "  -V, --version          show the version\n",
	        TCONFIG_DEFAULT_FILE);
}

/* Returns 0 to run, or an exit status + 1 (1 = exit 0, 2 = exit 1). */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "http", required_argument, NULL, 'H' },
		{ "udp", required_argument, NULL, 'U' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	int64_t v;

	o->threads = -1;
	while ((ch = getopt_long(argc, argv, "c:H:U:d:t:l:nhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'H': config_strlist_add(&o->http, optarg); break;
		case 'U': config_strlist_add(&o->udp, optarg); break;
		case 'd': o->state_dir = optarg; break;
		case 'l': o->log_level = optarg; break;
		case 'n': o->check_only = true; break;
		case 'h': usage(stdout); return 1;
		case 'V': printf("trackerd %s\n", STA_VERSION); return 1;
		case 't':
			if (!strnum_i64(optarg, 0, TCONFIG_MAX_THREADS, &v)) {
				fprintf(stderr, "trackerd: --threads must be 0 to %d (got \"%s\")\n",
				        TCONFIG_MAX_THREADS, optarg);
				return 2;
			}
			o->threads = (int)v;
			break;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "trackerd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return 0;
}

static void override_list(struct config_strlist *dst, const struct config_strlist *src)
{
	if (src->n == 0)
		return;
	config_strlist_free(dst);
	for (size_t i = 0; i < src->n; i++)
		config_strlist_add(dst, src->v[i]);
}

/* Defaults, then the file, then the command line; false after printing
 * the problem. */
static bool load_config(const struct options *o, struct tconfig *c)
{
	char err[CONFIG_ERR_MAX];
	const char *file = o->config;

	tconfig_defaults(c);
	if (file == NULL && access(TCONFIG_DEFAULT_FILE, F_OK) == 0)
		file = TCONFIG_DEFAULT_FILE;
	if (file && !tconfig_load(c, file, err)) {
		log_err("%s", err);
		return false;
	}
	override_list(&c->http_listen, &o->http);
	override_list(&c->udp_listen, &o->udp);
	if (o->state_dir)
		config_set_str(&c->state_dir, o->state_dir);
	if (o->threads >= 0)
		c->threads = o->threads;
	if (o->log_level)
		config_set_str(&c->log_level, o->log_level);
	if (log_level_from_name(c->log_level) < 0) {
		log_err("unknown log level \"%s\": use err, warning, notice, info or debug",
		        c->log_level);
		return false;
	}
	if (!tconfig_check(c, err)) {
		log_err("%s%s%s", file ? file : "", file ? ": " : "", err);
		return false;
	}
	return true;
}

static unsigned thread_count(int configured)
{
	long n = configured > 0 ? configured : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > TCONFIG_MAX_THREADS ? TCONFIG_MAX_THREADS : (unsigned)n;
}

static bool load_access(struct tracker *tr, const struct tconfig *c)
{
	return access_load(tr->access, (enum access_mode)access_mode_from_name(c->access_mode),
	                   c->access_file);
}

/* ---- runtime ---- */

static void status_update(struct daemon *d)
{
	struct swarm_totals t;
	double rate = stats_rate(d->tr.stats, STAT_HTTP_ANNOUNCE) +
	              stats_rate(d->tr.stats, STAT_UDP_ANNOUNCE);

	swarm_totals(d->tr.swarms, &t);
	notify_status("%llu swarms, %llu peers, %.0f announces/s", (unsigned long long)t.swarms,
	              (unsigned long long)(t.seeders + t.leechers), rate);
}

/* A slice of the table per tick, sized so a whole pass takes a quarter of
 * peer_timeout (at most a minute): peers outlive it by at most that much. */
static void sweep_slice(struct daemon *d)
{
	unsigned timeout = atomic_load(&d->tr.live.peer_timeout);
	unsigned cycle = timeout / 4 < SWEEP_CYCLE_MAX ? timeout / 4 : SWEEP_CYCLE_MAX;
	unsigned slice = cycle ? (SWARM_SHARDS + cycle - 1) / cycle : SWARM_SHARDS;
	size_t dropped = swarm_sweep(d->tr.swarms, tracker_now(), timeout, d->sweep_next, slice);

	if (dropped)
		log_debug("expired %zu peers", dropped);
	d->sweep_next = (d->sweep_next + slice) % SWARM_SHARDS;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	stats_tick(d->tr.stats);
	sweep_slice(d);
	catalog_tick(d->tr.catalog, d->tr.swarms);
	if (++d->ticks % STATUS_EVERY == 0)
		status_update(d);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	notify_watchdog();
}

static bool lists_equal(const struct config_strlist *a, const struct config_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static void warn_restart_needed(const struct tconfig *old, const struct tconfig *new)
{
	if (!lists_equal(&old->http_listen, &new->http_listen) ||
	    !lists_equal(&old->udp_listen, &new->udp_listen) || old->threads != new->threads ||
	    strcmp(old->state_dir, new->state_dir) != 0)
		log_warn("listen addresses, threads or state_dir changed: restart trackerd to "
		         "apply them (kept the running values)");
}

/* Moves the settings that need a restart from the running config into
 * next, so the running values stay in force (and in later comparisons). */
static void keep_restart_settings(struct tconfig *running, struct tconfig *next)
{
	struct config_strlist hl = next->http_listen, ul = next->udp_listen;
	char *sd = next->state_dir;

	next->http_listen = running->http_listen;
	next->udp_listen = running->udp_listen;
	next->state_dir = running->state_dir;
	next->threads = running->threads;
	running->http_listen = hl;
	running->udp_listen = ul;
	running->state_dir = sd;
}

static void reload(struct daemon *d)
{
	struct tconfig c;

	notify_reloading();
	log_info("reloading configuration");
	if (!load_config(&d->opt, &c)) {
		log_err("configuration not reloaded: keeping the running one");
		tconfig_free(&c);
	} else if (!load_access(&d->tr, &c)) {
		log_err("access list not reloaded: keeping the running configuration");
		tconfig_free(&c);
	} else {
		warn_restart_needed(&d->cfg, &c);
		keep_restart_settings(&d->cfg, &c);
		log_set_level(log_level_from_name(c.log_level));
		tracker_apply(&d->tr, &c);
		server_reload(&d->srv);
		tconfig_free(&d->cfg);
		d->cfg = c;
		log_info("configuration reloaded");
	}
	notify_ready();
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	log_info("%s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_stopping();
	event_base_loopexit(d->base, NULL);
}

static bool add_event(struct event **ev, struct event_base *base, int fd, short what,
                      event_callback_fn cb, void *arg, const struct timeval *tv)
{
	*ev = event_new(base, fd, what, cb, arg);
	return *ev && event_add(*ev, tv) == 0;
}

static bool setup_events(struct daemon *d)
{
	struct timeval tick = { TICK_SECS, 0 };
	uint64_t wd = notify_watchdog_usec();
	struct timeval wdtv = { (time_t)(wd / 2 / 1000000), (suseconds_t)(wd / 2 % 1000000) };

	if (!add_event(&d->sig_term, d->base, SIGTERM, EV_SIGNAL | EV_PERSIST, on_signal, d, NULL) ||
	    !add_event(&d->sig_int, d->base, SIGINT, EV_SIGNAL | EV_PERSIST, on_signal, d, NULL) ||
	    !add_event(&d->sig_hup, d->base, SIGHUP, EV_SIGNAL | EV_PERSIST, on_signal, d, NULL) ||
	    !add_event(&d->tick, d->base, -1, EV_PERSIST, on_tick, d, &tick))
		return false;
	if (wd)
		return add_event(&d->watchdog, d->base, -1, EV_PERSIST, on_watchdog, d, &wdtv);
	return true;
}

static void free_events(struct daemon *d)
{
	struct event *evs[] = { d->sig_term, d->sig_int, d->sig_hup, d->tick, d->watchdog };

	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_free(evs[i]);
}

/* ---- startup and shutdown ---- */

static bool open_state(struct daemon *d)
{
	char *dir = xasprintf("%s/catalog", d->cfg.state_dir);

	d->tr.n_workers = thread_count(d->cfg.threads);
	d->tr.stats = stats_new(d->tr.n_workers);
	d->tr.access = access_new();
	d->tr.catalog = catalog_open(dir, d->tr.n_workers);
	free(dir);
	if (d->tr.catalog == NULL) {
		log_err("fix the permissions of %s or choose another directory with --state-dir",
		        d->cfg.state_dir);
		return false;
	}
	catalog_set_expiry(d->tr.catalog, (uint32_t)d->cfg.catalog_expire);
	return load_access(&d->tr, &d->cfg);
}

static int run(struct daemon *d)
{
	if (!tracker_init(&d->tr, &d->cfg)) {
		log_err("getrandom: %s", strerror(errno));
		return 1;
	}
	if (!open_state(d) || !server_open(&d->srv, &d->cfg, &d->tr))
		return 1;
	d->base = event_base_new();
	if (d->base == NULL || !setup_events(d) || !server_start(&d->srv))
		return 1;
	log_info("trackerd %s ready: %u threads, state in %s", STA_VERSION, d->tr.n_workers,
	         d->cfg.state_dir);
	notify_ready();
	status_update(d);
	event_base_dispatch(d->base);
	server_stop(&d->srv);
	log_info("stopped");
	return 0;
}

static void cleanup(struct daemon *d)
{
	server_stop(&d->srv);
	server_close(&d->srv);
	free_events(d);
	if (d->base)
		event_base_free(d->base);
	catalog_free(d->tr.catalog);
	access_free(d->tr.access);
	stats_free(d->tr.stats);
	if (d->tr.swarms)
		tracker_fini(&d->tr);
	tconfig_free(&d->cfg);
	config_strlist_free(&d->opt.http);
	config_strlist_free(&d->opt.udp);
	libevent_global_shutdown();
}

int main(int argc, char **argv)
{
	struct daemon d;
	int rc;

	memset(&d, 0, sizeof d);
	log_init("trackerd");
	rc = parse_args(argc, argv, &d.opt);
	if (rc == 0 && !load_config(&d.opt, &d.cfg))
		rc = 2;
	else if (rc == 0 && d.opt.check_only) {
		printf("configuration OK\n");
		rc = 1;
	}
	if (rc != 0) {
		tconfig_free(&d.cfg);
		config_strlist_free(&d.opt.http);
		config_strlist_free(&d.opt.udp);
		return rc - 1;
	}
	log_set_level(log_level_from_name(d.cfg.log_level));
	if (evthread_use_pthreads() < 0) {
		log_err("libevent without thread support");
		return 1;
	}
	rc = run(&d);
	cleanup(&d);
	return rc;
}
