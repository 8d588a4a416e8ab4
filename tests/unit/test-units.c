/* Unit tests: units (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

#define KIB UINT64_C(1)
#define MIB (UINT64_C(1) << 10)
#define GIB (UINT64_C(1) << 20)
#define TIB (UINT64_C(1) << 30)
#define PIB (UINT64_C(1) << 40)
#define EIB (UINT64_C(1) << 50)

static const char msg_not_size[] =
    "expected a size: a whole number of KiB or a string such as \"512 MiB\"";
static const char msg_too_large[] = "size is too large";
static const char msg_decimal[] =
    "size must be a whole number; use a smaller unit";
static const char msg_unit[] = "unknown unit; use b, KB, k or KiB, MB, M or "
			       "MiB, GB, G or GiB, TB, T or TiB";

/* Asserts that s parses to want KiB; failures name the caller's line. */
#define size_ok(s, want) size_ok_at(s, want, __FILE__, __LINE__)
static void size_ok_at(const char *s, uint64_t want, const char *file, int line)
{
	uint64_t kib = UINT64_C(0xdeadbeef);
	const char *err = NULL;
	int r = ds_size_parse(s, &kib, &err);

	if (r != 0 || kib != want)
		print_error("input \"%s\": r=%d kib=%" PRIu64 " err=%s\n", s, r,
			    kib, err ? err : "(none)");
	_assert_int_equal(r, 0, file, line);
	_assert_int_equal(kib, want, file, line);
}

/* Asserts that s is rejected with message msg and *ret_kib left alone. */
#define size_bad(s, msg) size_bad_at(s, msg, __FILE__, __LINE__)
static void size_bad_at(const char *s, const char *msg, const char *file,
			int line)
{
	uint64_t kib = UINT64_C(0xdeadbeef);
	const char *err = NULL;
	int r = ds_size_parse(s, &kib, &err);

	if (r != -EINVAL)
		print_error("input \"%s\": r=%d kib=%" PRIu64 "\n", s, r, kib);
	_assert_int_equal(r, -EINVAL, file, line);
	_assert_true(err != NULL, "err != NULL", file, line);
	_assert_string_equal(err, msg, file, line);
	_assert_int_equal(kib, UINT64_C(0xdeadbeef), file, line);
}

static void test_binary_units(void **state)
{
	size_ok("1 KiB", KIB);
	size_ok("1 k", KIB);
	size_ok("1 MiB", MIB);
	size_ok("1 M", MIB);
	size_ok("1 GiB", GIB);
	size_ok("1 G", GIB);
	size_ok("1 TiB", TIB);
	size_ok("1 T", TIB);
	size_ok("1 PiB", PIB);
	size_ok("1 P", PIB);
	size_ok("1 EiB", EIB);
	size_ok("1 E", EIB);
	size_ok("3 GiB", 3 * GIB);
	size_ok("512 MiB", 512 * MIB);
	size_ok("7 EiB", 7 * EIB);
}

static void test_decimal_units(void **state)
{
	/* 1000-based, rounded up to whole KiB. */
	size_ok("1 KB", 1);                      /* 1000 b */
	size_ok("1024 KB", 1000);                /* 1024000 b */
	size_ok("1 MB", 977);                    /* 1000000 b = 976.5625 KiB */
	size_ok("1 GB", 976563);                 /* 976562.5 KiB */
	size_ok("1 TB", 976562500);              /* exact */
	size_ok("1 PB", UINT64_C(976562500000)); /* exact */
	size_ok("1 EB", UINT64_C(976562500000000));
	size_ok("2048 KB", 2000);
	size_ok("3 KB", 3); /* 3000 b = 2.93 KiB */
}

static void test_bytes(void **state)
{
	size_ok("0 b", 0);
	size_ok("1 b", 1);
	size_ok("1023 b", 1);
	size_ok("1024 b", 1);
	size_ok("1025 b", 2);
	size_ok("2048 b", 2);
	size_ok("1 bytes", 1);
	size_ok("1048576 bytes", MIB);
	size_ok("1048577 bytes", MIB + 1);
}

/* libvirt's virScaleInteger() also takes "byte". */
static void test_byte_singular(void **state)
{
	size_ok("1024 byte", 1);
	size_ok("1 Byte", 1);
}

static void test_case_insensitive(void **state)
{
	size_ok("1 kib", KIB);
	size_ok("1 KIB", KIB);
	size_ok("1 K", KIB);
	size_ok("1 mib", MIB);
	size_ok("1 MIB", MIB);
	size_ok("1 mIb", MIB);
	size_ok("1 m", MIB);
	size_ok("1 g", GIB);
	size_ok("1 gib", GIB);
	size_ok("1 tib", TIB);
	size_ok("1 t", TIB);
	size_ok("1 pib", PIB);
	size_ok("1 eib", EIB);
	/* As in libvirt, "kB", "Kb" and "kb" all mean 1000 bytes. */
	size_ok("1024 kB", 1000);
	size_ok("1024 Kb", 1000);
	size_ok("1024 kb", 1000);
	size_ok("1 mb", 977);
	size_ok("1 tb", 976562500);
	size_ok("1 eb", UINT64_C(976562500000000));
	size_ok("2048 B", 2);
	size_ok("2048 BYTES", 2);
	size_ok("2048 Bytes", 2);
}

static void test_no_unit_is_kib(void **state)
{
	size_ok("0", 0);
	size_ok("1", 1);
	size_ok("524288", 512 * MIB);
	size_ok("  42  ", 42);
	size_ok("007", 7);
}

static void test_spaces(void **state)
{
	size_ok("512MiB", 512 * MIB);
	size_ok(" 512  MiB ", 512 * MIB);
	size_ok("\t512\tMiB\n", 512 * MIB);
	size_ok("2G", 2 * GIB);
	size_ok("1024b", 1);
	size_ok("1024KB", 1000);
}

static void test_errors(void **state)
{
	size_bad("", msg_not_size);
	size_bad("   ", msg_not_size);
	size_bad("lots", msg_not_size);
	size_bad("MiB", msg_not_size);
	size_bad("-1", msg_not_size);
	size_bad("-1 MiB", msg_not_size);
	size_bad(" -5", msg_not_size);
	size_bad("+5", msg_not_size);
	size_bad("1.5 GiB", msg_decimal);
	size_bad("1.5", msg_decimal);
	size_bad("0.5GiB", msg_decimal);
	size_bad("1,5 GiB", msg_unit);
	size_bad("1 Mb/s", msg_unit);
	size_bad("1Mb/s", msg_unit);
	size_bad("1 MiBs", msg_unit);
	size_bad("1 Mi", msg_unit);
	size_bad("1 M iB", msg_unit);
	size_bad("1 iB", msg_unit);
	size_bad("1 bb", msg_unit);
	size_bad("1 kilobytes", msg_unit);
	size_bad("1 ZiB", msg_unit);
	size_bad("1 x", msg_unit);
	size_bad("0x10", msg_unit);
	size_bad("1 2", msg_unit);
	size_bad("1 MiB!", msg_unit);
}

static void test_too_large(void **state)
{
	size_bad("99999999999999999999", msg_too_large);
	size_bad("99999999999999999999 b", msg_too_large);
	size_bad("18446744073709551616 b", msg_too_large); /* 2^64 */
	size_bad("20 EiB", msg_too_large);                 /* overflows */
	size_bad("16 EiB", msg_too_large);                 /* 2^64 b */
	size_bad("8 EiB", msg_too_large);                  /* 2^63 b */
	size_bad("10 EB", msg_too_large);                  /* > 2^63 b */
	size_ok("9 EB", UINT64_C(8789062500000000));       /* < 2^63 b */
	size_bad("18446744073709551615 b", msg_too_large);
	size_bad("18446744073709551615", msg_too_large);
	size_bad("9007199254740992 MiB", msg_too_large);
}

static void test_max_boundary(void **state)
{
	char buf[64];

	assert_int_equal(DS_SIZE_MAX_KIB, UINT64_C(9007199254740991));
	size_ok("9007199254740991", DS_SIZE_MAX_KIB);
	size_ok("9007199254740991 KiB", DS_SIZE_MAX_KIB);
	size_bad("9007199254740992", msg_too_large);
	size_bad("9007199254740992 KiB", msg_too_large);
	/* DS_SIZE_MAX_KIB * 1024 bytes fits; one byte more rounds past it. */
	snprintf(buf, sizeof(buf), "%" PRIu64 " b", DS_SIZE_MAX_KIB * 1024);
	size_ok(buf, DS_SIZE_MAX_KIB);
	snprintf(buf, sizeof(buf), "%" PRIu64 " b", DS_SIZE_MAX_KIB * 1024 + 1);
	size_bad(buf, msg_too_large);
	size_ok("8796093022207 MiB", DS_SIZE_MAX_KIB - 1023);
	size_bad("8796093022208 MiB", msg_too_large);
}

#define fmt_is(kib, want) fmt_is_at(kib, want, __FILE__, __LINE__)
static void fmt_is_at(uint64_t kib, const char *want, const char *file,
		      int line)
{
	char buf[DS_SIZE_BUFLEN];

	memset(buf, 'x', sizeof(buf));
	_assert_true(ds_size_format(kib, buf, sizeof(buf)) == buf,
		     "returns buf", file, line);
	_assert_string_equal(buf, want, file, line);
}

static void test_format(void **state)
{
	fmt_is(0, "0 KiB");
	fmt_is(1, "1 KiB");
	fmt_is(1023, "1023 KiB");
	fmt_is(1024, "1 MiB");
	fmt_is(1025, "1025 KiB");
	fmt_is(1536, "1536 KiB");
	fmt_is(512 * MIB, "512 MiB");
	fmt_is(1536 * MIB, "1536 MiB");
	fmt_is(1524288, "1524288 KiB");
	fmt_is(GIB, "1 GiB");
	fmt_is(4 * GIB, "4 GiB");
	fmt_is(GIB + MIB, "1025 MiB");
	fmt_is(TIB, "1 TiB");
	fmt_is(3 * TIB, "3 TiB");
	fmt_is(PIB, "1 PiB");
	fmt_is(EIB, "1024 PiB");
	fmt_is(DS_SIZE_MAX_KIB, "9007199254740991 KiB");
	fmt_is(UINT64_MAX, "18446744073709551615 KiB");
}

static void test_format_truncates(void **state)
{
	char buf[4];

	memset(buf, 'x', sizeof(buf));
	assert_ptr_equal(ds_size_format(512 * MIB, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "512");
}

/* What ds_size_format() writes, ds_size_parse() reads back. */
static void test_round_trip(void **state)
{
	static const uint64_t sizes[] = {
	    0,   1,           1023, 1024, 1025,          524288,          GIB,
	    TIB, 5 * TIB + 7, PIB,  EIB,  3 * PIB + MIB, DS_SIZE_MAX_KIB,
	};
	char buf[DS_SIZE_BUFLEN];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		uint64_t kib = UINT64_MAX;
		const char *err = NULL;

		ds_size_format(sizes[i], buf, sizeof(buf));
		assert_int_equal(ds_size_parse(buf, &kib, &err), 0);
		assert_int_equal(kib, sizes[i]);
	}
}

/* Numbers as libvirt reads them with base 0: 0x for hexadecimal, a
 * leading 0 for octal; -1 is libvirt's "any". */
static void test_number(void **state)
{
	static const struct {
		const char *s;
		int64_t want;
	} ok[] = {{"0x15E1", 0x15e1}, {"0x15e1", 0x15e1}, {"5601", 5601},
		  {"010", 8},         {"0", 0},           {"-1", -1}};
	static const char *const bad[] = {"",   "15E1", "0x", "0x1g",
					  " 1", "+1",   "-2", "1 "};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		assert_int_equal(ds_number_parse(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(ds_number_parse(bad[i], &v), -EINVAL);
}

/* USB versions as libvirt reads them: one digit after the point is tens
 * (9.4 is 9.40), two are as written (1.09). */
static void test_usb_version(void **state)
{
	static const struct {
		const char *s;
		unsigned want;
	} ok[] = {{"9.4", 940}, {"9.40", 940},  {"1.09", 109},
		  {"2.0", 200}, {"02.00", 200}, {"99.99", 9999}};
	static const char *const bad[] = {"",      "9",   "9.",   ".4", "100.0",
					  "1.100", "1,0", "1.0 ", "-1"};
	unsigned v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		assert_int_equal(ds_usb_version_parse(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(ds_usb_version_parse(bad[i], &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_binary_units),
	    cmocka_unit_test(test_decimal_units),
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_byte_singular),
	    cmocka_unit_test(test_case_insensitive),
	    cmocka_unit_test(test_no_unit_is_kib),
	    cmocka_unit_test(test_spaces),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_max_boundary),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_format_truncates),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_number),
	    cmocka_unit_test(test_usb_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
