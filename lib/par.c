/* par.c - the engine's worker threads: shared-counter loops
 *
 * One job at a time: par_for publishes (fn, ctx, n) under the mutex, wakes
 * the workers and claims iterations itself. When none are left it closes
 * the job, so workers that wake up late do not join, and waits only for
 * those that joined to finish their last iteration. One thread drives the
 * engine; the workers are started on first use and sleep in between.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "par.h"

#define PAR_MAX 64

static struct {
	pthread_mutex_t mu;
	pthread_cond_t wake, idle;
	int want;               /* threads taking part, the caller included */
	int started;            /* workers running (ids 1..started) */
	unsigned long gen;      /* bumped for every job */
	int open, joined;
	long n;
	void (*fn)(void *, long, int);
	void *ctx;
	atomic_long next;
} P = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
        PTHREAD_COND_INITIALIZER, 1, 0, 0, 0, 0, 0, 0, 0, 0 };

static _Thread_local int my_id;      /* 0: the driving thread */
static _Thread_local int in_loop;    /* inside fn: nested loops run alone */

static void run_items(int id)
{
	long i;
	while ((i = atomic_fetch_add(&P.next, 1)) < P.n)
		P.fn(P.ctx, i, id);
}

static void *worker(void *arg)
{
	my_id = (int)(intptr_t)arg;
	in_loop = 1;
	pthread_mutex_lock(&P.mu);
	unsigned long seen = P.gen;
	for (;;) {
		while (P.gen == seen)
			pthread_cond_wait(&P.wake, &P.mu);
		seen = P.gen;
		if (!P.open || my_id >= P.want)
			continue;
		P.joined++;
		pthread_mutex_unlock(&P.mu);
		run_items(my_id);
		pthread_mutex_lock(&P.mu);
		if (--P.joined == 0)
			pthread_cond_signal(&P.idle);
	}
	return NULL;
}

void par_set_threads(int n)
{
	pthread_mutex_lock(&P.mu);
	P.want = n < 1 ? 1 : n > PAR_MAX ? PAR_MAX : n;
	pthread_mutex_unlock(&P.mu);
}

int par_threads(void)
{
	return P.want;
}

void par_for(long n, void (*fn)(void *ctx, long i, int worker), void *ctx)
{
	if (n <= 0)
		return;
	if (n == 1 || P.want <= 1 || in_loop) {
		for (long i = 0; i < n; i++)
			fn(ctx, i, my_id);
		return;
	}
	pthread_mutex_lock(&P.mu);
	while (P.started < P.want - 1) {
		/* should a thread fail to start, the others do its share */
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		int err = pthread_create(&t, &at, worker, (void *)(intptr_t)(P.started + 1));
		pthread_attr_destroy(&at);
		if (err)
			break;
		P.started++;
	}
	P.n = n, P.fn = fn, P.ctx = ctx;
	atomic_store(&P.next, 0);
	P.open = 1;
	P.gen++;
	pthread_cond_broadcast(&P.wake);
	pthread_mutex_unlock(&P.mu);

	in_loop = 1;
	run_items(0);
	in_loop = 0;

	pthread_mutex_lock(&P.mu);
	P.open = 0;
	while (P.joined > 0)
		pthread_cond_wait(&P.idle, &P.mu);
	pthread_mutex_unlock(&P.mu);
}

/* Operations below which waking threads (some 10 us) is not worth it. */
#define PAR_MIN_WORK 2e5

void par_for_w(long n, double work, void (*fn)(void *ctx, long i, int worker),
               void *ctx)
{
	if (work < PAR_MIN_WORK) {
		for (long i = 0; i < n; i++)
			fn(ctx, i, my_id);
		return;
	}
	par_for(n, fn, ctx);
}

struct range { long n, grain; void (*fn)(void *, long, long, int); void *ctx; };

static void range_item(void *ctx, long i, int worker)
{
	struct range *r = ctx;
	long lo = i * r->grain, hi = lo + r->grain < r->n ? lo + r->grain : r->n;
	r->fn(r->ctx, lo, hi, worker);
}

void par_range(long n, long grain,
               void (*fn)(void *ctx, long lo, long hi, int worker), void *ctx)
{
	if (grain < 1)
		grain = 1;
	struct range r = { n, grain, fn, ctx };
	par_for((n + grain - 1) / grain, range_item, &r);
}
