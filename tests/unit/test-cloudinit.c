/* Unit tests: cloudinit, the seed image read back with libisofs's reading
 * side, its digest, and the YAML check of its files (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "cloudinit.h"

#define BLOCK 2048
#define PVD (16 * BLOCK)

static const char user_data[] = "#cloud-config\n"
				"hostname: web01\n"
				"packages: [nginx]\n";
static const char meta_data[] = "instance-id: web01\n"
				"local-hostname: web01\n";
static const char network_config[] = "version: 2\n"
				     "ethernets:\n"
				     "  eth0:\n"
				     "    dhcp4: true\n";

#define FILE_OF(n, text)                  \
	{                                 \
		n, text, sizeof(text) - 1 \
	}
static const struct ds_seed_file seed[] = {
    FILE_OF("user-data", user_data),
    FILE_OF("meta-data", meta_data),
    FILE_OF("network-config", network_config),
};
#define N_SEED (sizeof(seed) / sizeof(seed[0]))

static void build(const struct ds_seed_file *files, size_t n, uint8_t **iso,
		  size_t *len)
{
	char err[256] = "";

	if (ds_seed_iso(files, n, iso, len, err, sizeof(err)) < 0)
		print_error("ds_seed_iso: %s\n", err);
	assert_non_null(*iso);
	assert_int_equal(*len % BLOCK, 0);
	assert_true(*len > PVD + BLOCK);
}

/* The image as libisofs reads a disc: a block at a time. */
struct mem {
	const uint8_t *buf;
	size_t len;
};

static int mem_open(IsoDataSource *src)
{
	return ISO_SUCCESS;
}

static int mem_close(IsoDataSource *src)
{
	return ISO_SUCCESS;
}

static int mem_read_block(IsoDataSource *src, uint32_t lba, uint8_t *buffer)
{
	const struct mem *m = src->data;

	if ((uint64_t)lba * BLOCK + BLOCK > m->len)
		return (int)ISO_DATA_SOURCE_FAILURE;
	memcpy(buffer, m->buf + (size_t)lba * BLOCK, BLOCK);
	return ISO_SUCCESS;
}

static void mem_free_data(IsoDataSource *src)
{
	free(src->data);
}

/* Imports the image through its Rock Ridge tree, or through its Joliet
 * tree when joliet is set. libisofs is initialised: ds_seed_iso() has
 * run before. */
static IsoImage *import(const uint8_t *iso, size_t len, bool joliet)
{
	IsoDataSource *src = calloc(1, sizeof(*src));
	struct mem *m = malloc(sizeof(*m));
	IsoReadOpts *opts = NULL;
	IsoReadImageFeatures *features = NULL;
	IsoImage *image = NULL;

	assert_true(src && m);
	*m = (struct mem){iso, len};
	*src = (IsoDataSource){.refcount = 1,
			       .open = mem_open,
			       .close = mem_close,
			       .read_block = mem_read_block,
			       .free_data = mem_free_data,
			       .data = m};
	assert_true(iso_read_opts_new(&opts, 0) > 0);
	if (joliet)
		assert_true(iso_read_opts_set_no_rockridge(opts, 1) > 0);
	assert_true(iso_image_new("", &image) > 0);
	assert_true(iso_image_import(image, src, opts, &features) > 0);
	assert_true(iso_read_image_features_has_rockridge(features));
	assert_true(iso_read_image_features_has_joliet(features));
	iso_read_image_features_destroy(features);
	iso_read_opts_free(opts);
	iso_data_source_unref(src);
	return image;
}

/* Asserts that the image's root holds file f with its exact content. */
static void holds(IsoImage *image, const struct ds_seed_file *f)
{
	IsoNode *node = NULL;
	IsoStream *stream;
	char *got = malloc(f->len + 1);
	size_t have = 0;

	assert_non_null(got);
	if (iso_dir_get_node(iso_image_get_root(image), f->name, &node) != 1)
		print_error("'%s' is not in the image\n", f->name);
	assert_non_null(node);
	assert_true(ISO_NODE_IS_FILE(node));
	assert_int_equal(iso_node_get_mtime(node), 946684800);
	stream = iso_file_get_stream((IsoFile *)node);
	assert_int_equal(iso_stream_get_size(stream), f->len);
	assert_true(iso_stream_open(stream) >= 0);
	while (have < f->len) {
		int r = iso_stream_read(stream, got + have, f->len - have);
		assert_true(r > 0);
		have += r;
	}
	/* and nothing more */
	assert_int_equal(iso_stream_read(stream, got + have, 1), 0);
	iso_stream_close(stream);
	assert_memory_equal(got, f->data, f->len);
	free(got);
}

static void test_label_is_cidata(void **state)
{
	uint8_t *iso = NULL;
	size_t len = 0;

	build(seed, N_SEED, &iso, &len);
	/* the primary volume descriptor: type 1, "CD001", the volume id
	 * at byte 40, 32 bytes padded with spaces */
	assert_int_equal(iso[PVD], 1);
	assert_memory_equal(iso + PVD + 1, "CD001", 5);
	assert_memory_equal(iso + PVD + 40, "cidata                          ",
			    32);
	/* its creation time, which the writer's clock does not give */
	assert_memory_equal(iso + PVD + 813, "2000010100000000", 16);
	free(iso);
}

static void test_files_read_back(void **state)
{
	uint8_t *iso = NULL;
	size_t len = 0;

	build(seed, N_SEED, &iso, &len);
	for (int joliet = 0; joliet <= 1; joliet++) {
		IsoImage *image = import(iso, len, joliet);
		assert_string_equal(iso_image_get_volume_id(image), "cidata");
		assert_int_equal(
		    iso_dir_get_children_count(iso_image_get_root(image)),
		    N_SEED);
		for (size_t i = 0; i < N_SEED; i++)
			holds(image, &seed[i]);
		iso_image_unref(image);
	}
	free(iso);
}

static void test_empty_and_binary_files(void **state)
{
	static const char bytes[] = {0, 1, 2, '\n', (char)0xff, 0};
	const struct ds_seed_file files[] = {
	    {"meta-data", NULL, 0},
	    {"user-data", bytes, sizeof(bytes)},
	};
	uint8_t *iso = NULL;
	size_t len = 0;
	IsoImage *image;

	build(files, 2, &iso, &len);
	image = import(iso, len, false);
	holds(image, &files[0]);
	holds(image, &files[1]);
	iso_image_unref(image);
	free(iso);
}

/* The same files give the same bytes, at another time and in another
 * time zone. */
static void test_deterministic(void **state)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	struct timespec later = {1, 100000000};

	build(seed, N_SEED, &a, &alen);
	nanosleep(&later, NULL);
	setenv("TZ", "America/St_Johns", 1); /* UTC-3:30 */
	tzset();
	build(seed, N_SEED, &b, &blen);
	unsetenv("TZ");
	tzset();
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
}

static void refused(const struct ds_seed_file *files, size_t n,
		    const char *want)
{
	uint8_t *iso = NULL;
	size_t len = 0;
	char err[256] = "";

	assert_int_equal(ds_seed_iso(files, n, &iso, &len, err, sizeof(err)),
			 -1);
	assert_null(iso);
	assert_string_equal(err, want);
}

static void test_bad_names(void **state)
{
	const struct ds_seed_file twice[] = {
	    FILE_OF("meta-data", meta_data),
	    FILE_OF("meta-data", meta_data),
	};
	const struct ds_seed_file slash[] = {FILE_OF("a/b", meta_data)};
	const struct ds_seed_file dot[] = {FILE_OF("..", meta_data)};
	const struct ds_seed_file empty[] = {FILE_OF("", meta_data)};

	refused(twice, 2, "'meta-data' is given twice");
	refused(slash, 1,
		"'a/b' is not a seed file name: 1 to 64 letters, digits, "
		"'.', '_' or '-', starting with a letter or digit");
	refused(dot, 1,
		"'..' is not a seed file name: 1 to 64 letters, digits, "
		"'.', '_' or '-', starting with a letter or digit");
	refused(empty, 1,
		"'' is not a seed file name: 1 to 64 letters, digits, "
		"'.', '_' or '-', starting with a letter or digit");
}

static void digest(const struct ds_seed_file *files, size_t n, char hex[33])
{
	memset(hex, 'x', 33);
	ds_seed_digest(files, n, hex);
	assert_int_equal(strlen(hex), 32);
	assert_int_equal(strspn(hex, "0123456789abcdef"), 32);
}

static void test_digest(void **state)
{
	char base[33], other[33];
	char copy[sizeof(meta_data)];
	struct ds_seed_file files[N_SEED];

	memcpy(files, seed, sizeof(files));
	digest(seed, N_SEED, base);
	/* the same names and bytes, elsewhere in memory */
	memcpy(copy, meta_data, sizeof(copy));
	files[1].data = copy;
	digest(files, N_SEED, other);
	assert_string_equal(base, other);
	/* one byte of content */
	copy[0] = 'I';
	digest(files, N_SEED, other);
	assert_string_not_equal(base, other);
	copy[0] = meta_data[0];
	/* a name */
	files[2].name = "network-confiG";
	digest(files, N_SEED, other);
	assert_string_not_equal(base, other);
	/* a file fewer */
	digest(seed, N_SEED - 1, other);
	assert_string_not_equal(base, other);
}

/* Bytes moved across the boundary between a name and its content, or
 * between two files, give another digest. */
static void test_digest_boundaries(void **state)
{
	const struct ds_seed_file a[] = {{"ab", "c", 1}};
	const struct ds_seed_file b[] = {{"a", "bc", 2}};
	const struct ds_seed_file c[] = {{"a", "b", 1}, {"c", "", 0}};
	const struct ds_seed_file d[] = {{"a", "bc", 2}, {"", "", 0}};
	char ha[33], hb[33], hc[33], hd[33], none[33];

	digest(a, 1, ha);
	digest(b, 1, hb);
	digest(c, 2, hc);
	digest(d, 2, hd);
	digest(NULL, 0, none);
	assert_string_not_equal(ha, hb);
	assert_string_not_equal(hb, hc);
	assert_string_not_equal(hb, hd);
	assert_string_not_equal(hc, hd);
	assert_string_not_equal(none, ha);
}

#define accepted(name, text) accepted_at(name, text, __FILE__, __LINE__)
static void accepted_at(const char *name, const char *text, const char *file,
			int line)
{
	unsigned l = 0, c = 0;
	char msg[256] = "";

	if (ds_cloudinit_check(name, text, strlen(text), &l, &c, msg,
			       sizeof(msg)) < 0) {
		print_error("%s refused at %u:%u: %s\n", name, l, c, msg);
		_fail(file, line);
	}
}

#define refused_at(name, text, line, col, want) \
	refused_at_(name, text, line, col, want, __FILE__, __LINE__)
static void refused_at_(const char *name, const char *text, unsigned want_l,
			unsigned want_c, const char *want, const char *file,
			int line)
{
	unsigned l = 0, c = 0;
	char msg[256] = "";

	_assert_int_equal(ds_cloudinit_check(name, text, strlen(text), &l, &c,
					     msg, sizeof(msg)),
			  -1, file, line);
	if (l != want_l || c != want_c || strcmp(msg, want))
		print_error("%s: got %u:%u: %s\n", name, l, c, msg);
	_assert_int_equal(l, want_l, file, line);
	_assert_int_equal(c, want_c, file, line);
	_assert_string_equal(msg, want, file, line);
}

static void test_meta_data(void **state)
{
	accepted("meta-data", meta_data);
	accepted("meta-data", "");
	accepted("meta-data", "# nothing yet\n");
	accepted("meta-data", "---\n");
	accepted("meta-data", "{instance-id: web01}\n");
	refused_at("meta-data",
		   "instance-id: web01\n"
		   "local-hostname: web01: web02\n",
		   2, 22, "mapping values are not allowed in this context");
	refused_at("meta-data",
		   "instance-id: web01\n"
		   "public-keys: [ssh-ed25519 AAAA\n",
		   3, 1,
		   "did not find expected ',' or ']' (while parsing a flow "
		   "sequence at line 2)");
	refused_at("meta-data", "web01\n", 1, 1,
		   "a single value at the top, where cloud-init expects a "
		   "mapping");
	refused_at("meta-data", "a: 1\n---\nb: 2\n", 2, 1,
		   "expected a single document in the stream, but found "
		   "another document");
	refused_at("meta-data", "a: 1\nb: caf\xe9\n", 2, 7,
		   "incomplete UTF-8 octet sequence");
}

static void test_network_config(void **state)
{
	accepted("network-config", network_config);
	refused_at("network-config",
		   "# a list of version 1 entries, without the mapping\n"
		   "- type: physical\n"
		   "  name: eth0\n",
		   2, 1,
		   "a list at the top, where cloud-init expects a mapping");
	refused_at("network-config", "version: 2\n\tethernets: {}\n", 2, 1,
		   "found a tab character that violates indentation (while "
		   "scanning a plain scalar at line 1)");
}

static void test_user_data(void **state)
{
	accepted("user-data", user_data);
	accepted("user-data", "#cloud-config\n");
	accepted("user-data", "#cloud-config\r\nhostname: web01\r\n");
	/* not YAML, and not read as YAML */
	accepted("user-data", "#!/bin/sh\necho 'a: b: [c' > /tmp/x\n");
	accepted("user-data", "#include\nhttps://example.org/seed\n");
	accepted("user-data", "Content-Type: multipart/mixed; boundary=\"b\"\n"
			      "MIME-Version: 1.0\n\n--b\n: [\n--b--\n");
	accepted("user-data", "## template: jinja\n#cloud-config\n"
			      "hostname: {{ v1.local_hostname }}\n: [\n");
	accepted("user-data", "#cloud-boothook\n#!/bin/sh\n: [\n");
	accepted("user-data",
		 "#cloud-config-archive\n- type: text/x-shellscript"
		 "\n  content: 'a: [\n");
	accepted("user-data", "\x1f\x8b\x08\x00 gzip: [\n");
	accepted("user-data", "");
	accepted("vendor-data", "#!/bin/sh\n: [\n");
	accepted("README", "#cloud-config\n: [\n");
	refused_at("user-data", "#cloud-config\npackages: [nginx\n", 3, 1,
		   "did not find expected ',' or ']' (while parsing a flow "
		   "sequence at line 2)");
	refused_at("user-data", "#cloud-config\n- nginx\n", 2, 1,
		   "a list at the top, where cloud-init expects a mapping");
	refused_at("vendor-data", "#cloud-config\na: b: c\n", 2, 5,
		   "mapping values are not allowed in this context");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_label_is_cidata),
	    cmocka_unit_test(test_files_read_back),
	    cmocka_unit_test(test_empty_and_binary_files),
	    cmocka_unit_test(test_deterministic),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_digest),
	    cmocka_unit_test(test_digest_boundaries),
	    cmocka_unit_test(test_meta_data),
	    cmocka_unit_test(test_network_config),
	    cmocka_unit_test(test_user_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
