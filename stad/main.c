/* stad: options, startup, signals, reload and shutdown. */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_server.h"
#include "log.h"
#include "notify.h"
#include "sconfig.h"
#include "session.h"
#include "strnum.h"
#include "xmalloc.h"

#define STOP_TIMEOUT_MS 3000
#define OPT_NO_DHT 256 /* long only */

struct options {
	const char *config;             /* NULL: the default file if it exists */
	int port;                       /* 0: from the file */
	const char *listen, *tracker, *state_dir, *share_dir, *download_dir, *socket;
	int workers;                    /* -1: from the file */
	bool no_dht;
	const char *log_level;
	bool check_only;
};

struct daemon {
	struct options opt;
	struct sconfig cfg;
	struct event_base *base;
	struct session s;
	bool session_up;
	struct ctl_server *ctl;
	struct event *sig_term, *sig_int, *sig_hup, *watchdog;
	bool stopping;
};

static void usage(FILE *fp)
{
	fprintf(fp,
	        "usage: stad [--config FILE] [--port N] [--listen ADDR] [--tracker URL]\n"
	        "            [--state-dir DIR] [--share-dir DIR] [--download-dir DIR]\n"
	        "            [--socket PATH] [--workers N] [--no-dht] [--log-level LEVEL]\n"
	        "            [--check-config] [--help] [--version]\n"
	        "\n"
	        "  -c, --config FILE        configuration file (default %s)\n"
	        "  -p, --port N             peer listen port\n"
	        "  -a, --listen ADDR        peer listen address\n"
	        "  -t, --tracker URL        tracker announce URL (also serves the catalog)\n"
	        "  -d, --state-dir DIR      torrents and resume data\n"
	        "  -s, --share-dir DIR      everything in it is shared\n"
	        "  -D, --download-dir DIR   where downloads go\n"
	        "  -S, --socket PATH        control socket\n"
	        "  -w, --workers N          worker threads (0 = one per core)\n"
	        "      --no-dht             no DHT node (dht.enabled = false)\n"
	        "  -l, --log-level LEVEL    err, warning, notice, info or debug\n"
	        "  -n, --check-config       check the configuration and exit\n"
	        "  -h, --help               show this help\n"
	        "  -V, --version            show the version\n",
	        SCONFIG_DEFAULT_FILE);
}

static bool parse_int(const char *opt, const char *arg, int64_t min, int64_t max, int *out)
{
	int64_t v;

	if (!strnum_i64(arg, min, max, &v)) {
		fprintf(stderr, "stad: %s must be %lld to %lld (got \"%s\")\n", opt, (long long)min,
		        (long long)max, arg);
		return false;
	}
	*out = (int)v;
	return true;
}

/* Returns 0 to run, or an exit status + 1 (1 = exit 0, 2 = exit 1). */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'a' },
		{ "tracker", required_argument, NULL, 't' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "share-dir", required_argument, NULL, 's' },
		{ "download-dir", required_argument, NULL, 'D' },
		{ "socket", required_argument, NULL, 'S' },
		{ "workers", required_argument, NULL, 'w' },
		{ "no-dht", no_argument, NULL, OPT_NO_DHT },
		{ "log-level", required_argument, NULL, 'l' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->workers = -1;
	while ((ch = getopt_long(argc, argv, "c:p:a:t:d:s:D:S:w:l:nhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'a': o->listen = optarg; break;
		case 't': o->tracker = optarg; break;
		case 'd': o->state_dir = optarg; break;
		case 's': o->share_dir = optarg; break;
		case 'D': o->download_dir = optarg; break;
		case 'S': o->socket = optarg; break;
		case 'l': o->log_level = optarg; break;
		case 'n': o->check_only = true; break;
		case OPT_NO_DHT: o->no_dht = true; break;
		case 'h': usage(stdout); return 1;
		case 'V': printf("stad %s\n", STA_VERSION); return 1;
		case 'p':
			if (!parse_int("--port", optarg, 1, 65535, &o->port))
				return 2;
			break;
		case 'w':
			if (!parse_int("--workers", optarg, 0, SCONFIG_MAX_WORKERS, &o->workers))
				return 2;
			break;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stad: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return 0;
}

static void override(char **field, const char *value)
{
	if (value)
		config_set_str(field, value);
}

/* Defaults, then the file, then the command line; false after logging. */
static bool load_config(const struct options *o, struct sconfig *c)
{
	char err[CONFIG_ERR_MAX];
	const char *file = o->config;

	sconfig_defaults(c);
	if (file == NULL && access(SCONFIG_DEFAULT_FILE, F_OK) == 0)
		file = SCONFIG_DEFAULT_FILE;
	if (file && !sconfig_load(c, file, err)) {
		log_err("%s", err);
		return false;
	}
	if (o->port)
		c->listen_port = o->port;
	if (o->workers >= 0)
		c->workers = o->workers;
	if (o->no_dht)
		c->dht_enabled = false;
	override(&c->listen_address, o->listen);
	override(&c->tracker, o->tracker);
	override(&c->state_dir, o->state_dir);
	override(&c->share_dir, o->share_dir);
	override(&c->download_dir, o->download_dir);
	override(&c->control_socket, o->socket);
	override(&c->log_level, o->log_level);
	if (log_level_from_name(c->log_level) < 0) {
		log_err("unknown log level \"%s\": use err, warning, notice, info or debug",
		        c->log_level);
		return false;
	}
	if (!sconfig_check(c, err)) {
		log_err("%s%s%s", file ? file : "", file ? ": " : "", err);
		return false;
	}
	sconfig_warn(c);
	return true;
}

/* ---- runtime ---- */

static void reload(struct daemon *d)
{
	struct sconfig c;

	notify_reloading();
	log_info("reloading configuration");
	if (!load_config(&d->opt, &c)) {
		log_err("configuration not reloaded: keeping the running one");
		sconfig_free(&c);
	} else {
		if (c.listen_port != d->cfg.listen_port || strcmp(c.state_dir, d->cfg.state_dir) ||
		    strcmp(c.listen_address, d->cfg.listen_address) ||
		    strcmp(c.control_socket, d->cfg.control_socket) || c.workers != d->cfg.workers)
			log_warn("listen address, port, state_dir, control_socket or workers "
			         "changed: restart stad to apply them");
		/* Restart-only settings keep their running values. */
		c.listen_port = d->cfg.listen_port;
		c.workers = d->cfg.workers;
		config_set_str(&c.listen_address, d->cfg.listen_address);
		config_set_str(&c.state_dir, d->cfg.state_dir);
		config_set_str(&c.control_socket, d->cfg.control_socket);
		log_set_level(log_level_from_name(c.log_level));
		sconfig_free(&d->cfg);
		d->cfg = c;
		session_reload(&d->s, &d->cfg);
		log_info("configuration reloaded");
	}
	notify_ready();
}

static void stopped(void *arg)
{
	struct daemon *d = arg;

	event_base_loopexit(d->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	if (d->stopping) {
		event_base_loopbreak(d->base); /* a second signal: stop waiting */
		return;
	}
	d->stopping = true;
	log_info("%s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_stopping();
	session_close(&d->s, stopped, d);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	notify_watchdog();
}

static bool add_event(struct event **ev, struct event_base *base, int fd, short what,
                      event_callback_fn cb, void *arg, const struct timeval *tv)
{
	*ev = event_new(base, fd, what, cb, arg);
	return *ev && event_add(*ev, tv) == 0;
}

static bool setup_events(struct daemon *d)
{
	uint64_t wd = notify_watchdog_usec();
	struct timeval wdtv = { (time_t)(wd / 2 / 1000000), (suseconds_t)(wd / 2 % 1000000) };

	if (!add_event(&d->sig_term, d->base, SIGTERM, EV_SIGNAL | EV_PERSIST, on_signal, d, NULL) ||
	    !add_event(&d->sig_int, d->base, SIGINT, EV_SIGNAL | EV_PERSIST, on_signal, d, NULL) ||
	    !add_event(&d->sig_hup, d->base, SIGHUP, EV_SIGNAL | EV_PERSIST, on_signal, d, NULL))
		return false;
	if (wd)
		return add_event(&d->watchdog, d->base, -1, EV_PERSIST, on_watchdog, d, &wdtv);
	return true;
}

static void free_events(struct daemon *d)
{
	struct event *evs[] = { d->sig_term, d->sig_int, d->sig_hup, d->watchdog };

	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_free(evs[i]);
}

static int run(struct daemon *d)
{
	char line[160];

	signal(SIGPIPE, SIG_IGN);
	d->base = event_base_new();
	if (d->base == NULL || !setup_events(d))
		return 1;
	d->session_up = session_init(&d->s, d->base, &d->cfg);
	if (!d->session_up)
		return 1;
	d->ctl = ctl_server_new(&d->s, d->cfg.control_socket);
	if (d->ctl == NULL)
		return 1;
	session_load(&d->s);
	log_info("stad %s ready: peers on %s port %u, control socket %s, %u torrents",
	         STA_VERSION, d->cfg.listen_address, d->s.port, d->cfg.control_socket,
	         d->s.n_torrents);
	notify_ready();
	session_summary(&d->s, line, sizeof line);
	notify_status("%s", line);
	event_base_dispatch(d->base);
	log_info("stopped");
	return 0;
}

static void cleanup(struct daemon *d)
{
	ctl_server_free(d->ctl);
	if (d->session_up || d->s.base)
		session_fini(&d->s);
	free_events(d);
	if (d->base)
		event_base_free(d->base);
	sconfig_free(&d->cfg);
	libevent_global_shutdown();
}

int main(int argc, char **argv)
{
	struct daemon d;
	int rc;

	memset(&d, 0, sizeof d);
	log_init("stad");
	rc = parse_args(argc, argv, &d.opt);
	if (rc == 0 && !load_config(&d.opt, &d.cfg))
		rc = 2;
	else if (rc == 0 && d.opt.check_only) {
		printf("configuration OK\n");
		rc = 1;
	}
	if (rc != 0) {
		sconfig_free(&d.cfg);
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
