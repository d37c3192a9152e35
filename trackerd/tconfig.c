#include "tconfig.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "strnum.h"

static const char *const access_modes[] = { "off", "allow", "deny", NULL };
static const char *const log_levels[] = { "err", "warning", "notice", "info", "debug", NULL };
static const char *const listen_default[] = { "0.0.0.0:6969", "[::]:6969", NULL };

#define F(name) .offset = offsetof(struct tconfig, name)
#define DAY (24 * 3600)

static const struct config_key tconfig_schema[] = {
	{ "http_listen", CONFIG_STRLIST, 0, TCONFIG_MAX_LISTEN, 0, NULL, listen_default, NULL,
	  F(http_listen) },
	{ "udp_listen", CONFIG_STRLIST, 0, TCONFIG_MAX_LISTEN, 0, NULL, listen_default, NULL,
	  F(udp_listen) },
	{ "metrics_listen", CONFIG_STRING, 0, 64, 0, "", NULL, NULL, F(metrics_listen) },
	{ "threads", CONFIG_INT, 0, TCONFIG_MAX_THREADS, 0, NULL, NULL, NULL, F(threads) },
	{ "state_dir", CONFIG_STRING, 1, 4000, 0, "/var/lib/sta-tracker", NULL, NULL,
	  F(state_dir) },
	{ "announce_interval", CONFIG_INT, 10, DAY, 1800, NULL, NULL, NULL, F(announce_interval) },
	{ "min_interval", CONFIG_INT, 1, DAY, 900, NULL, NULL, NULL, F(min_interval) },
	{ "peer_timeout", CONFIG_INT, 10, 2 * DAY, 2700, NULL, NULL, NULL, F(peer_timeout) },
	{ "numwant_max", CONFIG_INT, 0, TCONFIG_NUMWANT_LIMIT, 200, NULL, NULL, NULL, F(numwant_max) },
	{ "max_swarms", CONFIG_INT, 1, 100000000, 1000000, NULL, NULL, NULL, F(max_swarms) },
	{ "max_peers_per_swarm", CONFIG_INT, 1, 10000000, 100000, NULL, NULL, NULL,
	  F(max_peers_per_swarm) },
	{ "max_torrent_size", CONFIG_INT64, 1024, INT64_C(256) << 20, INT64_C(4) << 20, NULL, NULL,
	  NULL, F(max_torrent_size) },
	{ "max_batch_size", CONFIG_INT64, 1024, INT64_C(1) << 30, INT64_C(64) << 20, NULL, NULL,
	  NULL, F(max_batch_size) },
	{ "catalog_expire", CONFIG_INT, 0, 3650 * DAY, 30 * DAY, NULL, NULL, NULL,
	  F(catalog_expire) },
	{ "publish_token", CONFIG_STRING, 0, 256, 0, "", NULL, NULL, F(publish_token) },
	{ "access_mode", CONFIG_STRING, 0, 8, 0, "off", NULL, access_modes, F(access_mode) },
	{ "access_file", CONFIG_STRING, 0, 4000, 0, "", NULL, NULL, F(access_file) },
	{ "log_level", CONFIG_STRING, 0, 16, 0, "info", NULL, log_levels, F(log_level) },
	{ "trust_ip_param", CONFIG_BOOL, 0, 1, 0, NULL, NULL, NULL, F(trust_ip_param) },
};
#define TCONFIG_NKEYS (sizeof tconfig_schema / sizeof tconfig_schema[0])

void tconfig_defaults(struct tconfig *c)
{
	config_defaults(tconfig_schema, TCONFIG_NKEYS, c);
}

bool tconfig_load(struct tconfig *c, const char *path, char err[CONFIG_ERR_MAX])
{
	return config_load_file(tconfig_schema, TCONFIG_NKEYS, path, c, err);
}

void tconfig_free(struct tconfig *c)
{
	config_free(tconfig_schema, TCONFIG_NKEYS, c);
}

bool tconfig_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	uint64_t port;

	if (colon == NULL || !strnum_u64(colon + 1, strlen(colon + 1), 0, 65535, &port))
		return false;
	size_t hlen = (size_t)(colon - s);
	if (hlen >= sizeof host)
		return false;
	memset(ss, 0, sizeof *ss);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		memcpy(host, s + 1, hlen - 2);
		host[hlen - 2] = '\0';
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof *a6;
		return inet_pton(AF_INET6, host, &a6->sin6_addr) == 1;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*len = sizeof *a4;
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1;
}

static bool check_addrs(const struct config_strlist *l, const char *what, char *err)
{
	struct sockaddr_storage ss;
	socklen_t len;

	for (size_t i = 0; i < l->n; i++) {
		if (!tconfig_parse_addr(l->v[i], &ss, &len)) {
			snprintf(err, CONFIG_ERR_MAX, "setting '%s' must hold ADDR:PORT or [ADDR6]:PORT"
			         " items (got \"%.200s\")", what, l->v[i]);
			return false;
		}
	}
	return true;
}

bool tconfig_check(const struct tconfig *c, char err[CONFIG_ERR_MAX])
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!check_addrs(&c->http_listen, "http_listen", err) ||
	    !check_addrs(&c->udp_listen, "udp_listen", err))
		return false;
	if (c->metrics_listen[0] && !tconfig_parse_addr(c->metrics_listen, &ss, &len)) {
		snprintf(err, CONFIG_ERR_MAX, "setting 'metrics_listen' must be ADDR:PORT or "
		         "[ADDR6]:PORT (got \"%.200s\")", c->metrics_listen);
		return false;
	}
	if (c->http_listen.n + c->udp_listen.n == 0) {
		snprintf(err, CONFIG_ERR_MAX, "nothing to listen on: http_listen and udp_listen "
		         "are both empty");
		return false;
	}
	if (c->min_interval > c->announce_interval) {
		snprintf(err, CONFIG_ERR_MAX, "setting 'min_interval' (%d) must not exceed "
		         "'announce_interval' (%d)", c->min_interval, c->announce_interval);
		return false;
	}
	if (c->peer_timeout < c->announce_interval) {
		snprintf(err, CONFIG_ERR_MAX, "setting 'peer_timeout' (%d) must be at least "
		         "'announce_interval' (%d), or peers expire between announces",
		         c->peer_timeout, c->announce_interval);
		return false;
	}
	if (strcmp(c->access_mode, "off") != 0 && c->access_file[0] == '\0') {
		snprintf(err, CONFIG_ERR_MAX, "access_mode \"%s\" needs an access_file",
		         c->access_mode);
		return false;
	}
	return true;
}
