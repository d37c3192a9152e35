#include "tracker_source.h"

#include "announcer.h"
#include "catalog_client.h"
#include "log.h"
#include "sconfig.h"
#include "context.h"
#include "torrent.h"
#include "torrent_superseed.h"

static void ann_stats(void *arg, struct announce_stats *out)
{
	struct torrent *t = arg;

	out->uploaded = t->uploaded;
	out->downloaded = t->downloaded;
	/* Without metadata the size is unknown, but not zero: a leecher. */
	out->left = t->meta ? 1 : t->mi.total_length - torrent_bytes_done(t);
}


static void publish_done(void *arg, const char *status, const char *error)
{
	struct torrent *t = arg;

	t->publish = NULL;
	if (status == NULL) {
		log_warn("%s: publishing \"%s\" failed: %s", t->hex, t->mi.name, error);
		return;
	}
	t->published = true;
	log_info("%s: published \"%s\" to the catalog (%s)", t->hex, t->mi.name, status);
}

/* Publishes the .torrent to the catalog (shared, after a good announce). */
static void publish(struct torrent *t)
{
	struct session *s = t->s;
	const char *token = s->cfg->publish_token[0] ? s->cfg->publish_token : NULL;
	char err[256];

	if (!t->shared || t->published || t->publish || s->closed || !t->announced_ok ||
	    s->tracker_url == NULL)
		return;
	t->publish = catalog_client_publish(s->base, s->dns, session_source(s), s->tracker_url,
	                                    t->mi.raw, t->mi.raw_len, token, publish_done, t, err,
	                                    sizeof err);
	if (t->publish == NULL)
		log_warn("%s: cannot publish: %s", t->hex, err);
}

static void ann_result(void *arg, const struct announce_result *r)
{
	struct torrent *t = arg;

	if (!r->ok) {
		if (r->tracker && r->tracker[0])
			log_info("%s: announce to %s: %s", t->hex, r->tracker, r->status);
		else /* no tracker URL the announcer could use */
			log_info("%s: not announced: %s (set 'tracker' in stad.conf or use a "
			         ".torrent with an announce URL)", t->hex, r->status);
		return;
	}
	log_debug("%s: announce to %s: %s", t->hex, r->tracker, r->status);
	t->announced_ok = true;
	t->tracker_seeders = r->seeders;
	torrent_superseed_seeders(t, r->seeders);
	t->n_cand = 0; /* the tracker's list replaces the last one */
	torrent_add_candidates(t, r->peers, r->n_peers);
	torrent_connect_candidates(t);
	publish(t);
}

void tracker_source_start(struct torrent *t)
{
	static const struct announce_cbs cbs = { ann_stats, ann_result };
	struct session *s = t->s;

	if (t->sub) {
		announcer_reannounce_now(t->sub);
	} else if (t->mi.n_tiers > 0) {
		t->sub = announcer_add(s->ann, t->mi.info_hash, t->mi.tiers, t->mi.n_tiers, &cbs, t);
	} else {
		t->sub = announcer_add(s->ann, t->mi.info_hash, &s->tier, s->tier.n_urls ? 1 : 0,
		                       &cbs, t);
	}
	if (t->announced_ok)
		publish(t);
}

void tracker_source_completed(struct torrent *t)
{
	if (t->sub && !t->completed_sent)
		announcer_completed(t->sub);
}

static void cancel_publish(struct torrent *t)
{
	t->announced_ok = false;
	if (t->publish)
		catalog_client_cancel(t->publish);
	t->publish = NULL;
}

void tracker_source_stop(struct torrent *t)
{
	if (t->sub)
		announcer_remove(t->sub, true);
	t->sub = NULL;
	cancel_publish(t);
}

void tracker_source_close(struct torrent *t)
{
	t->sub = NULL; /* announcer_stop_all sends the stopped */
	cancel_publish(t);
}
