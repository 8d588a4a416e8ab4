#include "merge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "compare.h"
#include "schema.h"
#include "xmlpath.h"

static int copy_attr(xmlNodePtr to, xmlNodePtr from, const char *name)
{
	xmlChar *v = xmlGetProp(from, BAD_CAST name);
	int r = 0;

	if (v && !xmlSetProp(to, BAD_CAST name, v))
		r = -ENOMEM;
	xmlFree(v);
	return r;
}

/* Replaces el's text with from's, keeping its element children. */
static int copy_text(xmlNodePtr to, xmlNodePtr from)
{
	xmlChar *v = xmlNodeGetContent(from);

	for (xmlNodePtr c = to->children, next; c; c = next) {
		next = c->next;
		if (c->type == XML_TEXT_NODE) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
	if (v)
		xmlNodeAddContent(to, v);
	xmlFree(v);
	return v ? 0 : -ENOMEM;
}

/* Points what in x's tree is of namespace declaration ns at to. */
static void repoint_ns(xmlNodePtr x, xmlNsPtr ns, xmlNsPtr to)
{
	if (x->ns == ns)
		x->ns = to;
	for (xmlAttrPtr a = x->properties; a; a = a->next)
		if (a->ns == ns)
			a->ns = to;
	for (xmlNodePtr c = x->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			repoint_ns(c, ns, to);
}

/* A copy declares the namespaces it uses on itself (qemu:): those that
 * its new place has in scope already (on <domain>) need no second. */
static void drop_redundant_ns(xmlNodePtr c)
{
	xmlNsPtr *link = &c->nsDef;

	while (*link) {
		xmlNsPtr ns = *link;
		xmlNsPtr up = xmlSearchNs(c->doc, c->parent, ns->prefix);
		if (!up || !xmlStrEqual(up->href, ns->href)) {
			link = &ns->next;
			continue;
		}
		repoint_ns(c, ns, up);
		*link = ns->next;
		ns->next = NULL;
		xmlFreeNs(ns);
	}
}

/* Puts a copy of from into parent, replacing old when given. */
static int put_copy(xmlNodePtr parent, xmlNodePtr old, xmlNodePtr from)
{
	xmlNodePtr c = xmlDocCopyNode(from, parent->doc, 1);

	if (!c)
		return -ENOMEM;
	if (old) {
		xmlReplaceNode(old, c);
		xmlFreeNode(old);
	} else if (!xmlAddChild(parent, c)) {
		xmlFreeNode(c);
		return -ENOMEM;
	}
	drop_redundant_ns(c);
	return 0;
}

static int merge_map(xmlNodePtr have, xmlNodePtr want,
		     const struct ds_field *mf, const struct ds_node *map,
		     bool item);

/* Removes what field f renders from have: a list item's field that the
 * file leaves out and libvirt does not fill in (a cdrom's source: an
 * eject). An element left with nothing once its attribute is gone goes
 * too (<boot order='1'/>). */
static void drop_field(xmlNodePtr have, const struct ds_field *f)
{
	const char *at = strchr(f->xml, '@');
	size_t elen = at ? (size_t)(at - f->xml) : strlen(f->xml);
	xmlNodePtr h =
	    elen ? ds_xml_path(have, f->xml, elen, false, NULL) : have;

	if (!h)
		return;
	if (at) {
		xmlUnsetProp(h, BAD_CAST(at + 1));
		if (h == have || h->properties || xmlFirstElementChild(h))
			return;
	} else if (!elen) {
		return; /* the item's own text: not a field that can go */
	}
	xmlUnlinkNode(h);
	xmlFreeNode(h);
}

static int merge_scalar(xmlNodePtr have, xmlNodePtr want,
			const struct ds_field *f)
{
	const char *at = strchr(f->xml, '@');
	size_t elen = at ? (size_t)(at - f->xml) : strlen(f->xml);
	xmlNodePtr w =
	    elen ? ds_xml_path(want, f->xml, elen, false, NULL) : want;
	xmlNodePtr h;

	if (f->kind == DS_PRESENCE) {
		h = ds_xml_path(have, f->xml, elen, false, NULL);
		if (h && !w) {
			xmlUnlinkNode(h);
			xmlFreeNode(h);
		}
		return !h && w ? put_copy(have, NULL, w) : 0;
	}
	if (!w)
		return 0;
	if (!at && elen) { /* an element's text: <name>, <memory unit=…> */
		h = ds_xml_path(have, f->xml, elen, false, NULL);
		if (!h) /* other fields' attributes (<type arch=…>) stay */
			return put_copy(have, NULL, w);
		if (copy_text(h, w) < 0)
			return -ENOMEM;
		return f->kind == DS_SIZE ? copy_attr(h, w, "unit") : 0;
	}
	h = elen ? ds_xml_path(have, f->xml, elen, true, NULL) : have;
	if (!h)
		return -ENOMEM;
	if (at ? copy_attr(h, w, at + 1) < 0 : copy_text(h, w) < 0)
		return -ENOMEM;
	return f->kind == DS_SIZE ? copy_attr(h, w, "unit") : 0;
}

/* The value that identifies a list item across libvirt's rewrites: the
 * list's identity ("target@dev", "@id"), or NULL. */
static xmlChar *identity(xmlNodePtr item, const struct ds_field *f)
{
	const char *at = f->identity ? strchr(f->identity, '@') : NULL;
	xmlNodePtr holder;

	if (!at)
		return NULL;
	holder = at == f->identity
		     ? item
		     : ds_xml_path(item, f->identity,
				   (size_t)(at - f->identity), false, NULL);
	return holder ? xmlGetProp(holder, BAD_CAST(at + 1)) : NULL;
}

/* The children of parent named name, in order; NULL with *n = 0 when
 * there are none. Returns -ENOMEM, else 0. */
static int list_items(xmlNodePtr parent, const char *name, xmlNodePtr **ret,
		      size_t *n)
{
	size_t count = 0;

	*ret = NULL;
	*n = 0;
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		count += ds_xml_is(c, name, strlen(name));
	if (!count)
		return 0;
	if (!(*ret = calloc(count, sizeof(**ret))))
		return -ENOMEM;
	for (xmlNodePtr c = parent->children; c; c = c->next)
		if (ds_xml_is(c, name, strlen(name)))
			(*ret)[(*n)++] = c;
	return 0;
}

/* How much of want's XML have holds: its attributes of equal value, and
 * those of its child elements, matched by name, in turn. */
static size_t likeness(xmlNodePtr want, xmlNodePtr have)
{
	size_t score = 0;

	for (xmlAttrPtr a = want->properties; a; a = a->next) {
		_cleanup_free_ xmlChar *w = xmlGetProp(want, a->name);
		_cleanup_free_ xmlChar *h = xmlGetProp(have, a->name);
		score += w && h && !xmlStrcmp(w, h);
	}
	for (xmlNodePtr c = want->children; c; c = c->next) {
		xmlNodePtr hc = NULL;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		/* the first of its name and namespace */
		for (xmlNodePtr h = have->children; h && !hc; h = h->next)
			if (h->type == XML_ELEMENT_NODE &&
			    xmlStrEqual(h->name, c->name) &&
			    (h->ns && c->ns
				 ? xmlStrEqual(h->ns->href, c->ns->href)
				 : h->ns == c->ns))
				hc = h;
		if (hc)
			score += 1 + likeness(c, hc);
	}
	return score;
}

/* Whether have's attribute name differs from want's, when want gives
 * one. */
static bool attr_differs(xmlNodePtr want, xmlNodePtr have, const char *name)
{
	_cleanup_free_ xmlChar *w = xmlGetProp(want, BAD_CAST name);
	_cleanup_free_ xmlChar *h = w ? xmlGetProp(have, BAD_CAST name) : NULL;

	return w && (!h || xmlStrcmp(w, h));
}

/* Pairs want's item i with have's of the same identity, when it has one
 * (without case: a MAC may be written in capitals). Returns whether it
 * has one. */
static bool pair_identity(xmlNodePtr *wi, size_t i, xmlNodePtr *hi, size_t nh,
			  const struct ds_field *f, bool *used, xmlNodePtr *ret)
{
	_cleanup_free_ xmlChar *wid = identity(wi[i], f);

	for (size_t j = 0; wid && j < nh && !ret[i]; j++) {
		_cleanup_free_ xmlChar *hid =
		    used[j] ? NULL : identity(hi[j], f);
		if (hid && !xmlStrcasecmp(wid, hid)) {
			ret[i] = hi[j];
			used[j] = true;
		}
	}
	return wid != NULL;
}

/* Pairs want's items (wi) with have's (hi) into ret, marking have's used:
 * by position in an ordered list, by identity where an item has one, and
 * the rest by likeness, the most alike pair first, so that a removed
 * device takes its own MAC and address with it, not another's, and an
 * item alike to several of have's does not take the one another item is
 * more like (the primary video card libvirt moved first). In a list
 * libvirt adds items to, the file's new item is not one of libvirt's of
 * another type or index (a new virtio-serial controller is not the USB
 * one). */
static int pair_items(xmlNodePtr *wi, size_t nw, xmlNodePtr *hi, size_t nh,
		      const struct ds_field *f, bool *used, xmlNodePtr *ret)
{
	_cleanup_free_ size_t *score = NULL;
	_cleanup_free_ bool *alike = NULL;

	if (nw && (!(score = calloc(nw * nh + 1, sizeof(*score))) ||
		   !(alike = calloc(nw, sizeof(*alike)))))
		return -ENOMEM;
	for (size_t i = 0; i < nw; i++) {
		if (f->ordered) {
			ret[i] = i < nh ? hi[i] : NULL;
			if (i < nh)
				used[i] = true;
			continue;
		}
		if (pair_identity(wi, i, hi, nh, f, used, ret))
			continue;
		alike[i] = true;
		for (size_t j = 0; j < nh; j++)
			score[i * nh + j] = likeness(wi[i], hi[j]) + 1;
		for (size_t j = 0; f->open && j < nh; j++)
			if (attr_differs(wi[i], hi[j], "type") ||
			    attr_differs(wi[i], hi[j], "index"))
				score[i * nh + j] = 0; /* never */
	}
	for (;;) {
		size_t bi = nw, bj = nh;
		for (size_t i = 0; i < nw; i++)
			for (size_t j = 0; alike[i] && !ret[i] && j < nh; j++)
				if (!used[j] && score[i * nh + j] &&
				    (bi == nw ||
				     score[i * nh + j] > score[bi * nh + bj])) {
					bi = i;
					bj = j;
				}
		if (bi == nw)
			return 0;
		ret[bi] = hi[bj];
		used[bj] = true;
	}
}

static unsigned unlink_children(xmlNodePtr parent, const char *name)
{
	unsigned n = 0;

	for (xmlNodePtr c = parent ? parent->children : NULL, next; c;
	     c = next) {
		next = c->next;
		if (ds_xml_is(c, name, strlen(name))) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
			n++;
		}
	}
	return n;
}

/* Whether graphics element g asks for a port: a port or TLS port other
 * than 0, or autoport. */
static bool asks_port(xmlNodePtr g)
{
	static const char *const ports[] = {"port", "tlsPort"};
	_cleanup_free_ xmlChar *a = xmlGetProp(g, BAD_CAST "autoport");

	for (size_t i = 0; i < DS_ARRAY_SIZE(ports); i++) {
		_cleanup_free_ xmlChar *p = xmlGetProp(g, BAD_CAST ports[i]);
		if (p && xmlStrcmp(p, BAD_CAST "0"))
			return true;
	}
	return a && !xmlStrcmp(a, BAD_CAST "yes");
}

/* Whether have's first <listen> is of type none. */
static bool listens_nowhere(xmlNodePtr have)
{
	xmlNodePtr l = ds_xml_child(have, "listen", 6);
	_cleanup_free_ xmlChar *t = l ? xmlGetProp(l, BAD_CAST "type") : NULL;

	return t && !xmlStrcmp(t, BAD_CAST "none");
}

/* libvirt keeps a graphics' listen address twice, as an attribute and as
 * <listen> children, and refuses the two to differ: a new address takes
 * the children away (libvirt makes them again from the attribute). So
 * does a port, where libvirt made the listen of a SPICE server without
 * one of type none: kept, it would go on listening nowhere. */
static void listen_follows(xmlNodePtr have, xmlNodePtr want)
{
	_cleanup_free_ xmlChar *w = xmlGetProp(want, BAD_CAST "listen");
	_cleanup_free_ xmlChar *h = xmlGetProp(have, BAD_CAST "listen");

	if (!ds_xml_child(want, "listen", 6) && asks_port(want) &&
	    listens_nowhere(have)) {
		unlink_children(have, "listen");
		return;
	}
	if (!w || (h && !xmlStrcmp(w, h)))
		return;
	unlink_children(have, "listen");
}

static int merge_list(xmlNodePtr have, xmlNodePtr want,
		      const struct ds_field *f, const struct ds_node *list)
{
	const char *slash = strrchr(f->xml, '/');
	const char *name = slash ? slash + 1 : f->xml;
	size_t plen = slash ? (size_t)(slash - f->xml) : 0;
	xmlNodePtr hp = ds_xml_path(have, f->xml, plen, true, NULL);
	xmlNodePtr wp = ds_xml_path(want, f->xml, plen, false, NULL);
	_cleanup_free_ xmlNodePtr *hi = NULL;
	_cleanup_free_ xmlNodePtr *wi = NULL;
	_cleanup_free_ xmlNodePtr *paired = NULL;
	_cleanup_free_ bool *used = NULL;
	size_t nh, nw;

	if (!hp || list_items(hp, name, &hi, &nh) < 0 ||
	    list_items(wp, name, &wi, &nw) < 0 ||
	    !(used = calloc(nh + 1, sizeof(*used))) ||
	    !(paired = calloc(nw + 1, sizeof(*paired))) ||
	    pair_items(wi, nw, hi, nh, f, used, paired) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < nw && i < list->n_kids; i++) {
		xmlNodePtr h = paired[i];
		/* another model is another device on the bus: its address
		 * is libvirt's to choose again (an ib700 watchdog is no PCI
		 * device, a new USB controller model has its own slot) */
		if (h && attr_differs(wi[i], h, "model"))
			unlink_children(h, "address");
		if (h && !strcmp(name, "graphics"))
			listen_follows(h, wi[i]);
		int r =
		    h ? merge_map(h, wi[i], &f->kids[0], list->kids[i], true)
		      : put_copy(hp, NULL, wi[i]);
		if (r < 0)
			return r;
	}
	for (size_t j = 0; j < nh && !f->open; j++) {
		if (!used[j]) {
			xmlUnlinkNode(hi[j]);
			xmlFreeNode(hi[j]);
		}
	}
	return 0;
}

/* Features the format knows are made to match the file's list; others
 * (from raw XML, or libvirt's) stay. */
static int merge_flags(xmlNodePtr have, xmlNodePtr want,
		       const struct ds_field *f)
{
	xmlNodePtr hp = ds_xml_path(have, f->xml, strlen(f->xml), true, NULL);
	xmlNodePtr wp = ds_xml_path(want, f->xml, strlen(f->xml), false, NULL);

	if (!hp)
		return -ENOMEM;
	for (const char *const *v = f->values; *v; v++) {
		xmlNodePtr h = ds_xml_child(hp, *v, strlen(*v));
		xmlNodePtr w = ds_xml_child(wp, *v, strlen(*v));
		if (h && !w) {
			xmlUnlinkNode(h);
			xmlFreeNode(h);
		} else if (w && !h && put_copy(hp, NULL, w) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* Elements by namespace: each that the file names replaces libvirt's of
 * that namespace ('' removes it); the others (the agent's mark among
 * them) stay. */
static int merge_xml_ns(xmlNodePtr have, xmlNodePtr want,
			const struct ds_field *f, const struct ds_node *n)
{
	size_t len = strlen(f->xml);
	xmlNodePtr hp = ds_xml_path(have, f->xml, len, false, NULL);
	xmlNodePtr wp = ds_xml_path(want, f->xml, len, false, NULL);

	for (size_t i = 0; i < n->n_kids; i++) {
		const char *uri = n->kids[i]->key;
		xmlNodePtr w = NULL;
		for (xmlNodePtr c = wp ? wp->children : NULL; c && !w;
		     c = c->next)
			if (c->type == XML_ELEMENT_NODE && c->ns &&
			    !strcmp((const char *)c->ns->href, uri))
				w = c;
		for (xmlNodePtr c = hp ? hp->children : NULL, next; c;
		     c = next) {
			next = c->next;
			if (c->type == XML_ELEMENT_NODE && c->ns &&
			    !strcmp((const char *)c->ns->href, uri)) {
				xmlUnlinkNode(c);
				xmlFreeNode(c);
			}
		}
		if (w && !hp &&
		    !(hp = ds_xml_path(have, f->xml, len, true, NULL)))
			return -ENOMEM;
		if (w && put_copy(hp, NULL, w) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int merge_field(xmlNodePtr have, xmlNodePtr want,
		       const struct ds_field *f, const struct ds_node *n,
		       bool item)
{
	switch (f->kind) {
	case DS_MAP: {
		xmlNodePtr h = *f->xml ? ds_xml_path(have, f->xml,
						     strlen(f->xml), true, NULL)
				       : have;
		xmlNodePtr w =
		    *f->xml
			? ds_xml_path(want, f->xml, strlen(f->xml), false, NULL)
			: want;
		if (!h)
			return -ENOMEM;
		/* a single device of another model: as in a list */
		if (w && *f->xml && attr_differs(w, h, "model"))
			unlink_children(h, "address");
		return w ? merge_map(h, w, f, n, item || f->whole) : 0;
	}
	case DS_LIST:
		return merge_list(have, want, f, n);
	case DS_FLAGS:
		return merge_flags(have, want, f);
	case DS_XML:
		return 0;
	case DS_XML_NS:
		return merge_xml_ns(have, want, f, n);
	default:
		return merge_scalar(have, want, f);
	}
}

/* Within a list item (item), the fields the file leaves out go, unless
 * libvirt fills them in: the file gives a device whole. */
static int merge_map(xmlNodePtr have, xmlNodePtr want,
		     const struct ds_field *mf, const struct ds_node *map,
		     bool item)
{
	for (const struct ds_field *f = mf->kids; f->key; f++) {
		const struct ds_node *n = ds_node_get(map, f->key);
		if (!f->xml)
			continue;
		if (n && merge_field(have, want, f, n, item) < 0)
			return -ENOMEM;
		if (!n && item && !f->filled)
			drop_field(have, f);
	}
	return 0;
}

/* libvirt gives a SPICE server its own <audio type='spice'>, and refuses
 * that audio once no SPICE graphics is left: it goes with the last one. */
static void audio_follows(xmlNodePtr have)
{
	xmlNodePtr devices = ds_xml_child(have, "devices", 7);
	bool spice = false;

	for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, "graphics")) {
			_cleanup_free_ xmlChar *t =
			    xmlGetProp(c, BAD_CAST "type");
			spice |= t && !xmlStrcmp(t, BAD_CAST "spice");
		}
	for (xmlNodePtr c = devices && !spice ? devices->children : NULL, next;
	     c; c = next) {
		_cleanup_free_ xmlChar *t = NULL;
		next = c->next;
		if (c->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)c->name, "audio"))
			continue;
		t = xmlGetProp(c, BAD_CAST "type");
		if (t && !xmlStrcmp(t, BAD_CAST "spice")) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
}

/* A clock's attributes belong to its offset (timezone, start,
 * adjustment, basis): a new offset takes the old one's away, or libvirt
 * reads them as asking for the old one (localtime with an adjustment is
 * variable). */
static void clock_follows(xmlNodePtr have, const struct ds_node *tree)
{
	static const char *const attrs[] = {"timezone", "start", "adjustment",
					    "basis"};
	const struct ds_node *clock = ds_node_get(tree, "clock");
	const struct ds_node *offset = ds_node_get(clock, "offset");
	xmlNodePtr h = ds_xml_child(have, "clock", 5);
	_cleanup_free_ xmlChar *had =
	    h ? xmlGetProp(h, BAD_CAST "offset") : NULL;

	if (!offset || !had || !xmlStrcmp(had, BAD_CAST offset->str))
		return;
	for (size_t i = 0; i < DS_ARRAY_SIZE(attrs); i++)
		if (!ds_node_get(clock, attrs[i]))
			xmlUnsetProp(h, BAD_CAST attrs[i]);
}

int ds_merge(xmlNodePtr have, xmlNodePtr want, const struct ds_node *tree)
{
	int r;

	clock_follows(have, tree);
	r = merge_map(have, want, &ds_schema_domain, tree, false);

	if (r == 0 && ds_node_path(tree, "devices.graphics"))
		audio_follows(have);
	return r;
}

const char *ds_machine_family(const char *machine, char *buf, size_t len)
{
	if (!strcmp(machine, "pc"))
		machine = "pc-i440fx";
	else if (!strcmp(machine, "q35"))
		machine = "pc-q35";
	snprintf(buf, len, "%s", machine);
	if (ds_machine_versioned(buf))
		*strrchr(buf, '-') = 0;
	return buf;
}

static bool device_boot(const struct ds_node *tree)
{
	static const char *const lists[] = {"devices.disk",
					    "devices.interface"};

	for (size_t l = 0; l < DS_ARRAY_SIZE(lists); l++) {
		const struct ds_node *list = ds_node_path(tree, lists[l]);
		for (size_t i = 0; list && i < list->n_kids; i++)
			if (ds_node_get(list->kids[i], "boot"))
				return true;
	}
	return false;
}

unsigned ds_merge_drops(xmlNodePtr have, const struct ds_node *tree)
{
	const struct ds_node *want = ds_node_path(tree, "os.machine");
	const struct ds_node *boot = ds_node_path(tree, "os.boot");
	xmlNodePtr type = ds_xml_path(have, "os/type", 7, false, NULL);
	xmlChar *had = type ? xmlGetProp(type, BAD_CAST "machine") : NULL;
	char a[128], b[128];
	unsigned drops = 0;

	if (want && had &&
	    strcmp(ds_machine_family(want->str, a, sizeof(a)),
		   ds_machine_family((const char *)had, b, sizeof(b))))
		drops |= DS_DROP_MACHINE;
	xmlFree(had);
	if (device_boot(tree))
		drops |= DS_DROP_OS_BOOT;
	else if (boot && boot->n_kids)
		drops |= DS_DROP_DEV_BOOT;
	return drops;
}

unsigned ds_merge_drop(xmlNodePtr have, unsigned drops)
{
	xmlNodePtr devices = ds_xml_child(have, "devices", 7);
	unsigned done = 0, n = 0;

	if (drops & DS_DROP_MACHINE) {
		n = unlink_children(devices, "controller");
		for (xmlNodePtr c = devices ? devices->children : NULL; c;
		     c = c->next)
			n += unlink_children(c, "address");
		done |= n ? DS_DROP_MACHINE : 0;
	}
	if ((drops & DS_DROP_OS_BOOT) &&
	    unlink_children(ds_xml_child(have, "os", 2), "boot"))
		done |= DS_DROP_OS_BOOT;
	if (drops & DS_DROP_DEV_BOOT) {
		n = 0;
		for (xmlNodePtr c = devices ? devices->children : NULL; c;
		     c = c->next)
			n += unlink_children(c, "boot");
		done |= n ? DS_DROP_DEV_BOOT : 0;
	}
	return done;
}
