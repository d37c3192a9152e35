#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>
#include <pthread.h>

#include "workpool.h"

#define NJOBS 2000u

struct ctx {
	pthread_t loop_thread;
	struct event_base *base;
	struct workpool *wp;
	unsigned done_count;
	uint64_t sum;
	unsigned wrong_thread;
	unsigned resubmits_left;
	_Atomic unsigned on_worker;  /* work() calls that ran off the loop thread */
};

struct job {
	struct work_item item;
	struct ctx *ctx;
	uint64_t in;
	uint64_t out;
	unsigned sleep_us;
};

static void job_work(struct work_item *it)
{
	struct job *j = container_of(it, struct job, item);

	if (!pthread_equal(pthread_self(), j->ctx->loop_thread))
		atomic_fetch_add(&j->ctx->on_worker, 1);
	if (j->sleep_us) {
		struct timespec ts = { 0, (long)j->sleep_us * 1000 };
		nanosleep(&ts, NULL);
	}
	j->out = j->in * j->in;
	it->status = 7;
}

static void job_done(struct work_item *it)
{
	struct job *j = container_of(it, struct job, item);
	struct ctx *c = j->ctx;

	if (!pthread_equal(pthread_self(), c->loop_thread))
		c->wrong_thread++;
	assert_int_equal(it->status, 7);
	c->sum += j->out;
	c->done_count++;
	if (c->resubmits_left > 0) {
		/* Chain a follow-up job from done(), as a flush after a write would. */
		c->resubmits_left--;
		j->in = 1;
		workpool_submit(c->wp, &j->item);
		return;
	}
	if (c->base && c->done_count == NJOBS)
		event_base_loopbreak(c->base);
}

static uint64_t expected_sum(unsigned n)
{
	uint64_t s = 0;

	for (uint64_t i = 0; i < n; i++)
		s += i * i;
	return s;
}

static struct job *make_jobs(struct ctx *c, unsigned n, unsigned sleep_us)
{
	struct job *jobs = calloc(n, sizeof(*jobs));

	assert_non_null(jobs);
	for (unsigned i = 0; i < n; i++) {
		jobs[i].ctx = c;
		jobs[i].in = i;
		jobs[i].sleep_us = sleep_us;
		jobs[i].item.work = job_work;
		jobs[i].item.done = job_done;
	}
	return jobs;
}

static void run_many(unsigned nthreads)
{
	struct ctx c = { .loop_thread = pthread_self() };

	c.base = event_base_new();
	assert_non_null(c.base);
	c.wp = workpool_new(c.base, nthreads);
	assert_non_null(c.wp);
	assert_int_equal(workpool_threads(c.wp), nthreads);
	struct job *jobs = make_jobs(&c, NJOBS, 0);
	for (unsigned i = 0; i < NJOBS; i++)
		workpool_submit(c.wp, &jobs[i].item);
	assert_int_equal(workpool_pending(c.wp), NJOBS);

	assert_int_equal(event_base_dispatch(c.base), 0);
	assert_int_equal(c.done_count, NJOBS);
	assert_int_equal(workpool_pending(c.wp), 0);
	assert_int_equal(c.wrong_thread, 0);
	assert_int_equal(atomic_load(&c.on_worker), NJOBS);
	assert_true(c.sum == expected_sum(NJOBS));

	workpool_free(c.wp);
	free(jobs);
	event_base_free(c.base);
}

static void test_many_jobs_one_thread(void **state)
{
	(void)state;
	run_many(1);
}

static void test_many_jobs_four_threads(void **state)
{
	(void)state;
	run_many(4);
}

/* The pool must also work across several loop iterations with a trickle of
 * jobs: each completion wakes the loop again after the list was emptied. */
static void test_one_at_a_time(void **state)
{
	(void)state;
	struct ctx c = { .loop_thread = pthread_self() };
	struct event_base *base = event_base_new();

	c.wp = workpool_new(base, 2);
	assert_non_null(c.wp);
	struct job *jobs = make_jobs(&c, 50, 100);
	for (unsigned i = 0; i < 50; i++) {
		workpool_submit(c.wp, &jobs[i].item);
		while (c.done_count < i + 1)
			assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
		assert_int_equal(workpool_pending(c.wp), 0);
	}
	assert_true(c.sum == expected_sum(50));
	assert_int_equal(c.wrong_thread, 0);
	workpool_free(c.wp);
	free(jobs);
	event_base_free(base);
}

static void test_free_drains_queued_jobs(void **state)
{
	(void)state;
	for (unsigned nthreads = 1; nthreads <= 4; nthreads += 3) {
		struct ctx c = { .loop_thread = pthread_self() };
		struct event_base *base = event_base_new();

		c.wp = workpool_new(base, nthreads);
		assert_non_null(c.wp);
		struct job *jobs = make_jobs(&c, 200, 200);
		for (unsigned i = 0; i < 200; i++)
			workpool_submit(c.wp, &jobs[i].item);
		/* Five done() calls chain another job each, during free. */
		c.resubmits_left = 5;
		workpool_free(c.wp);
		assert_int_equal(c.done_count, 205);
		assert_true(c.sum == expected_sum(200) + 5);
		assert_int_equal(c.wrong_thread, 0);
		assert_int_equal(atomic_load(&c.on_worker), 205);
		free(jobs);
		event_base_free(base);
	}
}

static void test_free_idle_and_null(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct workpool *wp = workpool_new(base, 0);

	assert_non_null(wp);
	assert_true(workpool_threads(wp) >= 1);
	assert_int_equal(workpool_pending(wp), 0);
	workpool_free(wp);
	workpool_free(NULL);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_jobs_one_thread),
		cmocka_unit_test(test_many_jobs_four_threads),
		cmocka_unit_test(test_one_at_a_time),
		cmocka_unit_test(test_free_drains_queued_jobs),
		cmocka_unit_test(test_free_idle_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
