/* Cleanup attributes shared by every layer: a variable declared with one of
 * these is released when it goes out of scope, so error paths need no goto
 * ladder. take_ptr() hands ownership on and leaves NULL behind. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void ds_freep(void *p)
{
	free(*(void **)p);
}
static inline void ds_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void ds_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_free_ _cleanup_(ds_freep)
#define _cleanup_fclose_ _cleanup_(ds_fclosep)
#define _cleanup_close_ _cleanup_(ds_closep)

#define take_ptr(p)                     \
	__extension__({                 \
		__typeof__(p) _p = (p); \
		(p) = NULL;             \
		_p;                     \
	})

/* take_ptr() for a file descriptor: leaves -1 behind. */
#define take_fd(fd)             \
	__extension__({         \
		int _fd = (fd); \
		(fd) = -1;      \
		_fd;            \
	})

/* Declares name_freep() for a type with a name_free(T *) destructor. */
#define DS_DEFINE_FREEP(type, func)          \
	static inline void func##p(type **p) \
	{                                    \
		if (*p)                      \
			func(*p);            \
	}

#define DS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
