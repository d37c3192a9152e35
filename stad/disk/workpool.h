/* A fixed pool of worker threads for stad: SHA-1 of pieces, disk reads and
 * writes, hashing new shares. Everything that blocks or burns CPU runs here
 * so the libevent loop thread never waits.
 *
 * Jobs are intrusive: the caller embeds a struct work_item in its own job
 * struct and recovers it in the callbacks with container_of, so submitting
 * allocates nothing. work() runs on a worker thread and must not touch loop
 * state (it sees only its own job struct); done() runs later on the loop
 * thread, from the event_base, and owns the job again (it may free it or
 * resubmit it). Completions wake the loop through one eventfd, written only
 * when the completion queue goes from empty to non-empty.
 *
 * Objects a job refers to may be gone by the time done() runs (a torrent
 * removed meanwhile): keep an id in the job and look the object up again.
 */
#ifndef STAD_WORKPOOL_H
#define STAD_WORKPOOL_H

#include <stddef.h>

struct event_base;

struct work_item {
	struct work_item *next;             /* the pool's; do not touch while queued */
	void (*work)(struct work_item *);   /* worker thread */
	void (*done)(struct work_item *);   /* loop thread; may be NULL */
	int status;                         /* free for the job: work() reports here */
};

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

struct workpool;

/* Starts nthreads workers (0: one per online CPU) whose completions are
 * delivered on base. Returns NULL (after logging why) when a thread or the
 * eventfd cannot be created; threads already started are stopped. */
struct workpool *workpool_new(struct event_base *base, unsigned nthreads);

/* Queues item (FIFO). Loop thread only. item->work must be set; item must
 * stay valid until its done() has run. Never fails. */
void workpool_submit(struct workpool *wp, struct work_item *item);

/* Jobs queued + running + completed but not yet delivered to done(). Loop
 * thread only (for STATUS and shutdown decisions). */
unsigned workpool_pending(const struct workpool *wp);

unsigned workpool_threads(const struct workpool *wp);

/* Drains and frees the pool: lets every queued and running job finish and
 * runs all outstanding done() callbacks on the calling thread (the loop
 * thread, with the loop no longer dispatching). A done() callback may still
 * submit follow-up jobs (e.g. flushing resume data after a last write);
 * they run too, and free returns only when nothing is left. Then the
 * workers are joined. Only done() callbacks may submit once free has begun.
 * NULL is a no-op. */
void workpool_free(struct workpool *wp);

#endif
