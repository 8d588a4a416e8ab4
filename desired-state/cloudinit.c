/* The cloud-init seed image (libisofs) and the YAML check of its files
 * (libyaml's events, without building a tree: nothing is interpreted). */
#include "cloudinit.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

/* The image is read from libisofs's struct burn_source without libburn:
 * libisofs.h then declares the struct itself. */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "cleanup.h"
#include "diag.h"

#define SEED_LABEL "cidata"
#define SEED_NAME_MAX 64 /* Joliet's longest name */
#define ISO_BLOCK 2048

/* Every timestamp of the image, 2000-01-01 00:00:00 UTC: any fixed moment
 * makes the bytes depend on the files alone. The volume descriptors take
 * it as text (YYYYMMDDhhmmsscc, always UTC), which also makes it libisofs's
 * "now" for the directory records; files and directories take it as a
 * time_t. */
#define SEED_TIME_TEXT "2000010100000000"
#define SEED_TIME ((time_t)946684800)

static int init_result;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* libisofs once for the process. Flag 1 keeps it from calling
 * setlocale(), which would change the whole program's locale from any
 * thread; names are taken as UTF-8 whatever the locale, so that the image
 * does not depend on it. Its messages are neither printed (a library does
 * not write to stderr) nor queued (nothing would empty the queue). */
static void seed_init(void)
{
	char never[] = "NEVER", none[] = "", utf8[] = "UTF-8";

	init_result = iso_init_with_flag(1);
	if (init_result < 0)
		return;
	if (iso_set_local_charset(utf8, 0) <= 0 ||
	    iso_set_msgs_severities(never, never, none) <= 0)
		init_result = ISO_FATAL_ERROR;
}

static int seed_init_ok(void)
{
	pthread_once(&init_once, seed_init);
	return init_result < 0 ? -1 : 0;
}

static void image_unrefp(IsoImage **p)
{
	if (*p)
		iso_image_unref(*p);
}

static void write_opts_freep(IsoWriteOpts **p)
{
	if (*p)
		iso_write_opts_free(*p);
}

/* Without libburn's burn_source_free(): free_data() stops and joins the
 * writer thread unless it has ended, and frees libisofs's side; the struct
 * itself is the caller's to free. */
static void burn_source_freep(struct burn_source **p)
{
	if (*p) {
		(*p)->free_data(*p);
		free(*p);
	}
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (!first && (c == '.' || c == '_' || c == '-'));
}

/* Names libisofs would take but change in one of the trees (Joliet cuts
 * long ones, maps some characters), or that a guest may read otherwise. */
static bool name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i] && i <= SEED_NAME_MAX; i++)
		if (!name_char(name[i], i == 0))
			return false;
	return i > 0 && i <= SEED_NAME_MAX;
}

static int add_file(IsoImage *image, const struct ds_seed_file *f, char *err,
		    size_t errlen)
{
	IsoStream *stream = NULL;
	unsigned char *copy;
	char shown[96];
	int r;

	assert(f->name && (f->data || f->len == 0));
	ds_shown(f->name, shown, sizeof(shown));
	if (!name_ok(f->name)) {
		snprintf(err, errlen,
			 "'%s' is not a seed file name: 1 to %d letters, "
			 "digits, '.', '_' or '-', starting with a letter or "
			 "digit",
			 shown, SEED_NAME_MAX);
		return -1;
	}
	/* the stream frees the buffer it is given: it gets a copy */
	copy = malloc(f->len ? f->len : 1);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (f->len)
		memcpy(copy, f->data, f->len);
	r = iso_memory_stream_new(copy, f->len, &stream);
	if (r < 0) {
		free(copy);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* the new file takes the stream's reference; when there is no new
	 * file, the reference is still this function's */
	r = iso_image_add_new_file(image, iso_image_get_root(image), f->name,
				   stream, NULL);
	if (r < 0)
		iso_stream_unref(stream);
	if (r == (int)ISO_NODE_NAME_NOT_UNIQUE) {
		snprintf(err, errlen, "'%s' is given twice", shown);
		return -1;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot add '%s' to the seed image: %s",
			 shown, iso_error_to_msg(r));
		return -1;
	}
	return 0;
}

/* What the writer is told beyond profile 2 ("distribution": Rock Ridge
 * and Joliet, ISO level 2, modes 0444 and 0555, owner root, timestamps
 * replaced, UTC). */
static int new_write_opts(IsoWriteOpts **ret)
{
	_cleanup_(write_opts_freep) IsoWriteOpts *o = NULL;
	char uuid[] = SEED_TIME_TEXT;

	if (iso_write_opts_new(&o, 2) < 0)
		return -1;
	if (iso_write_opts_set_rockridge(o, 1) < 0 ||
	    iso_write_opts_set_joliet(o, 1) < 0 ||
	    /* else the primary volume descriptor says "CIDATA": ISO 9660
	     * allows only upper case there, cloud-init looks for cidata */
	    iso_write_opts_set_relaxed_vol_atts(o, 1) < 0 ||
	    iso_write_opts_set_replace_timestamps(o, 2) < 0 ||
	    iso_write_opts_set_default_timestamp(o, SEED_TIME) < 0 ||
	    iso_write_opts_set_always_gmt(o, 1) < 0 ||
	    iso_write_opts_set_pvd_times(o, 0, 0, 0, 0, uuid) < 0 ||
	    /* 64 KiB between the writer thread and the reader, not 2 MiB */
	    iso_write_opts_set_fifo_size(o, 32) < 0)
		return -1;
	*ret = take_ptr(o);
	return 0;
}

/* Reads the image that the writer thread produces, whole. A writer that
 * fails closes its end early, which reads as an early end of the image. */
static int read_image(struct burn_source *bs, uint8_t **ret, size_t *ret_len)
{
	off_t size = bs->get_size(bs);
	uint8_t tail[ISO_BLOCK];
	_cleanup_free_ uint8_t *buf = NULL;

	if (size <= 0 || size % ISO_BLOCK || !(buf = malloc(size)))
		return -1;
	for (off_t at = 0; at < size; at += ISO_BLOCK)
		if (bs->read_xt(bs, buf + at, ISO_BLOCK) != ISO_BLOCK)
			return -1;
	/* the end of the stream, and the ring buffer's state 2 ("ending"):
	 * the writer closed it without an error */
	if (bs->read_xt(bs, tail, ISO_BLOCK) != 0 ||
	    iso_ring_buffer_get_status(bs, NULL, NULL) != 2)
		return -1;
	*ret = take_ptr(buf);
	*ret_len = size;
	return 0;
}

int ds_seed_iso(const struct ds_seed_file *files, size_t n, uint8_t **ret,
		size_t *ret_len, char *err, size_t errlen)
{
	_cleanup_(image_unrefp) IsoImage *image = NULL;
	_cleanup_(write_opts_freep) IsoWriteOpts *opts = NULL;
	_cleanup_(burn_source_freep) struct burn_source *bs = NULL;

	assert(files || n == 0);
	if (seed_init_ok() < 0) {
		snprintf(err, errlen, "libisofs cannot be initialised");
		return -1;
	}
	/* the image's name is its volume id, and its volume set id */
	if (iso_image_new(SEED_LABEL, &image) < 0 ||
	    new_write_opts(&opts) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (add_file(image, &files[i], err, errlen) < 0)
			return -1;
	if (iso_image_create_burn_source(image, opts, &bs) < 0 ||
	    read_image(bs, ret, ret_len) < 0) {
		snprintf(err, errlen,
			 "libisofs could not write the seed image");
		return -1;
	}
	return 0;
}

static void md5_add(void *ctx, const void *data, size_t len)
{
	const char *p = data;

	/* iso_md5_compute() takes an int length */
	while (len > 0) {
		int part = len > INT_MAX ? INT_MAX : (int)len;
		iso_md5_compute(ctx, (char *)p, part);
		p += part;
		len -= part;
	}
}

static void md5_add_len(void *ctx, uint64_t len)
{
	unsigned char be[8];

	for (int i = 7; i >= 0; i--, len >>= 8)
		be[i] = len & 0xff;
	md5_add(ctx, be, sizeof(be));
}

void ds_seed_digest(const struct ds_seed_file *files, size_t n, char hex[33])
{
	void *ctx = NULL;
	char sum[16];

	if (seed_init_ok() < 0 || iso_md5_start(&ctx) < 0)
		abort();
	md5_add_len(ctx, n);
	for (size_t i = 0; i < n; i++) {
		md5_add_len(ctx, strlen(files[i].name));
		md5_add(ctx, files[i].name, strlen(files[i].name));
		md5_add_len(ctx, files[i].len);
		md5_add(ctx, files[i].data, files[i].len);
	}
	iso_md5_end(&ctx, sum);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)sum[i]);
}

/* What cloud-init wants of a file, by its name. */
enum ci_want {
	CI_ANY,     /* not YAML, or not read by cloud-init */
	CI_MAPPING, /* YAML whose top is a mapping, or empty */
};

/* cloud-init tells user-data's kind by how it starts; "#cloud-config"
 * alone on the first line is cloud-config, YAML. (It takes longer
 * prefixes first: "#cloud-config-archive" is a list of parts, and
 * "#cloud-config-jsonp" JSON patches.) */
static bool is_cloud_config(const char *data, size_t len)
{
	static const char head[] = "#cloud-config";
	size_t i = sizeof(head) - 1;

	if (len < i || memcmp(data, head, i))
		return false;
	for (; i < len && data[i] != '\n'; i++)
		if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r')
			return false;
	return true;
}

static enum ci_want want_of(const char *name, const char *data, size_t len)
{
	if (!strcmp(name, "meta-data") || !strcmp(name, "network-config"))
		return CI_MAPPING;
	if ((!strcmp(name, "user-data") || !strcmp(name, "vendor-data")) &&
	    is_cloud_config(data, len))
		return CI_MAPPING;
	return CI_ANY;
}

struct ci_problem {
	struct ds_mark mark;
	char *msg;
	size_t msglen;
};

static int parser_problem(const yaml_parser_t *p, const char *data, size_t len,
			  struct ci_problem *pr)
{
	if (p->error == YAML_MEMORY_ERROR) {
		pr->mark = (struct ds_mark){0, 0};
		snprintf(pr->msg, pr->msglen, "out of memory");
	} else if (p->error == YAML_READER_ERROR) {
		pr->mark = ds_mark_at(data, len, p->problem_offset);
		snprintf(pr->msg, pr->msglen, "%s", p->problem);
	} else {
		pr->mark = (struct ds_mark){p->problem_mark.line + 1,
					    p->problem_mark.column + 1};
		if (p->context)
			snprintf(pr->msg, pr->msglen, "%s (%s at line %zu)",
				 p->problem, p->context,
				 p->context_mark.line + 1);
		else
			snprintf(pr->msg, pr->msglen, "%s", p->problem);
	}
	return -1;
}

/* A null scalar, as the YAML core schema reads one untagged: the top of
 * "---" alone, which cloud-init takes as an empty file. */
static bool is_null(const yaml_event_t *ev)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.tag ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < DS_ARRAY_SIZE(nulls); i++)
		if (!strcmp(v, nulls[i]))
			return true;
	return false;
}

/* The first node of the document: a mapping, or nothing. */
static int top_problem(const yaml_event_t *ev, struct ci_problem *pr)
{
	const char *what;

	if (ev->type == YAML_MAPPING_START_EVENT ||
	    (ev->type == YAML_SCALAR_EVENT && is_null(ev)))
		return 0;
	what = ev->type == YAML_SEQUENCE_START_EVENT ? "a list"
	       : ev->type == YAML_ALIAS_EVENT        ? "an alias"
						     : "a single value";
	pr->mark = (struct ds_mark){ev->start_mark.line + 1,
				    ev->start_mark.column + 1};
	snprintf(pr->msg, pr->msglen,
		 "%s at the top, where cloud-init expects a mapping", what);
	return -1;
}

/* One event of the stream: 1 at its end, 0 to go on, -1 at a problem.
 * cloud-init reads with PyYAML's safe_load(), which takes one document. */
static int on_event(const yaml_event_t *ev, unsigned *docs, bool *top_seen,
		    struct ci_problem *pr)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs == 1)
			return 0;
		pr->mark = (struct ds_mark){ev->start_mark.line + 1,
					    ev->start_mark.column + 1};
		snprintf(pr->msg, pr->msglen,
			 "expected a single document in the stream, but "
			 "found another document");
		return -1;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
	case YAML_SCALAR_EVENT:
	case YAML_ALIAS_EVENT:
		if (*top_seen)
			return 0;
		*top_seen = true;
		return top_problem(ev, pr);
	default:
		return 0;
	}
}

static int check_mapping(const char *data, size_t len, struct ci_problem *pr)
{
	yaml_parser_t p;
	yaml_event_t ev;
	unsigned docs = 0;
	bool top_seen = false;
	int r = 0;

	if (!yaml_parser_initialize(&p)) {
		pr->mark = (struct ds_mark){0, 0};
		snprintf(pr->msg, pr->msglen, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (r == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			r = parser_problem(&p, data, len, pr);
			break;
		}
		r = on_event(&ev, &docs, &top_seen, pr);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return r < 0 ? -1 : 0;
}

int ds_cloudinit_check(const char *name, const char *data, size_t len,
		       unsigned *line, unsigned *col, char *msg, size_t msglen)
{
	struct ci_problem pr = {.msg = msg, .msglen = msglen};

	assert(name && (data || len == 0));
	if (!data)
		data = ""; /* libyaml wants a string, even an empty one */
	if (want_of(name, data, len) == CI_ANY)
		return 0;
	if (check_mapping(data, len, &pr) < 0) {
		*line = pr.mark.line;
		*col = pr.mark.col;
		return -1;
	}
	return 0;
}
