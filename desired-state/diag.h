/* Diagnostics: the problems found in one desired-state file, each with the
 * place it was found, printed as FILE:LINE:COL: message with the line shown. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A place in a file, 1-based; line 0 means "the file as a whole", where
 * there is no line to point at (it cannot be opened, is no regular
 * file): such a problem is printed without a position, never as 0:0. */
struct ds_mark {
	unsigned line;
	unsigned col;
};

struct ds_diag {
	struct ds_mark mark;
	size_t seq; /* order of recording, to keep sorting stable */
	char *msg;
	bool dropped; /* about a value libvirt drops without a word: a file
			 that leaves it out means what libvirt holds */
};

/* The diagnostics of one file. Owns path, text and every message. */
struct ds_diags {
	char *path;
	char *shown; /* path as printed: ds_escape_name() */
	char *text;  /* the file's bytes, NUL-terminated, for showing lines */
	size_t text_len;
	struct ds_diag *items;
	size_t n;
	size_t cap;
	int oom;        /* an allocation failed while recording a problem */
	size_t dropped; /* problems past DS_MAX_DIAGS, only counted */
};

/* Problems kept per file; the rest are counted. */
#define DS_MAX_DIAGS 100

/* Takes a copy of path; text is borrowed until ds_diags_set_text(). */
int ds_diags_init(struct ds_diags *d, const char *path);
void ds_diags_finish(struct ds_diags *d);

/* Hands the file's bytes to d (d frees them). */
void ds_diags_set_text(struct ds_diags *d, char *text, size_t len);

/* Records a problem at mark. Never fails visibly: an allocation failure is
 * remembered in d->oom and reported by the printer. */
__attribute__((format(printf, 3, 4))) void
ds_diags_add(struct ds_diags *d, struct ds_mark mark, const char *fmt, ...);
__attribute__((format(printf, 3, 0))) void ds_diags_addv(struct ds_diags *d,
							 struct ds_mark mark,
							 const char *fmt,
							 va_list ap);

/* ds_diags_add for a value libvirt would drop without a word (the driver
 * of a NIC that is not virtio): the problem is marked dropped, and import
 * leaves such a value out, as libvirt would. */
__attribute__((format(printf, 3, 4))) void
ds_diags_add_dropped(struct ds_diags *d, struct ds_mark mark, const char *fmt,
		     ...);

/* Line number line (1-based) of the file's text, and its length without
 * the newline; NULL when the text has no such line. */
const char *ds_diags_line(const struct ds_diags *d, unsigned line,
			  size_t *ret_len);

/* Prints every problem in file order as "PROG: FILE:LINE:COL: message",
 * followed by the offending line and a caret under the column, or as
 * "PROG: FILE: message" for the file as a whole. */
void ds_diags_print(struct ds_diags *d, FILE *out, const char *prog);

/* The first problem in file order as one line, as the printer gives it
 * (without PROG and the excerpt), with " (and more)" when there are
 * others: what a status shows. Returns a string owned by the caller, or
 * NULL when out of memory. */
char *ds_diags_first(const struct ds_diags *d);

/* The place of byte off in text (len bytes), with columns counted in
 * characters as libyaml counts them: libyaml gives a reader error (bad
 * UTF-8, a control byte) as a byte offset, not as a place. */
struct ds_mark ds_mark_at(const char *text, size_t len, size_t off);

/* A value as it may appear in a message: at most 60 bytes, control bytes
 * escaped (\n, \t, \xNN), so that one problem stays on one line and a
 * hostile file cannot drive the terminal. Writes into buf (96 bytes). */
const char *ds_shown(const char *s, char *buf, size_t len);
