/* Local service discovery as a source of peers: the session's torrents
 * that are not private and take peers are announced on the LAN
 * (lsd_service.h), and peers heard announcing one of them become its
 * candidates (torrent_add_candidates). Loop thread only. */
#ifndef STAD_LSD_SOURCE_H
#define STAD_LSD_SOURCE_H

struct lsd_service;
struct session;

/* Joins the LAN's groups for s; NULL (after a warning) when it cannot. */
struct lsd_service *lsd_source_start(struct session *s);

#endif
