/* par.h - the engine's worker threads
 *
 * Loops hand out their iterations one at a time from a shared counter; the
 * calling thread works too and waits at the end only for iterations that
 * have started. So a worker the system keeps off the CPU (other programs
 * running on the machine) delays nothing: the others take its share, where
 * a static split with a barrier would stall on it. Workers sleep between
 * loops. Results must not depend on which thread runs an iteration (use
 * the worker index only to pick per-thread scratch): then they do not
 * depend on the number of threads either.
 */
#ifndef CAE_PAR_H
#define CAE_PAR_H

/* Threads taking part in loops, the caller included (default 1). */
void par_set_threads(int n);
int par_threads(void);

/* Runs fn(ctx, i, worker) for every i in [0,n), worker in
 * [0, par_threads()), and returns when all have returned. A par_for inside
 * fn runs on the calling thread alone. */
void par_for(long n, void (*fn)(void *ctx, long i, int worker), void *ctx);

/* par_for, but all on the calling thread when the loop is cheaper than
 * waking threads: work is a rough count of operations. */
void par_for_w(long n, double work, void (*fn)(void *ctx, long i, int worker),
               void *ctx);

/* Runs fn(ctx, lo, hi, worker) over [0,n) cut into ranges of grain
 * (the last shorter). */
void par_range(long n, long grain,
               void (*fn)(void *ctx, long lo, long hi, int worker), void *ctx);

#endif
