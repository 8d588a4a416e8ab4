/* Round trip: every valid golden file, rendered to XML and read back
 * through the same field tables, compares equal to itself. This holds the
 * renderer and the reader (which reads libvirt's XML) to one format. */
#include <dirent.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "domain.h"
#include "render.h"
#include "xmlread.h"

static int check(const char *path)
{
	struct ds_diags d;
	struct ds_domain *dom = NULL;
	xmlDocPtr doc = NULL;
	struct ds_node *tree = NULL;
	struct ds_changes changes = {0};
	char *text = NULL;
	int r = -1;

	if (ds_diags_init(&d, path) < 0)
		return -1;
	if (ds_domain_load(path, false, &d, &dom) < 0 ||
	    ds_render(dom, "kvm", &d, &doc) < 0 ||
	    !(text = ds_render_text(doc)) ||
	    ds_tree_from_text(text, strlen(text), &tree) < 0 ||
	    ds_tree_compare(ds_domain_compared(dom), tree, &changes) < 0) {
		printf("FAIL %s: cannot load, render or read back\n", path);
		ds_diags_print(&d, stdout, "roundtrip");
		goto out;
	}
	for (size_t i = 0; i < changes.n; i++)
		printf("FAIL %s: %s: file %s, read back %s\n", path,
		       changes.items[i].path, changes.items[i].want,
		       changes.items[i].have ? changes.items[i].have
					     : "(none)");
	r = changes.n ? -1 : 0;
out:
	ds_changes_finish(&changes);
	ds_node_free(tree);
	xmlFreeDoc(doc);
	free(text);
	ds_domain_free(dom);
	ds_diags_finish(&d);
	return r;
}

int main(int argc, char **argv)
{
	size_t pass = 0, fail = 0;
	DIR *dir = argc == 2 ? opendir(argv[1]) : NULL;

	if (!dir) {
		fprintf(stderr, "usage: roundtrip DATA_DIR\n");
		return 1;
	}
	for (struct dirent *de; (de = readdir(dir));) {
		char yaml[4096], xml[4096];
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
			continue;
		snprintf(yaml, sizeof(yaml), "%s/%s", argv[1], de->d_name);
		snprintf(xml, sizeof(xml), "%s/%.*s.xml", argv[1],
			 (int)(len - 5), de->d_name);
		if (access(xml, F_OK) != 0)
			continue; /* an error case */
		if (check(yaml) == 0)
			pass++;
		else
			fail++;
	}
	closedir(dir);
	printf("roundtrip: %zu passed, %zu failed\n", pass, fail);
	return fail || !pass;
}
