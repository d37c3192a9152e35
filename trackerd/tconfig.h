/* trackerd's settings: the schema for common/config.h, defaults, command-line
 * overrides and the checks that span several settings. */
#ifndef TRACKERD_TCONFIG_H
#define TRACKERD_TCONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

#define TCONFIG_DEFAULT_FILE "/etc/sta/trackerd.conf"
#define TCONFIG_MAX_THREADS 256
#define TCONFIG_MAX_LISTEN 16
#define TCONFIG_NUMWANT_LIMIT 1000

struct tconfig {
	struct config_strlist http_listen;
	struct config_strlist udp_listen;
	char *metrics_listen;       /* "" = /metrics on the HTTP listeners */
	int threads;
	char *state_dir;
	int announce_interval;
	int min_interval;
	int peer_timeout;
	int numwant_max;
	int max_swarms;
	int max_peers_per_swarm;
	int64_t max_torrent_size;
	int64_t max_batch_size;
	int catalog_expire;
	char *publish_token;
	char *access_mode;
	char *access_file;
	char *log_level;
	bool trust_ip_param;
};

void tconfig_defaults(struct tconfig *c);
/* Loads path over c; false with a "FILE:LINE: ..." message in err. */
bool tconfig_load(struct tconfig *c, const char *path, char err[CONFIG_ERR_MAX]);
/* Checks that span settings (min_interval <= announce_interval, an access
 * file when access_mode is not off, parseable listen addresses). */
bool tconfig_check(const struct tconfig *c, char err[CONFIG_ERR_MAX]);
void tconfig_free(struct tconfig *c);

/* Parses "A.B.C.D:PORT" or "[V6]:PORT" (port 0 allowed: the kernel picks). */
bool tconfig_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif
