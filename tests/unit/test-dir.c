/* Unit tests: dir, reading desired-state files safely (cmocka). Each test
 * works in a directory of its own under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir.h"
#include "node.h"

struct ctx {
	char root[64]; /* holds dir/ and outside/ */
	char dir[80];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	umask(022);
	strcpy(c->root, "/tmp/vr-dir-XXXXXX");
	if (!mkdtemp(c->root))
		return -1;
	snprintf(c->dir, sizeof(c->dir), "%s/dir", c->root);
	if (mkdir(c->dir, 0755) < 0)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->root);
	free(c);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to the file rel (under the test's root), with mode. */
static void put(struct ctx *c, const char *rel, const char *text, mode_t mode)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", c->root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Makes the directory rel (under the test's root). */
static void make_dir(struct ctx *c, const char *rel)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", c->root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* Makes the symlink rel (under the test's root) to target. */
static void link_to(struct ctx *c, const char *rel, const char *target)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", c->root, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* Reads name of the test's directory; returns ds_dir_read()'s result,
 * the text in *text (or NULL) and the first problem's message in msg (or
 * ""), its line in *line. */
static int read_name(struct ctx *c, const char *name, bool check_perms,
		     char **text, char *msg, size_t len, unsigned *line)
{
	struct ds_dir dir;
	struct ds_diags d;
	char why[256];
	size_t tlen = 0;
	int r;

	assert_int_equal(
	    ds_dir_open(c->dir, check_perms, &dir, why, sizeof(why)), 0);
	assert_int_equal(ds_diags_init(&d, name), 0);
	*text = NULL;
	r = ds_dir_read(&dir, name, &d, text, &tlen);
	snprintf(msg, len, "%s", d.n ? d.items[0].msg : "");
	*line = d.n ? d.items[0].mark.line : 0;
	assert_true(r == 0 ? d.n == 0 : d.n == 1);
	ds_diags_finish(&d);
	ds_dir_close(&dir);
	return r;
}

/* Asserts that name reads as want. */
#define reads(c, name, want) reads_at(c, name, want, __FILE__, __LINE__)
static void reads_at(struct ctx *c, const char *name, const char *want,
		     const char *file, int line)
{
	char *text, msg[256];
	unsigned at;
	int r = read_name(c, name, true, &text, msg, sizeof(msg), &at);

	if (r != 0)
		print_error("%s: %s\n", name, msg);
	_assert_int_equal(r, 0, file, line);
	_assert_string_equal(text, want, file, line);
	free(text);
}

/* Asserts that name is refused with r and a message starting with want,
 * for the file as a whole (line 0) unless at_line. */
#define refused(c, name, perms, want_r, want, at_line) \
	refused_at(c, name, perms, want_r, want, at_line, __FILE__, __LINE__)
static void refused_at(struct ctx *c, const char *name, bool perms, int want_r,
		       const char *want, unsigned at_line, const char *file,
		       int line)
{
	char *text, msg[256];
	unsigned at;
	int r = read_name(c, name, perms, &text, msg, sizeof(msg), &at);

	if (r != want_r || strncmp(msg, want, strlen(want)))
		print_error("%s: %d \"%s\"\n", name, r, msg);
	free(text);
	_assert_int_equal(r, want_r, file, line);
	_assert_true(!strncmp(msg, want, strlen(want)), want, file, line);
	_assert_int_equal(at, at_line, file, line);
	_assert_true(text == NULL, "no text", file, line);
}

static void test_regular(void **state)
{
	struct ctx *c = *state;

	put(c, "dir/a.yaml", "name: a\n", 0644);
	put(c, "dir/empty.yaml", "", 0644);
	reads(c, "a.yaml", "name: a\n");
	reads(c, "empty.yaml", "");
	refused(c, "none.yaml", true, -ENOENT,
		"cannot read: No such file or directory", 0);
}

/* A FIFO is refused at once: not opened, so no reader waits for a
 * writer (the test would hang). So are a directory and a socket's
 * node. */
static void test_not_regular(void **state)
{
	struct ctx *c = *state;
	char path[160];

	snprintf(path, sizeof(path), "%s/dir/f.yaml", c->root);
	assert_int_equal(mkfifo(path, 0644), 0);
	make_dir(c, "dir/d.yaml");
	refused(c, "f.yaml", false, -EINVAL,
		"not a regular file but a FIFO; only regular files are read",
		0);
	refused(c, "d.yaml", false, -EINVAL,
		"not a regular file but a directory", 0);
	link_to(c, "dir/fifo-link.yaml", "f.yaml");
	refused(c, "fifo-link.yaml", false, -EINVAL,
		"not a regular file but a FIFO", 0);
	link_to(c, "dir/dot.yaml", ".");
	refused(c, "dot.yaml", false, -EINVAL,
		"not a regular file but a directory", 0);
}

static void test_too_large(void **state)
{
	struct ctx *c = *state;
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/dir/big.yaml", c->root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, DS_MAX_FILE_SIZE + 1), 0);
	close(fd);
	refused(c, "big.yaml", false, -EFBIG, "the file is larger than", 1);
}

/* Symlinks that lead to a file inside the directory are read, however
 * they get there. */
static void test_symlinks_inside(void **state)
{
	struct ctx *c = *state;
	char target[160];

	put(c, "dir/a.yaml", "a\n", 0644);
	make_dir(c, "dir/sub");
	put(c, "dir/sub/s.yaml", "s\n", 0644);
	link_to(c, "dir/rel.yaml", "a.yaml");
	link_to(c, "dir/sub.yaml", "sub/s.yaml");
	link_to(c, "dir/chain.yaml", "rel.yaml");
	link_to(c, "dir/round.yaml", "../dir/a.yaml");
	snprintf(target, sizeof(target), "%s/dir/a.yaml", c->root);
	link_to(c, "dir/abs.yaml", target);
	reads(c, "rel.yaml", "a\n");
	reads(c, "sub.yaml", "s\n");
	reads(c, "chain.yaml", "a\n");
	reads(c, "round.yaml", "a\n");
	reads(c, "abs.yaml", "a\n");
}

static void test_symlinks_refused(void **state)
{
	struct ctx *c = *state;

	make_dir(c, "outside");
	put(c, "outside/o.yaml", "o\n", 0644);
	link_to(c, "dir/out.yaml", "../outside/o.yaml");
	link_to(c, "dir/null.yaml", "/dev/null");
	link_to(c, "dir/loop.yaml", "loop.yaml");
	link_to(c, "dir/ping.yaml", "pong.yaml");
	link_to(c, "dir/pong.yaml", "ping.yaml");
	link_to(c, "dir/gone.yaml", "nothing.yaml");
	refused(c, "out.yaml", false, -EXDEV,
		"a symlink to outside the directory; only files inside it "
		"are read",
		0);
	refused(c, "null.yaml", false, -EXDEV, "a symlink to outside", 0);
	refused(c, "loop.yaml", false, -ELOOP,
		"a symlink loop: following it never ends in a file", 0);
	refused(c, "ping.yaml", false, -ELOOP, "a symlink loop", 0);
	refused(c, "gone.yaml", false, -ENOENT,
		"a symlink to a file that does not exist", 0);
}

/* Swapping the directory's path for a symlink after it was opened does
 * not move the files read: they are read beneath the open directory. */
static void test_dir_swapped(void **state)
{
	struct ctx *c = *state;
	struct ds_dir dir;
	struct ds_diags d;
	char why[256], moved[96], *text = NULL;
	size_t len;

	put(c, "dir/a.yaml", "first\n", 0644);
	assert_int_equal(ds_dir_open(c->dir, true, &dir, why, sizeof(why)), 0);
	snprintf(moved, sizeof(moved), "%s/moved", c->root);
	assert_int_equal(rename(c->dir, moved), 0);
	assert_int_equal(mkdir(c->dir, 0755), 0);
	put(c, "dir/a.yaml", "second\n", 0644);
	assert_int_equal(ds_diags_init(&d, "a.yaml"), 0);
	assert_int_equal(ds_dir_read(&dir, "a.yaml", &d, &text, &len), 0);
	assert_string_equal(text, "first\n");
	free(text);
	ds_diags_finish(&d);
	ds_dir_close(&dir);
}

static void test_perms(void **state)
{
	struct ctx *c = *state;
	char *text, msg[256], why[256];
	struct ds_dir dir;
	unsigned at;

	put(c, "dir/ok.yaml", "ok\n", 0644);
	put(c, "dir/gw.yaml", "gw\n", 0664);
	put(c, "dir/ow.yaml", "ow\n", 0646);
	link_to(c, "dir/link.yaml", "gw.yaml");
	reads(c, "ok.yaml", "ok\n");
	refused(c, "gw.yaml", true, -EPERM,
		"the file is writable by its group: whoever can write it can "
		"define guests on this host (chmod go-w, or "
		"--insecure-permissions)",
		0);
	refused(c, "ow.yaml", true, -EPERM, "the file is writable by others",
		0);
	/* the target's permissions count, not the link's */
	refused(c, "link.yaml", true, -EPERM,
		"the file is writable by its "
		"group",
		0);
	/* validate and render judge the file alone */
	assert_int_equal(
	    read_name(c, "gw.yaml", false, &text, msg, sizeof(msg), &at), 0);
	free(text);

	assert_int_equal(chmod(c->dir, 0777), 0);
	assert_int_equal(ds_dir_open(c->dir, true, &dir, why, sizeof(why)),
			 -EPERM);
	assert_string_equal(why, "the directory is writable by others: "
				 "whoever can write it can define guests on "
				 "this host (chmod go-w, or "
				 "--insecure-permissions)");
	assert_int_equal(ds_dir_open(c->dir, false, &dir, why, sizeof(why)), 0);
	ds_dir_close(&dir);
	assert_int_equal(
	    ds_dir_open("/nonexistent-vr", false, &dir, why, sizeof(why)),
	    -ENOENT);
	assert_string_equal(why, "No such file or directory");
}

static void test_owner(void **state)
{
	struct stat st = {.st_mode = S_IFREG | 0644, .st_uid = 0};
	char buf[256];

	assert_null(ds_perms_problem(&st, false, buf, sizeof(buf)));
	st.st_uid = geteuid();
	assert_null(ds_perms_problem(&st, false, buf, sizeof(buf)));
	st.st_uid = geteuid() + 4242;
	assert_non_null(ds_perms_problem(&st, true, buf, sizeof(buf)));
	assert_true(!strncmp(buf, "the directory belongs to uid ", 29));
}

static void test_open_parent(void **state)
{
	struct ctx *c = *state;
	struct ds_dir dir;
	const char *name;
	char why[256], path[160];

	snprintf(path, sizeof(path), "%s/a.yaml", c->dir);
	assert_int_equal(
	    ds_dir_open_parent(path, false, &dir, &name, why, sizeof(why)), 0);
	assert_string_equal(name, "a.yaml");
	assert_true(!strncmp(dir.real, "/tmp/", 5));
	ds_dir_close(&dir);
	assert_int_equal(
	    ds_dir_open_parent("a.yaml", false, &dir, &name, why, sizeof(why)),
	    0);
	assert_string_equal(name, "a.yaml");
	ds_dir_close(&dir);
	assert_int_equal(
	    ds_dir_open_parent("/a.yaml", false, &dir, &name, why, sizeof(why)),
	    0);
	assert_string_equal(dir.real, "/");
	assert_string_equal(name, "a.yaml");
	ds_dir_close(&dir);
}

/* A name that is not UTF-8, or holds a control character, is refused
 * before the file is opened: libvirt's XML records the name. */
static void test_name_refused(void **state)
{
	struct ctx *c = *state;

	put(c, "dir/caf\xe9.yaml", "a\n", 0644);
	put(c, "dir/a\nb.yaml", "a\n", 0644);
	refused(c, "caf\xe9.yaml", true, -EILSEQ,
		"the file name is not valid UTF-8; rename the file", 0);
	refused(c, "a\nb.yaml", true, -EILSEQ,
		"the file name holds a control character", 0);
	put(c, "dir/caf\xc3\xa9.yaml", "a\n", 0644);
	reads(c, "caf\xc3\xa9.yaml", "a\n");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_regular),
	    T(test_not_regular),
	    T(test_too_large),
	    T(test_symlinks_inside),
	    T(test_symlinks_refused),
	    T(test_dir_swapped),
	    T(test_perms),
	    cmocka_unit_test(test_owner),
	    T(test_open_parent),
	    T(test_name_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
