#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "stats.h"
#include "xmalloc.h"

#define LISTEN_BACKLOG 1024
/* Seconds the kernel holds a connection that has sent nothing yet. */
#define DEFER_ACCEPT_SECS 5

struct listen_spec {
	const char *text;    /* as configured, for messages */
	const char *flag;    /* the option that changes it */
	int type;            /* SOCK_STREAM or SOCK_DGRAM */
};

static void addr_format(const struct sockaddr_storage *ss, char *out, size_t outsz)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
		snprintf(out, outsz, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
		snprintf(out, outsz, "%s:%u", host, ntohs(a->sin_port));
	}
}

static int socket_new(const struct sockaddr_storage *ss, int type, bool reuseport)
{
	int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	if ((type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)) ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)) ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one))) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void bind_error(const struct listen_spec *spec)
{
	if (errno == EADDRINUSE)
		log_err("cannot bind %s: %s — is another trackerd running? choose another port "
		        "with %s", spec->text, strerror(errno), spec->flag);
	else if (errno == EACCES)
		log_err("cannot bind %s: %s — ports below 1024 need root or "
		        "CAP_NET_BIND_SERVICE; choose another port with %s", spec->text,
		        strerror(errno), spec->flag);
	else
		log_err("cannot bind %s: %s — check the address (is it configured on this "
		        "host?) or choose another with %s", spec->text, strerror(errno), spec->flag);
}

/* Binds a plain socket first: without SO_REUSEPORT it fails if anyone,
 * including another trackerd of ours, holds the port, and for port 0 it
 * learns the port the kernel picked, which the workers then share. */
static bool probe_addr(struct sockaddr_storage *ss, socklen_t len, const struct listen_spec *spec)
{
	int fd = socket_new(ss, spec->type, false);
	socklen_t got = len;

	if (fd < 0 || bind(fd, (struct sockaddr *)ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)ss, &got) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		bind_error(spec);
		return false;
	}
	close(fd);
	return true;
}

/* HTTP clients speak first: TCP_DEFER_ACCEPT hands us a connection once its
 * request is there, so the accept can read and answer it at once. */
static int listen_stream(int fd)
{
	int secs = DEFER_ACCEPT_SECS;

	if (listen(fd, LISTEN_BACKLOG) < 0)
		return -1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof secs) < 0)
		log_warn("TCP_DEFER_ACCEPT: %s (served without it)", strerror(errno));
	return 0;
}

static int open_worker_socket(const struct sockaddr_storage *ss, socklen_t len,
                              const struct listen_spec *spec)
{
	int fd = socket_new(ss, spec->type, true);

	if (fd < 0 || bind(fd, (const struct sockaddr *)ss, len) < 0 ||
	    (spec->type == SOCK_STREAM && listen_stream(fd) < 0)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		bind_error(spec);
		return -1;
	}
	return fd;
}

/* Opens one address on every worker; fds[w * stride + slot] gets each. */
static bool open_addr(struct server *srv, const struct listen_spec *spec, int *fds,
                      size_t stride, size_t slot, int *family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char shown[INET6_ADDRSTRLEN + 16];

	if (!tconfig_parse_addr(spec->text, &ss, &len) || !probe_addr(&ss, len, spec))
		return false;
	*family = ss.ss_family;
	for (unsigned w = 0; w < srv->n_workers; w++) {
		fds[w * stride + slot] = open_worker_socket(&ss, len, spec);
		if (fds[w * stride + slot] < 0)
			return false;
	}
	addr_format(&ss, shown, sizeof shown);
	log_info("listening on %s %s", spec->type == SOCK_STREAM ? "HTTP" : "UDP", shown);
	return true;
}

/* The metrics listener: one socket, served by worker 0. */
static bool open_metrics(struct server *srv, const char *text)
{
	struct listen_spec spec = { text, "metrics_listen", SOCK_STREAM };
	struct sockaddr_storage ss;
	socklen_t len;
	char shown[INET6_ADDRSTRLEN + 16];

	if (!tconfig_parse_addr(text, &ss, &len) || !probe_addr(&ss, len, &spec))
		return false;
	srv->workers[0].metrics_fd = open_worker_socket(&ss, len, &spec);
	addr_format(&ss, shown, sizeof shown);
	if (srv->workers[0].metrics_fd >= 0)
		log_info("serving /metrics on %s only", shown);
	return srv->workers[0].metrics_fd >= 0;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void fds_init(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
}

static void worker_reload_cb(evutil_socket_t fd, short what, void *arg)
{
	http_worker_reload(arg);
}

static bool worker_setup(struct worker *w, struct tracker *tr, unsigned i, const int *udp_fds,
                         const int *udp_fams, size_t n_udp)
{
	w->index = i;
	w->tr = tr;
	w->stats = stats_block(tr->stats, i);
	w->peers = xcalloc(TCONFIG_NUMWANT_LIMIT, sizeof *w->peers);
	w->base = event_base_new();
	/* udp_worker_init owns the UDP sockets even when it fails. */
	if (!udp_worker_init(w, udp_fds, udp_fams, n_udp))
		return false;
	w->reload_ev = event_new(w->base, -1, 0, worker_reload_cb, w);
	return w->reload_ev && http_worker_init(w);
}

bool server_open(struct server *srv, const struct tconfig *c, struct tracker *tr)
{
	size_t nh = c->http_listen.n, nu = c->udp_listen.n, nw;
	int *hfds, *ufds, *ufams = xcalloc(nu + 1, sizeof *ufams);
	bool ok = true;

	srv->n_workers = tr->n_workers;
	nw = srv->n_workers;
	srv->workers = xcalloc(nw, sizeof *srv->workers);
	for (unsigned w = 0; w < nw; w++)
		srv->workers[w].metrics_fd = -1;
	hfds = xcalloc(nw * nh + 1, sizeof *hfds);
	ufds = xcalloc(nw * nu + 1, sizeof *ufds);
	fds_init(hfds, nw * nh);
	fds_init(ufds, nw * nu);
	for (size_t a = 0; ok && a < nh; a++) {
		struct listen_spec spec = { c->http_listen.v[a], "--http", SOCK_STREAM };
		int fam;
		ok = open_addr(srv, &spec, hfds, nh, a, &fam);
	}
	for (size_t a = 0; ok && a < nu; a++) {
		struct listen_spec spec = { c->udp_listen.v[a], "--udp", SOCK_DGRAM };
		ok = open_addr(srv, &spec, ufds, nu, a, &ufams[a]);
	}
	if (ok && c->metrics_listen[0])
		ok = open_metrics(srv, c->metrics_listen);
	for (unsigned w = 0; ok && w < nw; w++) {
		struct worker *wk = &srv->workers[w];
		/* The worker owns its sockets from here, even if setup fails. */
		wk->http_fds = xmalloc((nh + 1) * sizeof *wk->http_fds);
		memcpy(wk->http_fds, hfds + w * nh, nh * sizeof *hfds);
		wk->n_http = nh;
		fds_init(hfds + w * nh, nh);
		ok = worker_setup(wk, tr, w, ufds + w * nu, ufams, nu);
		fds_init(ufds + w * nu, nu);
	}
	close_fds(hfds, nw * nh);
	close_fds(ufds, nw * nu);
	free(hfds);
	free(ufds);
	free(ufams);
	if (!ok)
		server_close(srv);
	return ok;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

bool server_start(struct server *srv)
{
	for (unsigned i = 0; i < srv->n_workers; i++) {
		struct worker *w = &srv->workers[i];
		int e = pthread_create(&w->thread, NULL, worker_main, w);
		if (e) {
			log_err("cannot start worker thread %u: %s", i, strerror(e));
			server_stop(srv);
			return false;
		}
		w->started = true;
	}
	return true;
}

void server_stop(struct server *srv)
{
	for (unsigned i = 0; i < srv->n_workers; i++)
		if (srv->workers[i].started)
			event_base_loopexit(srv->workers[i].base, NULL);
	for (unsigned i = 0; i < srv->n_workers; i++) {
		if (srv->workers[i].started)
			pthread_join(srv->workers[i].thread, NULL);
		srv->workers[i].started = false;
	}
}

void server_reload(struct server *srv)
{
	for (unsigned i = 0; i < srv->n_workers; i++)
		event_active(srv->workers[i].reload_ev, 0, 0);
}

void server_close(struct server *srv)
{
	for (unsigned i = 0; i < srv->n_workers; i++) {
		struct worker *w = &srv->workers[i];
		http_worker_free(w);
		udp_worker_free(w);
		if (w->reload_ev)
			event_free(w->reload_ev);
		if (w->base)
			event_base_free(w->base);
		free(w->peers);
		buf_free(&w->out);
	}
	free(srv->workers);
	srv->workers = NULL;
	srv->n_workers = 0;
}
