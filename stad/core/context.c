/* The context's services (context.h): tags, connection room, bans, state
 * paths and files, the reaper and the torrent-event callback. */
#include "context.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "picker.h"
#include "sconfig.h"
#include "xmalloc.h"

char *session_state_path(const struct session *s, const char *sub, const char *hex,
                         const char *ext)
{
	return xasprintf("%s/%s/%s%s", s->cfg->state_dir, sub, hex, ext);
}

void session_reap_later(struct session *s)
{
	event_active(s->reaper, EV_TIMEOUT, 0);
}

void session_torrent_event(struct session *s, const uint8_t info_hash[20])
{
	if (s->on_torrent_event)
		s->on_torrent_event(s->on_torrent_event_arg, info_hash);
}

uint32_t session_new_tag(struct session *s)
{
	if (++s->next_tag == PICKER_NO_TAG)
		s->next_tag = 1;
	return s->next_tag;
}

bool session_peer_room(const struct session *s)
{
	return s->n_peers < (unsigned)s->cfg->max_peers;
}

static bool ban_key(const struct sockaddr *sa, struct ban *b)
{
	memset(b, 0, sizeof *b);
	b->family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(b->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
		memcpy(b->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	else
		return false;
	return true;
}

bool session_is_banned(const struct session *s, const struct sockaddr *sa)
{
	struct ban b;

	if (!ban_key(sa, &b))
		return false;
	for (size_t i = 0; i < s->n_bans; i++)
		if (memcmp(&s->bans[i], &b, sizeof b) == 0)
			return true;
	return false;
}

void session_ban(struct session *s, const struct sockaddr *sa)
{
	struct ban b;

	if (s->n_bans >= SESSION_MAX_BANS || !ban_key(sa, &b) || session_is_banned(s, sa))
		return;
	s->bans = xreallocarray(s->bans, s->n_bans + 1, sizeof *s->bans);
	s->bans[s->n_bans++] = b;
}

void session_each_state_file(struct session *s, const char *sub,
                             void (*fn)(struct session *s, const char *dir, const char *name))
{
	char *dir = xasprintf("%s/%s", s->cfg->state_dir, sub);
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		log_err("%s: %s", dir, strerror(errno));
	} else {
		while ((e = readdir(d)) != NULL)
			fn(s, dir, e->d_name);
		closedir(d);
	}
	free(dir);
}
