/* stad's settings: the schema for common/config.h, defaults and the checks
 * that span several settings. */
#ifndef STAD_SCONFIG_H
#define STAD_SCONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define SCONFIG_DEFAULT_FILE "/etc/sta/stad.conf"
#define SCONFIG_MAX_WORKERS 256
#define SCONFIG_PEER_ID_PREFIX "-ST0100-"

struct sconfig {
	int listen_port;
	char *listen_address;
	char *tracker;
	char *state_dir;
	char *share_dir;
	char *download_dir;
	char *control_socket;
	int workers;
	int max_peers;
	int max_peers_per_torrent;
	int upload_slots;
	int64_t cache_size;
	bool direct_io;
	char *super_seed;
	bool pex;
	char *publish_token;
	char *log_level;
	/* The DHT node (group "dht"). */
	bool dht_enabled;
	struct config_strlist dht_bootstrap;    /* HOST:PORT of routers to join through */
	int dht_max_outstanding;                /* our queries awaiting an answer */
	int dht_answers_per_second;             /* queries answered per second per host */
	int dht_peers_per_torrent;              /* peers stored per info-hash */
	int dht_max_stored_peers;               /* peers stored in all */
	char *encryption;       /* "off", "prefer", "require" */
	bool lsd;
};

/* stad.conf "encryption": MSE/PE for peer connections. */
enum sconfig_encryption {
	SCONFIG_ENC_OFF,
	SCONFIG_ENC_PREFER,
	SCONFIG_ENC_REQUIRE,
};

void sconfig_defaults(struct sconfig *c);
/* Loads path over c; false with a "FILE:LINE: ..." message in err. */
bool sconfig_load(struct sconfig *c, const char *path, char err[CONFIG_ERR_MAX]);
/* Checks what the schema cannot: absolute directories, a parseable listen
 * address, per-torrent peers within the global limit. */
bool sconfig_check(const struct sconfig *c, char err[CONFIG_ERR_MAX]);
/* Logs what is allowed but probably a mistake (a missing share_dir). */
void sconfig_warn(const struct sconfig *c);
void sconfig_free(struct sconfig *c);
enum sconfig_encryption sconfig_encryption(const struct sconfig *c);

#endif
