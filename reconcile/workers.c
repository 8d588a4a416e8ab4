#include "workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define MAX_THREADS 8

struct run {
	const struct rc_workers *w;
	atomic_size_t next;
};

static void *work(void *opaque)
{
	struct run *r = opaque;
	const struct rc_workers *w = r->w;
	void *local = w->start ? w->start(w->ctx) : NULL;

	for (size_t i; (i = atomic_fetch_add(&r->next, 1)) < w->n;)
		w->item(w->ctx, i, local);
	if (w->stop)
		w->stop(local);
	return NULL;
}

static int cpus(void)
{
	static atomic_int n;
	long online;

	if (!atomic_load(&n)) { /* racing callers store the same */
		online = sysconf(_SC_NPROCESSORS_ONLN);
		atomic_store(&n, online < 1             ? 1
				 : online > MAX_THREADS ? MAX_THREADS
							: (int)online);
	}
	return atomic_load(&n);
}

void rc_workers_run(const struct rc_workers *w)
{
	struct run r = {w, 0};
	size_t busy = w->busy ? w->busy : w->n;
	int most =
	    w->cpu_bound && cpus() - 1 < w->threads ? cpus() - 1 : w->threads;
	pthread_t th[MAX_THREADS];
	pthread_attr_t attr;
	int started = 0;

	if (pthread_attr_init(&attr) == 0) {
		if (w->stack)
			pthread_attr_setstacksize(&attr, w->stack);
		while (started < most && started < MAX_THREADS &&
		       busy > (started + 1) * w->per_thread &&
		       pthread_create(&th[started], &attr, work, &r) == 0)
			started++;
		pthread_attr_destroy(&attr);
	}
	work(&r);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
}
