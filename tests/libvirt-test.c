/* Integration on libvirt's in-process test hypervisor (test:///): plan and
 * apply against real libvirt calls, every row of the converging table that
 * the test driver supports, and a second pass that writes nothing. Each
 * test opens its own instance (test:///PATH, from a node file holding one
 * unmanaged domain, as test:///default does), so tests cannot see each
 * other's domains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "connect.h"
#include "import-domain.h"
#include "pass.h"

/* virDomainShutdown, through the linker (--wrap): the test driver shuts a
 * guest off at once, so a test asks for a guest that ignores the request,
 * and for another agent to mark the domain meanwhile. */
static bool shutdown_ignored;
static const char *shutdown_remark; /* XML of a mark, or NULL */
int __real_virDomainShutdown(virDomainPtr d);
int __wrap_virDomainShutdown(virDomainPtr d);
int __wrap_virDomainShutdown(virDomainPtr d)
{
	if (shutdown_remark &&
	    virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
				 shutdown_remark, RC_MARK_PREFIX, RC_MARK_URI,
				 VIR_DOMAIN_AFFECT_CONFIG) < 0)
		return -1;
	return shutdown_ignored ? 0 : __real_virDomainShutdown(d);
}

/* virDomainGetXMLDesc, through the linker: fails while xml_desc_fails is
 * set, with libvirt's own error (flags it refuses), so that reading a
 * domain fails half-way. */
static bool xml_desc_fails;
char *__real_virDomainGetXMLDesc(virDomainPtr d, unsigned flags);
char *__wrap_virDomainGetXMLDesc(virDomainPtr d, unsigned flags);
char *__wrap_virDomainGetXMLDesc(virDomainPtr d, unsigned flags)
{
	return __real_virDomainGetXMLDesc(d, xml_desc_fails ? ~0u : flags);
}

struct ctx {
	virConnectPtr conn;
	char dir[64];  /* the desired-state directory */
	char node[64]; /* the test driver's node file */
};

/* The test driver's own domain, as test:///default has it. */
static const char node_xml[] =
    "<node><domain type='test'><name>test</name>"
    "<memory>8388608</memory><currentMemory>2097152</currentMemory>"
    "<vcpu>2</vcpu><os><type>hvm</type></os></domain></node>\n";

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct rc_err e;

	char uri[96];
	FILE *f;

	rc_init();
	umask(022); /* the files written here are trusted, whatever the umask */
	if (!c)
		return -1;
	strcpy(c->dir, "/tmp/vr-test-XXXXXX");
	strcpy(c->node, "/tmp/vr-node-XXXXXX");
	if (!mkdtemp(c->dir) || !mkdtemp(c->node))
		return -1;
	strcat(c->node, "/node.xml");
	f = fopen(c->node, "w");
	if (!f || fputs(node_xml, f) < 0 || fclose(f) != 0)
		return -1;
	snprintf(uri, sizeof(uri), "test://%s", c->node);
	if (rc_connect(uri, &c->conn, &e) < 0)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[192];

	shutdown_ignored = false;
	shutdown_remark = NULL;
	xml_desc_fails = false;

	*strrchr(c->node, '/') = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", c->dir, c->node);
	if (system(cmd) != 0)
		return -1;
	virConnectClose(c->conn);
	free(c);
	return 0;
}

static void write_file(struct ctx *c, const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void remove_file(struct ctx *c, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	assert_int_equal(unlink(path), 0);
}

/* One pass read as o says; returns the plan's action count, applies when
 * asked, and leaves the phase of `name` in *phase. */
static size_t pass_with(struct ctx *c, bool apply, const struct rc_pass_opts *o,
			const char *name, enum rc_phase *phase, size_t *writes)
{
	struct rc_pass p = {0};
	struct rc_err e;
	struct rc_apply_stats stats = {0};
	struct rc_apply_opts opts = {.shutdown_timeout = 5};
	size_t actions;

	assert_int_equal(rc_pass_plan(c->conn, c->dir, o, &p, &e), 0);
	actions = rc_plan_count_actions(&p.plan);
	if (getenv("VR_TEST_VERBOSE"))
		rc_plan_print(&p.plan, stderr);
	if (apply)
		rc_apply(c->conn, &p.plan, &opts, &stats);
	for (size_t i = 0; apply && i < p.plan.n; i++)
		if (getenv("VR_TEST_VERBOSE") && p.plan.domains[i].reason)
			fprintf(stderr, "after apply: %s: %s: %s\n",
				p.plan.domains[i].name,
				rc_phase_name(p.plan.domains[i].phase),
				p.plan.domains[i].reason);
	if (writes)
		*writes = stats.writes;
	for (size_t i = 0; phase && i < p.plan.n; i++)
		if (p.plan.domains[i].name &&
		    !strcmp(p.plan.domains[i].name, name))
			*phase = p.plan.domains[i].phase;
	rc_pass_finish(&p);
	return actions;
}

static size_t pass(struct ctx *c, bool apply, bool prune, const char *name,
		   enum rc_phase *phase, size_t *writes)
{
	return pass_with(c, apply, &(struct rc_pass_opts){.prune = prune}, name,
			 phase, writes);
}

static virDomainPtr lookup(struct ctx *c, const char *name)
{
	virDomainPtr d = virDomainLookupByName(c->conn, name);

	assert_non_null(d);
	return d;
}

static const char web[] = "name: web\n"
			  "memory: 1 GiB\n"
			  "currentMemory: 768 MiB\n"
			  "vcpu: {value: 4, current: 2}\n"
			  "autostart: true\n";

static void test_define_start_then_nothing(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph = RC_PHASE_ERROR;
	size_t writes = 99;
	virDomainInfo info;
	int autostart = 0;

	write_file(c, "web.yaml", web);
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 3);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	virDomainPtr d = lookup(c, "web");
	assert_int_equal(virDomainGetInfo(d, &info), 0);
	assert_int_equal(info.state, VIR_DOMAIN_RUNNING);
	assert_int_equal(info.nrVirtCpu, 2);
	assert_int_equal(info.memory, 768 * 1024);
	assert_int_equal(virDomainGetAutostart(d, &autostart), 0);
	assert_int_equal(autostart, 1);
	virDomainFree(d);
	/* The second pass finds nothing to do and writes nothing. */
	assert_int_equal(pass(c, true, false, "web", &ph, &writes), 0);
	assert_int_equal(writes, 0);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
}

static void test_live_vcpus_and_memory(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph;
	virDomainInfo info;
	unsigned id;

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	virDomainPtr d = lookup(c, "web");
	id = virDomainGetID(d);
	write_file(c, "web.yaml",
		   "name: web\nmemory: 1 GiB\ncurrentMemory: 512 MiB\n"
		   "vcpu: {value: 4, current: 3}\nautostart: true\n");
	/* config and live for each: four calls */
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 4);
	assert_int_equal(virDomainGetInfo(d, &info), 0);
	assert_int_equal(info.nrVirtCpu, 3);
	assert_int_equal(info.memory, 512 * 1024);
	assert_int_equal(virDomainGetID(d), id); /* not restarted */
	assert_int_equal(virDomainGetVcpusFlags(d, VIR_DOMAIN_AFFECT_CONFIG),
			 3);
	assert_int_equal(pass(c, false, false, "web", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	virDomainFree(d);
}

static void test_restart_required(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph;

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	write_file(c, "web.yaml",
		   "name: web\nmemory: 1 GiB\ncurrentMemory: 768 MiB\n"
		   "vcpu: {value: 6, current: 2}\nautostart: true\n");
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 1);
	assert_int_equal(ph, RC_PHASE_RESTART_REQUIRED);
	virDomainPtr d = lookup(c, "web");
	assert_int_equal(virDomainGetVcpusFlags(d, VIR_DOMAIN_AFFECT_CONFIG |
						       VIR_DOMAIN_VCPU_MAXIMUM),
			 6);
	assert_int_equal(virDomainGetMaxVcpus(d), 4); /* still running as 4 */
	/* Reported, not redone, until the guest restarts. */
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_RESTART_REQUIRED);
	assert_int_equal(virDomainDestroy(d), 0);
	assert_int_equal(virDomainCreate(d), 0);
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	virDomainFree(d);
}

static void test_drift_undone(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph;
	int autostart = 1;

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	virDomainPtr d = lookup(c, "web");
	assert_int_equal(virDomainSetVcpusFlags(d, 1, VIR_DOMAIN_AFFECT_CONFIG),
			 0);
	assert_int_equal(virDomainSetAutostart(d, 0), 0);
	assert_int_equal(virDomainDestroy(d), 0);
	/* config vcpus, autostart, start */
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 3);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	assert_int_equal(virDomainIsActive(d), 1);
	assert_int_equal(virDomainGetVcpusFlags(d, VIR_DOMAIN_AFFECT_CONFIG),
			 2);
	assert_int_equal(virDomainGetAutostart(d, &autostart), 0);
	assert_int_equal(autostart, 1);
	virDomainFree(d);
}

static void test_redefine_keeps_generated(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph;
	char uuid[VIR_UUID_STRING_BUFLEN], uuid2[VIR_UUID_STRING_BUFLEN];

	write_file(c, "web.yaml",
		   "name: web\nmemory: 1 GiB\nstate: shutoff\n"
		   "devices: {interface: [{type: network, source: {network: "
		   "default}}]}\n");
	pass(c, true, false, "web", NULL, NULL);
	virDomainPtr d = lookup(c, "web");
	assert_int_equal(virDomainGetUUIDString(d, uuid), 0);
	char *xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	char *mac = strstr(xml, "<mac address='");
	assert_non_null(mac);
	mac[31] = 0;
	write_file(c, "web.yaml",
		   "name: web\nmemory: 1 GiB\nstate: shutoff\ntitle: Web\n"
		   "devices: {interface: [{type: network, source: {network: "
		   "default}, model: virtio}]}\n");
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 1);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	char *xml2 = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	assert_non_null(strstr(xml2, mac)); /* the MAC libvirt made is kept */
	assert_non_null(strstr(xml2, "<model type='virtio'/>"));
	assert_non_null(strstr(xml2, "<title>Web</title>"));
	assert_int_equal(virDomainGetUUIDString(d, uuid2), 0);
	assert_string_equal(uuid, uuid2);
	assert_int_equal(pass(c, false, false, "web", &ph, NULL), 0);
	free(xml);
	free(xml2);
	virDomainFree(d);
}

/* The element of namespace uri in the domain's <metadata> (config or
 * live), or NULL. */
static char *metadata_of(virDomainPtr d, const char *uri, unsigned where)
{
	return virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, uri, where);
}

static void test_metadata_redefine_keeps_others(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph;
	char *app, *os, *mark;

	write_file(c, "web.yaml",
		   "name: web\nmemory: 1 GiB\nstate: shutoff\n"
		   "metadata:\n"
		   "  http://example.org/app/: '<a:info "
		   "xmlns:a=\"http://example.org/app/\">one</a:info>'\n"
		   "  http://example.org/old/: <old xmlns=\"http://example.org/"
		   "old/\"/>\n");
	pass(c, true, false, "web", NULL, NULL);
	virDomainPtr d = lookup(c, "web");
	/* another tool's element, in a namespace the file does not name */
	assert_int_equal(
	    virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
				 "<os id='http://debian.org/debian/12'/>",
				 "libosinfo",
				 "http://libosinfo.org/xmlns/libvirt/"
				 "domain/1.0",
				 VIR_DOMAIN_AFFECT_CONFIG),
	    0);
	assert_int_equal(pass(c, false, false, "web", &ph, NULL), 0);
	write_file(c, "web.yaml",
		   "name: web\nmemory: 1 GiB\nstate: shutoff\n"
		   "metadata:\n"
		   "  http://example.org/app/: '<b:info "
		   "xmlns:b=\"http://example.org/app/\">two</b:info>'\n"
		   "  http://example.org/old/: ''\n");
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 1);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	app =
	    metadata_of(d, "http://example.org/app/", VIR_DOMAIN_AFFECT_CONFIG);
	assert_non_null(app);
	assert_non_null(strstr(app, ">two<"));
	assert_null(metadata_of(d, "http://example.org/old/",
				VIR_DOMAIN_AFFECT_CONFIG));
	os = metadata_of(d, "http://libosinfo.org/xmlns/libvirt/domain/1.0",
			 VIR_DOMAIN_AFFECT_CONFIG);
	assert_non_null(os);
	mark = metadata_of(d, RC_MARK_URI, VIR_DOMAIN_AFFECT_CONFIG);
	assert_non_null(mark);
	assert_int_equal(pass(c, false, false, "web", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	free(app);
	free(os);
	free(mark);
	virDomainFree(d);
}

static void test_metadata_live(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph;
	char *live, *config;
	unsigned id;

	write_file(
	    c, "web.yaml",
	    "name: web\nmemory: 1 GiB\n"
	    "metadata:\n"
	    "  http://example.org/app/: <info xmlns=\"http://example.org/"
	    "app/\"><role>web</role></info>\n");
	pass(c, true, false, "web", NULL, NULL);
	virDomainPtr d = lookup(c, "web");
	id = virDomainGetID(d);
	write_file(
	    c, "web.yaml",
	    "name: web\nmemory: 1 GiB\n"
	    "metadata:\n"
	    "  http://example.org/app/: <info xmlns=\"http://example.org/"
	    "app/\"><role>db</role></info>\n");
	/* the redefine and the live call; no restart */
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 2);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	assert_int_equal(virDomainGetID(d), id);
	live =
	    metadata_of(d, "http://example.org/app/", VIR_DOMAIN_AFFECT_LIVE);
	config =
	    metadata_of(d, "http://example.org/app/", VIR_DOMAIN_AFFECT_CONFIG);
	assert_non_null(live);
	assert_non_null(strstr(live, ">db<"));
	assert_non_null(config);
	assert_non_null(strstr(config, ">db<"));
	/* libvirt's prefix (md:, from the default namespace) is the same
	 * element: nothing more to do */
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	free(live);
	free(config);
	virDomainFree(d);
}

/* What libvirt's own parser rewrites (its test driver's, as QEMU's): an
 * iSCSI source gets LUN 0, the primary video card moves first, a model
 * takes libvirt's spelling, one queue and a coalescing of 0 frames are
 * nothing, a SPICE server without ports listens nowhere. One apply, then
 * nothing: the file compares in sync with what libvirt made of it. */
static const char rewritten[] =
    "name: web\nmemory: 1 GiB\nstate: shutoff\n"
    "devices:\n"
    "  disk: [{source: {protocol: iscsi, name: iqn.1992-01.com.example, "
    "host: [{name: example.org}]}, target: vda}]\n"
    "  interface: [{type: user, model: ViRtIo, driver: {name: vhost, "
    "queues: 1}, coalesce: {rx: {frames: {max: 0}}}}]\n"
    "  graphics: [{type: spice, autoport: false}]\n"
    "  video: [{model: {type: vga}}, {model: {type: qxl, primary: true}}]\n";

static void test_rewrites_in_sync(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph = RC_PHASE_ERROR;
	size_t writes = 99;

	write_file(c, "web.yaml", rewritten);
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 1);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	assert_int_equal(pass(c, true, false, "web", &ph, &writes), 0);
	assert_int_equal(writes, 0);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
}

/* A SPICE server that listened nowhere (libvirt made its listen of type
 * none) given a port: the redefine takes that listen away, or libvirt
 * would keep it and the server would go on listening nowhere. */
static void test_spice_listens_again(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph = RC_PHASE_ERROR;

	write_file(c, "web.yaml", rewritten);
	pass(c, true, false, "web", NULL, NULL);
	write_file(c, "web.yaml",
		   "name: web\nmemory: 1 GiB\nstate: shutoff\n"
		   "devices: {graphics: [{type: spice, autoport: true}]}\n");
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 1);
	assert_int_equal(pass(c, false, false, "web", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	virDomainPtr d = lookup(c, "web");
	char *xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	assert_non_null(strstr(xml, "<listen type='address'/>"));
	free(xml);
	virDomainFree(d);
}

/* Two video cards alike but for 'primary', the second primary: libvirt
 * moves it first. A redefine (for the title) pairs each card with its
 * own, or both would be primary, which libvirt refuses. */
static void test_primary_video_redefined(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph = RC_PHASE_ERROR;
	static const char cards[] =
	    "name: web\nmemory: 1 GiB\nstate: shutoff\n%s"
	    "devices:\n  video:\n  - model: {type: qxl, heads: 1}\n"
	    "  - model: {type: qxl, heads: 1, primary: true}\n";
	char text[256];

	snprintf(text, sizeof(text), cards, "");
	write_file(c, "web.yaml", text);
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 1);
	snprintf(text, sizeof(text), cards, "title: Web\n");
	write_file(c, "web.yaml", text);
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 1);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	assert_int_equal(pass(c, false, false, "web", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
}

static void test_conflict_and_adopt(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph;
	virDomainPtr d = lookup(c, "test"); /* the test driver's own domain */
	char *before = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);

	write_file(c, "test.yaml", "name: test\nmemory: 1 GiB\n");
	assert_int_equal(pass(c, true, false, "test", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_CONFLICT);
	char *after = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	assert_string_equal(before, after); /* left byte for byte */
	/* Adopted: marked, its config made the file's; the running guest
	 * keeps its memory until it restarts. */
	write_file(c, "test.yaml", "name: test\nmemory: 1 GiB\nadopt: true\n");
	assert_true(pass(c, true, false, "test", &ph, NULL) > 0);
	assert_int_equal(pass(c, false, false, "test", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_RESTART_REQUIRED);
	assert_int_equal(virDomainDestroy(d), 0);
	assert_int_equal(virDomainCreate(d), 0);
	assert_int_equal(pass(c, false, false, "test", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	free(before);
	free(after);
	virDomainFree(d);
}

static void test_orphan_and_prune(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph = RC_PHASE_IN_SYNC;

	write_file(c, "web.yaml", web);
	write_file(c, "db.yaml", "name: db\nmemory: 512 MiB\n");
	pass(c, true, false, "web", NULL, NULL);
	remove_file(c, "web.yaml");
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_ORPHANED);
	virDomainFree(lookup(c, "web")); /* kept */
	assert_int_equal(pass(c, true, true, "web", &ph, NULL), 2);
	assert_null(virDomainLookupByName(c->conn, "web"));
	/* Never prune from an empty directory. */
	remove_file(c, "db.yaml");
	assert_int_equal(pass(c, true, true, "db", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_ORPHANED);
	virDomainFree(lookup(c, "db"));
}

static void test_bad_file_touches_nothing(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph;

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	write_file(c, "web.yaml", "name: web\nmemory: [\n");
	assert_int_equal(pass(c, true, true, "web", &ph, NULL), 0);
	virDomainPtr d = lookup(c, "web"); /* not pruned: its file exists */
	assert_int_equal(virDomainIsActive(d), 1);
	virDomainFree(d);
}

static void chmod_file(struct ctx *c, const char *name, mode_t mode)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	assert_int_equal(chmod(path, mode), 0);
}

/* A file others may write is refused on every read and touches nothing:
 * not its domain, nor by pruning it; the other files converge. With
 * --insecure-permissions it is read. */
static void test_untrusted_file_refused(void **state)
{
	const struct rc_pass_opts prune = {.prune = true};
	const struct rc_pass_opts insecure = {.insecure = true};
	struct ctx *c = *state;
	enum rc_phase ph;
	virDomainPtr d;

	write_file(c, "web.yaml", web);
	write_file(c, "db.yaml", "name: db\nmemory: 64 MiB\nstate: shutoff\n");
	pass(c, true, false, "db", NULL, NULL);
	write_file(c, "db.yaml", "name: db\nmemory: 128 MiB\nstate: shutoff\n");
	chmod_file(c, "db.yaml", 0666);
	write_file(c, "new.yaml", "name: new\nmemory: 64 MiB\n");
	chmod_file(c, "new.yaml", 0664);
	pass_with(c, true, &prune, "web", &ph, NULL);
	assert_int_equal(ph, RC_PHASE_IN_SYNC);
	assert_null(virDomainLookupByName(c->conn, "new"));
	d = lookup(c, "db"); /* neither changed nor pruned */
	assert_int_equal(virDomainGetMaxMemory(d), 65536);
	virDomainFree(d);

	pass_with(c, true, &insecure, "db", &ph, NULL);
	assert_int_not_equal(ph, RC_PHASE_ERROR);
	d = lookup(c, "db");
	assert_int_equal(virDomainGetMaxMemory(d), 131072);
	virDomainFree(d);
	virDomainFree(lookup(c, "new"));
}

static void test_limits_refused(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph;

	write_file(c, "big.yaml", "name: big\nmemory: 1 GiB\nvcpu: 16000\n");
	assert_int_equal(pass(c, true, false, "big", &ph, NULL), 0);
	assert_int_equal(ph, RC_PHASE_ERROR);
	assert_null(virDomainLookupByName(c->conn, "big"));
}

static void test_shutoff(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph;

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	write_file(c, "web.yaml",
		   "name: web\nmemory: 1 GiB\ncurrentMemory: 768 MiB\n"
		   "vcpu: {value: 4, current: 2}\nautostart: true\n"
		   "state: shutoff\n");
	assert_int_equal(pass(c, true, false, "web", &ph, NULL), 1);
	virDomainPtr d = lookup(c, "web");
	assert_int_equal(virDomainIsActive(d), 0);
	virDomainFree(d);
	assert_int_equal(pass(c, false, false, "web", &ph, NULL), 0);
}

/* Plans one file of the directory alone, as the agent does. */
static void plan_file(struct ctx *c, const char *name, struct rc_pass *p)
{
	char id[256], path[192];
	struct rc_limits limits;
	struct rc_err e;

	assert_int_equal(rc_dir_identity(c->dir, id, sizeof(id)), 0);
	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	assert_int_equal(rc_limits_read(c->conn, &limits, &e), 0);
	assert_int_equal(
	    rc_pass_plan_file(c->conn, id, path, false, &limits, p, &e), 0);
	rc_limits_finish(&limits);
}

/* The file the domain's mark names, or NULL; the caller frees it. */
static char *mark_file(virDomainPtr d)
{
	char *xml = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
					 RC_MARK_URI, VIR_DOMAIN_AFFECT_CONFIG);
	char *at = xml ? strstr(xml, "file=\"") : NULL;
	char *file = at ? strndup(at + 6, strcspn(at + 6, "\"")) : NULL;

	free(xml);
	return file;
}

/* A renamed file (git mv web.yaml web01.yaml) takes its domain over with
 * one call, the mark: no undefine, no redefine, the same UUID. */
static void test_rename_takes_over(void **state)
{
	struct ctx *c = *state;
	char uuid[VIR_UUID_STRING_BUFLEN], uuid2[VIR_UUID_STRING_BUFLEN];
	struct rc_apply_opts opts = {.shutdown_timeout = 5};
	struct rc_apply_stats stats = {0};
	struct rc_pass p = {0};

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	virDomainPtr d = lookup(c, "web");
	assert_int_equal(virDomainGetUUIDString(d, uuid), 0);
	remove_file(c, "web.yaml");
	write_file(c, "web01.yaml", web);
	plan_file(c, "web01.yaml", &p);
	assert_int_equal(p.plan.n, 1);
	assert_int_equal(p.plan.domains[0].n_actions, 1);
	assert_int_equal(p.plan.domains[0].actions[0].kind, RC_ACT_SET_MARK);
	rc_apply(c->conn, &p.plan, &opts, &stats);
	rc_pass_finish(&p);
	assert_int_equal(stats.writes, 1);
	assert_int_equal(virDomainGetUUIDString(d, uuid2), 0);
	assert_string_equal(uuid, uuid2);
	char *file = mark_file(d);
	assert_string_equal(file, "web01.yaml");
	free(file);
	/* not an orphan, even with --prune */
	assert_int_equal(pass(c, true, true, "web", NULL, NULL), 0);
	virDomainFree(d);
}

/* A copy (web01.yaml beside web.yaml, naming the same domain) takes
 * nothing when planned alone: both files are errors, as in a full pass,
 * and the mark stays web.yaml's. */
static void test_copy_takes_nothing(void **state)
{
	struct ctx *c = *state;
	struct rc_pass p = {0};
	enum rc_phase ph = RC_PHASE_IN_SYNC;

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	write_file(c, "web01.yaml", web);
	plan_file(c, "web01.yaml", &p);
	assert_null(p.set.entries[0].dom);
	assert_int_equal(p.plan.domains[0].phase, RC_PHASE_ERROR);
	assert_int_equal(rc_plan_count_actions(&p.plan), 0);
	rc_pass_finish(&p);
	assert_int_equal(pass(c, true, true, "web", &ph, NULL), 0);
	virDomainPtr d = lookup(c, "web");
	char *file = mark_file(d);
	assert_string_equal(file, "web.yaml");
	free(file);
	virDomainFree(d);
}

/* Marks d as another file or agent would between a plan and its apply:
 * from dir (NULL: the test's own) and file, or no mark when file is
 * NULL. */
static void remark(struct ctx *c, virDomainPtr d, const char *dir,
		   const char *file)
{
	char id[256], xml[512];

	assert_int_equal(rc_dir_identity(c->dir, id, sizeof(id)), 0);
	snprintf(xml, sizeof(xml), "<managed dir='%s' file='%s'/>",
		 dir ? dir : id, file ? file : "");
	assert_int_equal(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
					      file ? xml : NULL, RC_MARK_PREFIX,
					      RC_MARK_URI,
					      VIR_DOMAIN_AFFECT_CONFIG),
			 0);
}

/* Plans the directory; the caller applies and frees. */
static void plan_dir(struct ctx *c, bool prune, struct rc_pass *p)
{
	struct rc_err e;

	assert_int_equal(rc_pass_plan(c->conn, c->dir,
				      &(struct rc_pass_opts){.prune = prune}, p,
				      &e),
			 0);
}

static const struct rc_domain_plan *find_plan(const struct rc_pass *p,
					      const char *name)
{
	for (size_t i = 0; i < p->plan.n; i++)
		if (p->plan.domains[i].name &&
		    !strcmp(p->plan.domains[i].name, name))
			return &p->plan.domains[i];
	fail_msg("no plan for '%s'", name);
	return NULL;
}

/* A prune waits while the renamed file's job marks the domain: the mark is
 * read again before the shutdown and the undefine, and neither is made. */
static void test_prune_rereads_mark(void **state)
{
	struct ctx *c = *state;
	struct rc_apply_opts opts = {.shutdown_timeout = 5};
	struct rc_apply_stats stats = {0};
	struct rc_pass p = {0};

	write_file(c, "web.yaml", web);
	write_file(c, "db.yaml", "name: db\nmemory: 512 MiB\n");
	pass(c, true, false, "web", NULL, NULL);
	remove_file(c, "web.yaml");
	plan_dir(c, true, &p);
	assert_int_equal(find_plan(&p, "web")->n_actions, 2);
	virDomainPtr d = lookup(c, "web");
	remark(c, d, NULL, "web01.yaml");
	rc_apply(c->conn, &p.plan, &opts, &stats);
	assert_int_equal(find_plan(&p, "web")->phase, RC_PHASE_CONFLICT);
	assert_non_null(strstr(find_plan(&p, "web")->reason, "web01.yaml"));
	rc_pass_finish(&p);
	assert_int_equal(stats.writes, 0);
	assert_int_equal(virDomainIsActive(d), 1);     /* neither stopped */
	assert_int_equal(virDomainIsPersistent(d), 1); /* nor undefined */
	virDomainFree(d);
}

/* Nor when the mark was removed meanwhile: the domain is nobody's now. */
static void test_prune_mark_removed(void **state)
{
	struct ctx *c = *state;
	struct rc_apply_opts opts = {.shutdown_timeout = 5};
	struct rc_apply_stats stats = {0};
	struct rc_pass p = {0};

	write_file(c, "web.yaml", "name: web\nmemory: 1 GiB\nstate: shutoff\n");
	write_file(c, "db.yaml", "name: db\nmemory: 512 MiB\n");
	pass(c, true, false, "web", NULL, NULL);
	remove_file(c, "web.yaml");
	plan_dir(c, true, &p);
	assert_int_equal(find_plan(&p, "web")->n_actions, 1);
	virDomainPtr d = lookup(c, "web");
	remark(c, d, NULL, NULL);
	rc_apply(c->conn, &p.plan, &opts, &stats);
	assert_int_equal(find_plan(&p, "web")->phase, RC_PHASE_CONFLICT);
	rc_pass_finish(&p);
	assert_int_equal(stats.writes, 0);
	assert_int_equal(virDomainIsPersistent(d), 1);
	virDomainFree(d);
}

/* A redefine waits while another directory's agent takes the domain: the
 * redefine is not made, and that agent's mark stays. */
static void test_redefine_rereads_mark(void **state)
{
	struct ctx *c = *state;
	struct rc_apply_opts opts = {.shutdown_timeout = 5};
	struct rc_apply_stats stats = {0};
	struct rc_pass p = {0};

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	write_file(c, "web.yaml",
		   "name: web\nmemory: 1 GiB\ncurrentMemory: 768 MiB\n"
		   "vcpu: {value: 4, current: 2}\nautostart: true\n"
		   "title: Web\n");
	plan_dir(c, false, &p);
	assert_int_equal(find_plan(&p, "web")->actions[0].kind,
			 RC_ACT_REDEFINE);
	virDomainPtr d = lookup(c, "web");
	remark(c, d, "/srv/elsewhere", "web.yaml");
	rc_apply(c->conn, &p.plan, &opts, &stats);
	assert_int_equal(find_plan(&p, "web")->phase, RC_PHASE_CONFLICT);
	rc_pass_finish(&p);
	assert_int_equal(stats.writes, 0);
	char *xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	assert_null(strstr(xml, "<title>"));
	assert_non_null(strstr(xml, "/srv/elsewhere"));
	free(xml);
	virDomainFree(d);
}

/* An adoption waits while another agent adopts the same domain: the
 * first mark stays. */
static void test_adopt_rereads_mark(void **state)
{
	struct ctx *c = *state;
	struct rc_apply_opts opts = {.shutdown_timeout = 5};
	struct rc_apply_stats stats = {0};
	struct rc_pass p = {0};
	virDomainPtr d = lookup(c, "test"); /* unmarked */

	write_file(c, "test.yaml",
		   "name: test\nmemory: 8 GiB\n"
		   "currentMemory: 2 GiB\nvcpu: 2\n"
		   "type: test\nadopt: true\n");
	plan_dir(c, false, &p);
	assert_int_equal(find_plan(&p, "test")->actions[0].kind,
			 RC_ACT_SET_MARK);
	remark(c, d, "/srv/elsewhere", "test.yaml");
	rc_apply(c->conn, &p.plan, &opts, &stats);
	assert_int_equal(find_plan(&p, "test")->phase, RC_PHASE_CONFLICT);
	rc_pass_finish(&p);
	assert_int_equal(stats.writes, 0);
	char *file = mark_file(d);
	assert_string_equal(file, "test.yaml");
	free(file);
	char *xml = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
					 RC_MARK_URI, VIR_DOMAIN_AFFECT_CONFIG);
	assert_non_null(strstr(xml, "/srv/elsewhere"));
	free(xml);
	virDomainFree(d);
}

/* A domain the test driver knows only from its XML: a running guest
 * with autostart, devices, a title and raw XML the format has no key
 * for (<memballoon>), and one shut off. */
static const char import_xml[] =
    "<domain type='test'><name>imp</name>"
    "<uuid>1f0e2d3c-4b5a-4697-8877-665544332211</uuid>"
    "<title>on</title><description>first line\nsecond: line</description>"
    "<memory unit='GiB'>1</memory><currentMemory unit='MiB'>768</currentMemory>"
    "<vcpu current='1'>2</vcpu><os><type>hvm</type><boot dev='hd'/></os>"
    "<devices><disk type='file' device='disk'>"
    "<source file='/var/lib/images/imp.img'/>"
    "<target dev='vda' bus='virtio'/></disk>"
    "<interface type='network'><mac address='52:54:00:aa:bb:cc'/>"
    "<source network='default'/></interface>"
    "<memballoon model='virtio'/></devices></domain>";
static const char import_off_xml[] =
    "<domain type='test'><name>off</name>"
    "<uuid>2a0e2d3c-4b5a-4697-8877-665544332211</uuid>"
    "<memory>524288</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
    "</domain>";

/* libvirt's persistent XML without its <metadata>: what the domain is
 * but for the mark. */
static char *without_metadata(virDomainPtr d)
{
	char *xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	char *md = xml ? strstr(xml, "<metadata>") : NULL;
	char *end = md ? strstr(md, "</metadata>") : NULL;

	assert_non_null(xml);
	if (md && end) {
		end += strlen("</metadata>");
		while (*end == '\n' || *end == ' ')
			end++;
		memmove(md, end, strlen(end) + 1);
	}
	return xml;
}

/* Imports a domain of the connection into the directory, as `import -o`
 * does. */
static void import_into(struct ctx *c, const char *name)
{
	virDomainPtr d = lookup(c, name);
	struct ds_import_opts io;
	struct ds_import im;
	struct rc_mark mark;
	struct rc_err e;
	char *xml = NULL, why[256], file[128];

	assert_int_equal(rc_import_read(d, &xml, &io, &mark, &e), 0);
	assert_false(mark.present);
	assert_int_equal(
	    ds_import_xml(xml, strlen(xml), &io, &im, why, sizeof(why)), 0);
	snprintf(file, sizeof(file), "%s.yaml", name);
	write_file(c, file, im.yaml);
	ds_import_finish(&im);
	free(xml);
	virDomainFree(d);
}

/* import, then apply: each domain is taken over with one call, its mark,
 * and is otherwise left as it was (UUID, state, autostart, every element,
 * the raw XML among them); the next pass writes nothing. */
static void test_import_then_apply(void **state)
{
	struct ctx *c = *state;
	struct rc_apply_opts opts = {.shutdown_timeout = 5};
	struct rc_apply_stats stats = {0};
	static const char *const names[] = {"imp", "off", "test"};
	char *before[3];
	int was_active[3], was_autostart[3], autostart;
	char uuid[3][VIR_UUID_STRING_BUFLEN], now[VIR_UUID_STRING_BUFLEN];
	struct rc_pass p = {0};
	size_t writes = 99;

	virDomainPtr d = virDomainDefineXML(c->conn, import_xml);
	assert_non_null(d);
	assert_int_equal(virDomainCreate(d), 0);
	assert_int_equal(virDomainSetAutostart(d, 1), 0);
	virDomainFree(d);
	d = virDomainDefineXML(c->conn, import_off_xml);
	assert_non_null(d);
	virDomainFree(d);
	for (size_t i = 0; i < 3; i++) {
		d = lookup(c, names[i]);
		before[i] = without_metadata(d);
		was_active[i] = virDomainIsActive(d);
		assert_int_equal(virDomainGetAutostart(d, &was_autostart[i]),
				 0);
		assert_int_equal(virDomainGetUUIDString(d, uuid[i]), 0);
		virDomainFree(d);
		import_into(c, names[i]);
	}
	/* the plan: the mark alone, for each */
	plan_dir(c, false, &p);
	for (size_t i = 0; i < 3; i++) {
		const struct rc_domain_plan *dp = find_plan(&p, names[i]);
		if (getenv("VR_TEST_VERBOSE"))
			rc_plan_print(&p.plan, stderr);
		assert_int_equal(dp->phase, RC_PHASE_CONVERGING);
		assert_int_equal(dp->n_actions, 1);
		assert_int_equal(dp->actions[0].kind, RC_ACT_SET_MARK);
		assert_false(dp->actions[0].live);
	}
	rc_apply(c->conn, &p.plan, &opts, &stats);
	rc_pass_finish(&p);
	assert_int_equal(stats.writes, 3);
	for (size_t i = 0; i < 3; i++) {
		d = lookup(c, names[i]);
		char *after = without_metadata(d);
		char *file = mark_file(d);
		char fname[32];
		snprintf(fname, sizeof(fname), "%s.yaml", names[i]);
		assert_string_equal(file, fname);
		assert_string_equal(before[i], after);
		assert_int_equal(virDomainIsActive(d), was_active[i]);
		assert_int_equal(virDomainGetAutostart(d, &autostart), 0);
		assert_int_equal(autostart, was_autostart[i]);
		assert_int_equal(virDomainGetUUIDString(d, now), 0);
		assert_string_equal(now, uuid[i]);
		free(file);
		free(after);
		free(before[i]);
		virDomainFree(d);
	}
	/* taken over: in sync, and nothing written */
	for (size_t i = 0; i < 3; i++) {
		enum rc_phase ph = RC_PHASE_ERROR;
		assert_int_equal(pass(c, true, false, names[i], &ph, &writes),
				 0);
		assert_int_equal(writes, 0);
		assert_int_equal(ph, RC_PHASE_IN_SYNC);
	}
}

/* The calls apply reported, by kind, in order. */
struct seen {
	enum rc_act kinds[8];
	size_t n;
};

static void record_progress(const struct rc_domain_plan *dp,
			    const struct rc_action *a, void *userdata)
{
	struct seen *s = userdata;

	if (s->n < 8)
		s->kinds[s->n++] = a->kind;
}

/* A guest that ignores the shutdown is destroyed after the timeout, and
 * the destroy is a call of its own: reported and counted. */
static void test_shutdown_timeout_destroys(void **state)
{
	struct ctx *c = *state;
	struct seen seen = {0};
	struct rc_apply_opts opts = {.shutdown_timeout = 0,
				     .progress = record_progress,
				     .userdata = &seen};
	struct rc_apply_stats stats = {0};
	struct rc_pass p = {0};

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	write_file(c, "web.yaml",
		   "name: web\nmemory: 1 GiB\ncurrentMemory: 768 MiB\n"
		   "vcpu: {value: 4, current: 2}\nautostart: true\n"
		   "state: shutoff\n");
	plan_dir(c, false, &p);
	shutdown_ignored = true;
	rc_apply(c->conn, &p.plan, &opts, &stats);
	assert_int_equal(find_plan(&p, "web")->phase, RC_PHASE_IN_SYNC);
	rc_pass_finish(&p);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.kinds[0], RC_ACT_SHUTDOWN);
	assert_int_equal(seen.kinds[1], RC_ACT_DESTROY);
	assert_int_equal(stats.writes, 2);
	virDomainPtr d = lookup(c, "web");
	assert_int_equal(virDomainIsActive(d), 0);
	virDomainFree(d);
}

/* A paused guest cannot hear a shutdown: it is destroyed, and what is
 * reported is the destroy, the one call made. */
static void test_paused_destroyed(void **state)
{
	struct ctx *c = *state;
	struct seen seen = {0};
	struct rc_apply_opts opts = {.shutdown_timeout = 5,
				     .progress = record_progress,
				     .userdata = &seen};
	struct rc_apply_stats stats = {0};
	struct rc_pass p = {0};

	write_file(c, "web.yaml", web);
	write_file(c, "db.yaml", "name: db\nmemory: 512 MiB\n");
	pass(c, true, false, "web", NULL, NULL);
	virDomainPtr d = lookup(c, "web");
	assert_int_equal(virDomainSuspend(d), 0);
	remove_file(c, "web.yaml");
	plan_dir(c, true, &p);
	rc_apply(c->conn, &p.plan, &opts, &stats);
	rc_pass_finish(&p);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.kinds[0], RC_ACT_DESTROY);
	assert_int_equal(seen.kinds[1], RC_ACT_UNDEFINE);
	assert_int_equal(stats.writes, 2);
	assert_null(virDomainLookupByName(c->conn, "web"));
	virDomainFree(d);
}

/* A prune's shutdown is ignored, and while it waits the renamed file's
 * job marks the domain: the mark is read again before the destroy, which
 * is not made, nor the undefine. */
static void test_destroy_rereads_mark(void **state)
{
	struct ctx *c = *state;
	struct rc_apply_opts opts = {.shutdown_timeout = 0};
	struct rc_apply_stats stats = {0};
	struct rc_pass p = {0};
	char id[256], xml[512];

	write_file(c, "web.yaml", web);
	write_file(c, "db.yaml", "name: db\nmemory: 512 MiB\n");
	pass(c, true, false, "web", NULL, NULL);
	remove_file(c, "web.yaml");
	plan_dir(c, true, &p);
	assert_int_equal(rc_dir_identity(c->dir, id, sizeof(id)), 0);
	snprintf(xml, sizeof(xml), "<managed dir='%s' file='web01.yaml'/>", id);
	shutdown_ignored = true;
	shutdown_remark = xml;
	rc_apply(c->conn, &p.plan, &opts, &stats);
	assert_int_equal(find_plan(&p, "web")->phase, RC_PHASE_CONFLICT);
	assert_non_null(strstr(find_plan(&p, "web")->reason, "destroy"));
	rc_pass_finish(&p);
	assert_int_equal(stats.writes, 1); /* the shutdown */
	virDomainPtr d = lookup(c, "web");
	assert_int_equal(virDomainIsActive(d), 1);
	virDomainFree(d);
}

/* A file planned alone whose domain cannot be read: an error, and
 * nothing of the half-read domain is left (AddressSanitizer's leak check
 * sees the rest). */
static void test_plan_file_observe_fails(void **state)
{
	struct ctx *c = *state;
	struct rc_limits limits;
	struct rc_pass p = {0};
	struct rc_err e;
	char id[256], path[192];

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	assert_int_equal(rc_dir_identity(c->dir, id, sizeof(id)), 0);
	snprintf(path, sizeof(path), "%s/web.yaml", c->dir);
	assert_int_equal(rc_limits_read(c->conn, &limits, &e), 0);
	xml_desc_fails = true;
	assert_int_equal(
	    rc_pass_plan_file(c->conn, id, path, false, &limits, &p, &e), -1);
	xml_desc_fails = false;
	assert_non_null(strstr(e.msg, "virDomainGetXMLDesc"));
	assert_int_equal(p.n_observed, 0);
	rc_pass_finish(&p);
	rc_limits_finish(&limits);
}

/* What a file's removal means, planned as the agent's removal job can:
 * the directory read again, the one domain observed. */
static size_t plan_gone(struct ctx *c, const char *file, const char *domain,
			enum rc_phase *phase)
{
	struct rc_pass p = {0};
	struct rc_err e;
	char id[256];
	size_t n;

	assert_int_equal(rc_dir_identity(c->dir, id, sizeof(id)), 0);
	assert_int_equal(
	    rc_pass_plan_gone(c->conn, c->dir, id, file, domain,
			      &(struct rc_pass_opts){.prune = true}, &p, &e),
	    0);
	n = rc_plan_count_actions(&p.plan);
	assert_true(p.plan.n <= 1);
	if (phase && p.plan.n)
		*phase = p.plan.domains[0].phase;
	rc_pass_finish(&p);
	return n;
}

/* A removal prunes only a true orphan: not a renamed file's domain, and
 * nothing once the directory is empty. */
static void test_gone_prunes_only_orphans(void **state)
{
	struct ctx *c = *state;
	enum rc_phase ph = RC_PHASE_IN_SYNC;

	write_file(c, "web.yaml", web);
	write_file(c, "db.yaml", "name: db\nmemory: 512 MiB\n");
	pass(c, true, false, "web", NULL, NULL);
	/* renamed: the new name holds it before its job marks it */
	remove_file(c, "web.yaml");
	write_file(c, "web01.yaml", web);
	assert_int_equal(plan_gone(c, "web.yaml", "web", NULL), 0);
	/* gone for good */
	remove_file(c, "web01.yaml");
	assert_int_equal(plan_gone(c, "web.yaml", "web", &ph), 2);
	assert_int_equal(ph, RC_PHASE_ORPHANED);
	/* the last file: the directory is empty, nothing is pruned */
	remove_file(c, "db.yaml");
	assert_int_equal(plan_gone(c, "db.yaml", "db", &ph), 0);
	assert_int_equal(ph, RC_PHASE_ORPHANED);
	assert_int_equal(plan_gone(c, "web.yaml", "web", &ph), 0);
	virDomainFree(lookup(c, "web"));
	virDomainFree(lookup(c, "db"));
}

/* Nothing is pruned from a directory that holds only names never read,
 * or that is gone. */
static void test_prune_needs_directory(void **state)
{
	struct ctx *c = *state;
	struct rc_pass p = {0};
	struct rc_err e;
	char id[256], moved[80];

	write_file(c, "web.yaml", web);
	pass(c, true, false, "web", NULL, NULL);
	remove_file(c, "web.yaml");
	write_file(c, ".web.yaml.swp", "");
	write_file(c, "notes.txt", "web was here\n");
	assert_int_equal(pass(c, true, true, "web", NULL, NULL), 0);
	virDomainFree(lookup(c, "web"));
	assert_int_equal(rc_dir_identity(c->dir, id, sizeof(id)), 0);
	snprintf(moved, sizeof(moved), "%s.moved", c->dir);
	assert_int_equal(rename(c->dir, moved), 0);
	assert_true(rc_pass_plan(c->conn, c->dir,
				 &(struct rc_pass_opts){.prune = true}, &p,
				 &e) < 0);
	rc_pass_finish(&p);
	assert_true(rc_pass_plan_gone(c->conn, c->dir, id, "web.yaml", "web",
				      &(struct rc_pass_opts){.prune = true}, &p,
				      &e) < 0);
	rc_pass_finish(&p);
	assert_int_equal(rename(moved, c->dir), 0);
	virDomainFree(lookup(c, "web"));
}

/* The README's examples on test:///default itself: all converge in one
 * pass, and a second pass writes nothing. */
static void test_examples_on_default(void **state)
{
	struct rc_pass p = {0};
	struct rc_err e;
	struct rc_apply_stats stats = {0};
	struct rc_apply_opts opts = {.shutdown_timeout = 5};
	virConnectPtr conn;
	const char *dir = getenv("VR_EXAMPLES");
	/* a checkout's files, whoever checked them out: not a test of trust */
	const struct rc_pass_opts examples = {.insecure = true};

	assert_non_null(dir);
	assert_int_equal(rc_connect("test:///default", &conn, &e), 0);
	assert_int_equal(rc_pass_plan(conn, dir, &examples, &p, &e), 0);
	assert_true(p.plan.n >= 3);
	rc_apply(conn, &p.plan, &opts, &stats);
	assert_int_equal(stats.failed, 0);
	for (size_t i = 0; i < p.plan.n; i++)
		assert_int_equal(p.plan.domains[i].phase, RC_PHASE_IN_SYNC);
	rc_pass_finish(&p);
	stats = (struct rc_apply_stats){0};
	assert_int_equal(rc_pass_plan(conn, dir, &examples, &p, &e), 0);
	assert_int_equal(rc_plan_count_actions(&p.plan), 0);
	rc_apply(conn, &p.plan, &opts, &stats);
	assert_int_equal(stats.writes, 0);
	rc_pass_finish(&p);
	virConnectClose(conn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examples_on_default),
	    cmocka_unit_test_setup_teardown(test_define_start_then_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_vcpus_and_memory, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_restart_required, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_drift_undone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redefine_keeps_generated,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metadata_redefine_keeps_others,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metadata_live, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rewrites_in_sync, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_spice_listens_again, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_primary_video_redefined, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_conflict_and_adopt, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_orphan_and_prune, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_file_touches_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untrusted_file_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_limits_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_shutoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rename_takes_over, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_copy_takes_nothing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_prune_rereads_mark, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_prune_mark_removed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_redefine_rereads_mark, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_rereads_mark, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_import_then_apply, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_timeout_destroys,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paused_destroyed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_rereads_mark, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_plan_file_observe_fails, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_gone_prunes_only_orphans,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune_needs_directory, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
