/* Worker pool: one mutex guards the job queue and the completion queue;
 * workers sleep on a condition variable; completions wake the loop through
 * an eventfd (memcached's pattern), and the loop takes the whole
 * completion list in one swap so the lock is held for O(1). */
#include "workpool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "xmalloc.h"

#define WP_MAX_THREADS 256u

struct wp_list {
	struct work_item *head;
	struct work_item *tail;
};

struct workpool {
	struct event_base *base;
	struct event *ev;
	int efd;
	pthread_t *threads;
	unsigned nthreads;
	unsigned pending;       /* loop thread only: submitted, done() not yet run */

	pthread_mutex_t lock;   /* guards everything below */
	pthread_cond_t cond;    /* jobs queued or stopping */
	struct wp_list jobs;
	struct wp_list completed;
	bool stopping;
};

static void wp_list_push(struct wp_list *l, struct work_item *it)
{
	it->next = NULL;
	if (l->tail)
		l->tail->next = it;
	else
		l->head = it;
	l->tail = it;
}

static void wp_wake(struct workpool *wp)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: the loop will wake. */
	while (write(wp->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void *wp_worker(void *arg)
{
	struct workpool *wp = arg;

	pthread_mutex_lock(&wp->lock);
	for (;;) {
		while (!wp->jobs.head && !wp->stopping)
			pthread_cond_wait(&wp->cond, &wp->lock);
		struct work_item *it = wp->jobs.head;
		if (!it)
			break;
		wp->jobs.head = it->next;
		if (!wp->jobs.head)
			wp->jobs.tail = NULL;
		pthread_mutex_unlock(&wp->lock);

		it->work(it);

		pthread_mutex_lock(&wp->lock);
		bool was_empty = !wp->completed.head;
		wp_list_push(&wp->completed, it);
		if (was_empty)
			wp_wake(wp);
	}
	pthread_mutex_unlock(&wp->lock);
	return NULL;
}

/* Runs every completion delivered so far. Reads the eventfd before taking
 * the list: a completion pushed after the swap then writes it again. */
static void wp_deliver(struct workpool *wp)
{
	uint64_t n;

	while (read(wp->efd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&wp->lock);
	struct work_item *it = wp->completed.head;
	wp->completed.head = wp->completed.tail = NULL;
	pthread_mutex_unlock(&wp->lock);

	while (it) {
		/* done() may free or resubmit the item. */
		struct work_item *next = it->next;
		wp->pending--;
		if (it->done)
			it->done(it);
		it = next;
	}
}

static void wp_on_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wp_deliver(arg);
}

static void wp_stop_threads(struct workpool *wp, unsigned started)
{
	pthread_mutex_lock(&wp->lock);
	wp->stopping = true;
	pthread_cond_broadcast(&wp->cond);
	pthread_mutex_unlock(&wp->lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(wp->threads[i], NULL);
}

static void wp_destroy(struct workpool *wp)
{
	if (wp->ev)
		event_free(wp->ev);
	if (wp->efd >= 0)
		close(wp->efd);
	pthread_cond_destroy(&wp->cond);
	pthread_mutex_destroy(&wp->lock);
	free(wp->threads);
	free(wp);
}

/* Workers get every signal blocked, so signals reach the loop thread
 * (libevent's handlers) only. Returns how many threads started. */
static unsigned wp_start_threads(struct workpool *wp)
{
	sigset_t all, old;
	unsigned i;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < wp->nthreads; i++) {
		int e = pthread_create(&wp->threads[i], NULL, wp_worker, wp);
		if (e != 0) {
			log_err("pthread_create (thread %u of %u): %s", i + 1, wp->nthreads,
			        strerror(e));
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return i;
}

static unsigned wp_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (unsigned)n;
}

struct workpool *workpool_new(struct event_base *base, unsigned nthreads)
{
	struct workpool *wp = xcalloc(1, sizeof(*wp));

	if (nthreads == 0)
		nthreads = wp_default_threads();
	if (nthreads > WP_MAX_THREADS)
		nthreads = WP_MAX_THREADS;
	wp->base = base;
	wp->nthreads = nthreads;
	wp->threads = xcalloc(nthreads, sizeof(*wp->threads));
	pthread_mutex_init(&wp->lock, NULL);
	pthread_cond_init(&wp->cond, NULL);
	wp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wp->efd < 0) {
		log_err("eventfd: %s", strerror(errno));
		wp_destroy(wp);
		return NULL;
	}
	wp->ev = event_new(base, wp->efd, EV_READ | EV_PERSIST, wp_on_event, wp);
	if (!wp->ev || event_add(wp->ev, NULL) != 0) {
		log_err("cannot register the completion eventfd with libevent");
		wp_destroy(wp);
		return NULL;
	}
	unsigned started = wp_start_threads(wp);
	if (started < nthreads) {
		wp_stop_threads(wp, started);
		wp_destroy(wp);
		return NULL;
	}
	return wp;
}

void workpool_submit(struct workpool *wp, struct work_item *item)
{
	wp->pending++;
	pthread_mutex_lock(&wp->lock);
	wp_list_push(&wp->jobs, item);
	pthread_cond_signal(&wp->cond);
	pthread_mutex_unlock(&wp->lock);
}

unsigned workpool_pending(const struct workpool *wp)
{
	return wp->pending;
}

unsigned workpool_threads(const struct workpool *wp)
{
	return wp->nthreads;
}

void workpool_free(struct workpool *wp)
{
	if (!wp)
		return;
	/* pending only drops in wp_deliver, on this thread, so the loop ends
	 * once nothing queued, running or undelivered is left, including jobs
	 * that done() callbacks submitted meanwhile. */
	while (wp->pending > 0) {
		struct pollfd pfd = { .fd = wp->efd, .events = POLLIN };
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			log_crit("poll on the completion eventfd: %s", strerror(errno));
			abort();
		}
		wp_deliver(wp);
	}
	wp_stop_threads(wp, wp->nthreads);
	wp_destroy(wp);
}
