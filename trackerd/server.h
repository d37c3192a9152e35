/* Worker threads: each owns an event_base with its own HTTP listeners and
 * UDP sockets, all bound with SO_REUSEPORT to the configured addresses so
 * the kernel spreads connections and datagrams over the threads. */
#ifndef TRACKERD_SERVER_H
#define TRACKERD_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "tconfig.h"
#include "tracker.h"

struct event_base;
struct http_server;
struct stats_block;
struct udp_worker;

struct worker {
	unsigned index;
	pthread_t thread;
	bool started;
	struct event_base *base;
	struct tracker *tr;
	struct stats_block *stats;
	struct http_server *http;
	int *http_fds;           /* listening sockets, owned until the server takes them */
	int metrics_fd;          /* worker 0 with metrics_listen: that socket, served
	                          * for /metrics only, until the server takes it; -1 */
	size_t n_http;
	struct udp_worker *udp;
	struct event *reload_ev; /* activated by the main thread after SIGHUP */
	struct sta_buf out;      /* reply scratch, reused */
	struct tracker_peer *peers; /* numwant_max (upper bound) entries */
};

struct server {
	struct worker *workers;
	unsigned n_workers;
};

/* Binds every listener for every worker. Errors are logged with a hint;
 * returns false (nothing left open) on any failure. */
bool server_open(struct server *srv, const struct tconfig *c, struct tracker *tr);
/* Starts the threads. */
bool server_start(struct server *srv);
/* Asks every worker loop to exit and joins the threads. */
void server_stop(struct server *srv);
/* Tells each worker to re-read the live settings it caches (its HTTP
 * server's body limit), on its own thread. */
void server_reload(struct server *srv);
void server_close(struct server *srv);

/* http.c */
bool http_worker_init(struct worker *w);
/* Applies live settings to the worker's HTTP server; worker thread only. */
void http_worker_reload(struct worker *w);
void http_worker_free(struct worker *w);
/* udp.c */
bool udp_worker_init(struct worker *w, const int *fds, const int *families, size_t n);
void udp_worker_free(struct worker *w);

#endif
