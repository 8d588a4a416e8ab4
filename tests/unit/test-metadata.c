/* Unit tests: <metadata>'s elements, compared canonically and made ready
 * for virDomainSetMetadata (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metadata.h"

static void test_equal_as_libvirt_rewrites(void **state)
{
	(void)state;
	/* prefixes, the default namespace, layout, quotes, attribute order,
	 * comments and unused declarations are not the element */
	assert_true(ds_metadata_equal(
	    "<info xmlns=\"urn:a\" b='1' a='2'>\n  <x>t</x>\n  <!-- c -->\n"
	    "</info>\n",
	    "<p:info xmlns:p=\"urn:a\" xmlns:q=\"urn:unused\" a=\"2\" "
	    "b=\"1\"><p:x>t</p:x></p:info>"));
	assert_true(ds_metadata_equal(
	    "<a:x xmlns:a='urn:a' xmlns:b='urn:b' b:k='1' a:k='2'/>",
	    "<q:x xmlns:q='urn:a' xmlns:p='urn:b' q:k='2' p:k='1'/>"));
	assert_true(
	    ds_metadata_equal("<x xmlns='urn:a'>a &amp; b</x>",
			      "<x xmlns='urn:a'><![CDATA[a & b]]></x>"));
}

static void test_unequal(void **state)
{
	(void)state;
	/* text, its blanks, attributes, names and namespaces are */
	assert_false(ds_metadata_equal("<x xmlns='urn:a'>t</x>",
				       "<x xmlns='urn:a'> t</x>"));
	assert_false(ds_metadata_equal("<x xmlns='urn:a' k='1'/>",
				       "<x xmlns='urn:a' k='2'/>"));
	assert_false(
	    ds_metadata_equal("<x xmlns='urn:a'/>", "<y xmlns='urn:a'/>"));
	assert_false(ds_metadata_equal("<x xmlns='urn:a'><y/></x>",
				       "<x xmlns='urn:a'><y xmlns=''/></x>"));
	assert_false(ds_metadata_equal(
	    "<a:x xmlns:a='urn:a' xmlns:b='urn:b' a:k='1'/>",
	    "<a:x xmlns:a='urn:a' xmlns:b='urn:b' b:k='1'/>"));
	assert_false(ds_metadata_equal("<x xmlns='urn:a'><y/><z/></x>",
				       "<x xmlns='urn:a'><z/><y/></x>"));
	/* what does not read is equal to itself alone */
	assert_true(ds_metadata_equal("<x", "<x"));
	assert_false(ds_metadata_equal("<x", "<x xmlns='urn:a'/>"));
}

static void test_read(void **state)
{
	char why[256];
	xmlDocPtr doc = NULL;

	(void)state;
	assert_int_equal(ds_metadata_read("<x xmlns='urn:a'/>", "urn:a", &doc,
					  why, sizeof(why)),
			 0);
	assert_string_equal((const char *)xmlDocGetRootElement(doc)->name, "x");
	xmlFreeDoc(doc);
	assert_int_equal(ds_metadata_read("<x xmlns='urn:b'/>", "urn:a", &doc,
					  why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "holds <x> of urn:b, not of urn:a");
	assert_int_equal(ds_metadata_read("", "urn:a", &doc, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "holds no element");
}

static void set_ok(const char *text, const char *uri, const char *want_xml,
		   const char *want_prefix)
{
	char *xml = NULL, *prefix = NULL;

	assert_int_equal(ds_metadata_for_set(text, uri, &xml, &prefix), 0);
	assert_string_equal(xml, want_xml);
	assert_string_equal(prefix, want_prefix);
	free(xml);
	free(prefix);
}

static void test_for_set(void **state)
{
	(void)state;
	/* libvirt puts the element and its children into the namespace
	 * under the prefix it is given */
	set_ok("<app:info xmlns:app='urn:a' k='v'><app:x>t</app:x></app:info>",
	       "urn:a", "<info k=\"v\"><x>t</x></info>", "app");
	set_ok("<info xmlns='urn:a'><x/></info>", "urn:a", "<info><x/></info>",
	       "md");
	/* other namespaces stay declared */
	set_ok("<a:info xmlns:a='urn:a' xmlns:o='urn:o'><o:x/></a:info>",
	       "urn:a", "<info xmlns:o=\"urn:o\"><o:x/></info>", "a");
	/* an attribute of the namespace keeps its prefix; libvirt gets
	 * another */
	set_ok("<a:info xmlns:a='urn:a' a:k='v'/>", "urn:a",
	       "<info xmlns:a=\"urn:a\" a:k=\"v\"/>", "a1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equal_as_libvirt_rewrites),
	    cmocka_unit_test(test_unequal),
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_for_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
