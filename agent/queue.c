/* The agent's items and its keyed queue: one entry per file, due at a time;
 * a file that changes while a worker has it runs again afterwards, so no
 * two workers ever hold one file. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

uint64_t ag_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double ag_seconds_since(const struct timespec *t0)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - t0->tv_sec) +
	       (double)(ts.tv_nsec - t0->tv_nsec) / 1e9;
}

static int cmp_key(const void *key, const void *elem)
{
	return strcmp(key, (*(struct ag_item *const *)elem)->file);
}

struct ag_item *ag_item_find(struct ag_agent *a, const char *file)
{
	struct ag_item **hit = a->n_items ? bsearch(file, a->items, a->n_items,
						    sizeof(*a->items), cmp_key)
					  : NULL;

	return hit ? *hit : NULL;
}

/* Finds or adds the item of file, keeping the array sorted. */
struct ag_item *ag_item_get(struct ag_agent *a, const char *file)
{
	struct ag_item *it = ag_item_find(a, file);
	size_t at = 0;

	if (it)
		return it;
	a->items =
	    ag_xreallocarray(a->items, a->n_items + 1, sizeof(*a->items));
	it = ag_xcalloc(1, sizeof(*it));
	it->file = ag_xstrdup(file);
	it->shown = ds_escape_name(file);
	if (!it->shown)
		abort(); /* out of memory, as ag_x* do */
	it->phase = RC_PHASE_CONVERGING;
	it->id = -1;
	while (at < a->n_items && strcmp(a->items[at]->file, file) < 0)
		at++;
	memmove(&a->items[at + 1], &a->items[at],
		(a->n_items - at) * sizeof(*a->items));
	a->items[at] = it;
	a->n_items++;
	return it;
}

struct ag_item *ag_item_by_domain(struct ag_agent *a, const char *domain)
{
	for (size_t i = 0; i < a->n_items; i++)
		if (a->items[i]->domain && !strcmp(a->items[i]->domain, domain))
			return a->items[i];
	return NULL;
}

void ag_item_remove(struct ag_agent *a, struct ag_item *it)
{
	assert(it && !it->running);
	for (size_t i = 0; i < a->n_items; i++) {
		if (a->items[i] != it)
			continue;
		memmove(&a->items[i], &a->items[i + 1],
			(a->n_items - i - 1) * sizeof(*a->items));
		a->n_items--;
		break;
	}
	free(it->file);
	free(it->shown);
	free(it->domain);
	free(it->error);
	free(it->note);
	free(it->volumes);
	free(it->seed_files);
	free(it->last_change);
	free(it->lost_to);
	free(it);
}

void ag_schedule(struct ag_agent *a, struct ag_item *it, uint64_t delay_ms)
{
	assert(it);
	uint64_t due = ag_now_ms() + delay_ms;

	if (it->running) {
		it->again = true;
		return;
	}
	if (!it->queued || due < it->due_ms)
		it->due_ms = due;
	it->queued = true;
	pthread_cond_signal(&a->work);
}

/* Events closer than this belong to one burst, at most. */
#define BURST_GAP_MS 100
#define QUIET_MAX_MS 250

uint64_t ag_quiet_window(struct ag_agent *a)
{
	uint64_t now = ag_now_ms(), window = 2 * (uint64_t)a->burst;

	/* A burst ends when its window passed with no new event: edits a
	 * person saves one after another are each a burst of one. */
	if (now - a->burst_start_ms >
	    (window < BURST_GAP_MS ? window : BURST_GAP_MS))
		a->burst = 0;
	a->burst_start_ms = now;
	a->burst++;
	/* One saved file: 2 ms. A checkout: up to a quarter second, so that
	 * the files of one burst are read once, after it. */
	uint64_t w = 2 * (uint64_t)a->burst;
	return w > QUIET_MAX_MS ? QUIET_MAX_MS : w;
}

uint64_t ag_backoff_ms(unsigned failures)
{
	uint64_t d = 500;

	for (unsigned i = 1; i < failures && d < 300000; i++)
		d *= 2;
	if (d > 300000)
		d = 300000;
	/* up to a quarter more, so that many failing files spread out */
	return d + (uint64_t)rand() % (d / 4 + 1);
}

uint64_t ag_next_due(struct ag_agent *a)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < a->n_items; i++)
		if (a->items[i]->queued && !a->items[i]->running &&
		    a->items[i]->due_ms < next)
			next = a->items[i]->due_ms;
	return next;
}

struct ag_item *ag_take_due(struct ag_agent *a, uint64_t now)
{
	struct ag_item *pick = NULL;

	for (size_t i = 0; i < a->n_items; i++) {
		struct ag_item *it = a->items[i];
		if (it->queued && !it->running && it->due_ms <= now &&
		    (!pick || it->due_ms < pick->due_ms))
			pick = it;
	}
	if (pick) {
		pick->queued = false;
		pick->running = true;
		pick->again = false;
	}
	return pick;
}
