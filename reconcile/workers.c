#include "workers.h"

#include <pthread.h>
#include <stdatomic.h>

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

void rc_workers_run(const struct rc_workers *w)
{
	struct run r = {w, 0};
	size_t busy = w->busy ? w->busy : w->n;
	pthread_t th[MAX_THREADS];
	pthread_attr_t attr;
	int started = 0;

	if (pthread_attr_init(&attr) == 0) {
		if (w->stack)
			pthread_attr_setstacksize(&attr, w->stack);
		while (started < w->threads && started < MAX_THREADS &&
		       busy > (started + 1) * w->per_thread &&
		       pthread_create(&th[started], &attr, work, &r) == 0)
			started++;
		pthread_attr_destroy(&attr);
	}
	work(&r);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
}
