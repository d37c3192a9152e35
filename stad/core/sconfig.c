#include "sconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hostport.h"
#include "http_client.h"
#include "log.h"

static const char *const log_levels[] = { "err", "warning", "notice", "info", "debug", NULL };
static const char *const encryptions[] = { "off", "prefer", "require", NULL };
static const char *const super_seed_modes[] = { "auto", "on", "off", NULL };

/* "" (no tracker) or a URL the announcer can use. */
static bool check_tracker(const char *v, char *why, size_t whysz)
{
	struct http_url u;

	if (*v == '\0')
		return true;
	if (!http_url_parse(v, &u, why, whysz))
		return false;
	http_url_free(&u);
	return true;
}

static bool check_hostport(const char *v, char *why, size_t whysz)
{
	char host[HOSTPORT_HOST_MAX + 1];
	uint16_t port;

	return hostport_split(v, host, &port, why, whysz);
}

/* The well-known public routers: a fresh install joins the public DHT. */
static const char *const dht_routers[] = {
	"router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881",
	"dht.libtorrent.org:25401", NULL,
};

#define F(name) .offset = offsetof(struct sconfig, name)
#define MIB (INT64_C(1) << 20)

static const struct config_key sconfig_schema[] = {
	{ "listen_port", CONFIG_INT, 1, 65535, 6881, NULL, NULL, NULL, F(listen_port) },
	{ "listen_address", CONFIG_STRING, 1, 64, 0, "0.0.0.0", NULL, NULL, F(listen_address) },
	{ "tracker", CONFIG_STRING, 0, 2048, 0, "http://127.0.0.1:6969/announce", NULL, NULL,
	  F(tracker), .check = check_tracker },
	{ "state_dir", CONFIG_STRING, 1, 4000, 0, "/var/lib/sta", NULL, NULL, F(state_dir) },
	{ "share_dir", CONFIG_STRING, 1, 4000, 0, "/var/lib/sta/share", NULL, NULL, F(share_dir) },
	{ "download_dir", CONFIG_STRING, 1, 4000, 0, "/var/lib/sta/downloads", NULL, NULL,
	  F(download_dir) },
	{ "control_socket", CONFIG_STRING, 1, 107, 0, "/run/sta/stad.sock", NULL, NULL,
	  F(control_socket) },
	{ "workers", CONFIG_INT, 0, SCONFIG_MAX_WORKERS, 0, NULL, NULL, NULL, F(workers) },
	{ "max_peers", CONFIG_INT, 1, 100000, 500, NULL, NULL, NULL, F(max_peers) },
	{ "max_peers_per_torrent", CONFIG_INT, 1, 100000, 80, NULL, NULL, NULL,
	  F(max_peers_per_torrent) },
	{ "upload_slots", CONFIG_INT, 0, 1000, 8, NULL, NULL, NULL, F(upload_slots) },
	{ "cache_size", CONFIG_INT64, MIB, INT64_C(64) << 30, 16 * MIB, NULL, NULL, NULL,
	  F(cache_size) },
	{ "direct_io", CONFIG_BOOL, 0, 1, 1, NULL, NULL, NULL, F(direct_io) },
	{ "super_seed", CONFIG_STRING, 0, 8, 0, "auto", NULL, super_seed_modes, F(super_seed) },
	{ "pex", CONFIG_BOOL, 0, 1, 1, NULL, NULL, NULL, F(pex) },
	{ "publish_token", CONFIG_STRING, 0, 256, 0, "", NULL, NULL, F(publish_token) },
	{ "log_level", CONFIG_STRING, 0, 16, 0, "info", NULL, log_levels, F(log_level) },
	{ "encryption", CONFIG_STRING, 0, 16, 0, "prefer", NULL, encryptions, F(encryption) },
	{ "lsd", CONFIG_BOOL, 0, 1, 1, NULL, NULL, NULL, F(lsd) },
	{ "dht.enabled", CONFIG_BOOL, 0, 1, 1, NULL, NULL, NULL, F(dht_enabled) },
	{ "dht.bootstrap", CONFIG_STRLIST, 0, 32, 0, NULL, dht_routers, NULL, F(dht_bootstrap),
	  .check = check_hostport },
	{ "dht.max_outstanding", CONFIG_INT, 8, 65535, 256, NULL, NULL, NULL,
	  F(dht_max_outstanding) },
	{ "dht.answers_per_second", CONFIG_INT, 1, 100000, 20, NULL, NULL, NULL,
	  F(dht_answers_per_second) },
	{ "dht.peers_per_torrent", CONFIG_INT, 1, 10000, 100, NULL, NULL, NULL,
	  F(dht_peers_per_torrent) },
	{ "dht.max_stored_peers", CONFIG_INT, 0, 10000000, 20000, NULL, NULL, NULL,
	  F(dht_max_stored_peers) },
};
#define SCONFIG_NKEYS (sizeof sconfig_schema / sizeof sconfig_schema[0])

void sconfig_defaults(struct sconfig *c)
{
	config_defaults(sconfig_schema, SCONFIG_NKEYS, c);
}

bool sconfig_load(struct sconfig *c, const char *path, char err[CONFIG_ERR_MAX])
{
	return config_load_file(sconfig_schema, SCONFIG_NKEYS, path, c, err);
}

void sconfig_free(struct sconfig *c)
{
	config_free(sconfig_schema, SCONFIG_NKEYS, c);
}

enum sconfig_encryption sconfig_encryption(const struct sconfig *c)
{
	/* The schema allows these three only. */
	if (strcmp(c->encryption, "off") == 0)
		return SCONFIG_ENC_OFF;
	return strcmp(c->encryption, "require") == 0 ? SCONFIG_ENC_REQUIRE : SCONFIG_ENC_PREFER;
}

static bool check_abs(const char *v, const char *what, char *err)
{
	if (v[0] == '/')
		return true;
	snprintf(err, CONFIG_ERR_MAX, "setting '%s' must be an absolute path (got \"%.200s\")",
	         what, v);
	return false;
}

bool sconfig_check(const struct sconfig *c, char err[CONFIG_ERR_MAX])
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!check_abs(c->state_dir, "state_dir", err) ||
	    !check_abs(c->share_dir, "share_dir", err) ||
	    !check_abs(c->download_dir, "download_dir", err) ||
	    !check_abs(c->control_socket, "control_socket", err))
		return false;
	if (inet_pton(AF_INET, c->listen_address, &a4) != 1 &&
	    inet_pton(AF_INET6, c->listen_address, &a6) != 1) {
		snprintf(err, CONFIG_ERR_MAX, "setting 'listen_address' must be an IPv4 or IPv6 "
		         "address literal (got \"%.64s\")", c->listen_address);
		return false;
	}
	if (c->max_peers_per_torrent > c->max_peers) {
		snprintf(err, CONFIG_ERR_MAX, "setting 'max_peers_per_torrent' (%d) must not exceed "
		         "'max_peers' (%d)", c->max_peers_per_torrent, c->max_peers);
		return false;
	}
	return true;
}

void sconfig_warn(const struct sconfig *c)
{
	struct stat st;

	if (stat(c->share_dir, &st) != 0)
		log_warn("share_dir %s does not exist (%s): nothing is shared from it; create it, "
		         "or set share_dir to the folder to share", c->share_dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		log_warn("share_dir %s is not a directory: nothing is shared from it; set share_dir "
		         "to the folder to share", c->share_dir);
}
