/* Items worked through by the caller's thread and a few more, each taking
 * the next in turn: a pass's domains are independent of each other, and
 * reading, planning and changing them overlaps well on a few cores. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct rc_workers {
	size_t n;    /* items, numbered from 0 */
	size_t busy; /* how many of them have work; 0: all n */
	int threads; /* at most this many besides the caller's */
	/* the items are work for the CPU, not waits for libvirt: no more
	 * threads than the machine has CPUs (on two, more threads only fight
	 * over them, and each costs 0.1 ms to start on a virtual machine) */
	bool cpu_bound;
	size_t per_thread; /* one thread more for each this many busy items */
	size_t stack;      /* each thread's stack size; 0: the default */
	/* per-thread state, made and dropped by the thread (both may be
	 * NULL): a parser context to reuse, say */
	void *(*start)(void *ctx);
	void (*stop)(void *local);
	void (*item)(void *ctx, size_t i, void *local);
	void *ctx;
};

/* Calls item once for each item and returns when all are done. Without
 * threads (too few items, or none could be made) the caller does all. */
void rc_workers_run(const struct rc_workers *w);
