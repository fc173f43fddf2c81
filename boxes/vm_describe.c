/* SPDX-License-Identifier: MIT */
/*
 * What a VirtualBox, VMware or Hyper-V box's machine description says: its
 * disk, CPU count and memory. OVF and Hyper-V's XML through libxml2 (no
 * network, no entity expansion); VMware's .vmx is lines of key = "value".
 */
#include "boxes/vm_import.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lazylib.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DESCRIPTION_MAX (4u << 20)
#define HYPERV_DISKS "Virtual Hard Disks"
#define HYPERV_MACHINES "Virtual Machines"

static const struct {
	const char *suffix, *format;
} disk_formats[] = {
	{ ".vmdk", "vmdk" },
	{ ".vdi", "vdi" },
	{ ".vhd", "vpc" },
	{ ".vhdx", "vhdx" },
};

bool vm_import_provider(const char *p)
{
	return p != NULL && (strcmp(p, "virtualbox") == 0 || strcmp(p, "vmware_desktop") == 0 ||
			     strcmp(p, "vmware_fusion") == 0 ||
			     strcmp(p, "vmware_workstation") == 0 || strcmp(p, "hyperv") == 0);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcasecmp(s + n - k, suffix) == 0;
}

/* qemu-img's name for a disk file's format, by its name; NULL for none den converts. */
static const char *format_of(const char *name)
{
	for (size_t i = 0; i < sizeof(disk_formats) / sizeof(*disk_formats); i++)
		if (ends_with(name, disk_formats[i].suffix))
			return disk_formats[i].format;
	return NULL;
}

/* The one file in dir/sub whose name ends with suffix (malloc'd, "sub/name"), or NULL. */
static char *find_one(const char *dir, const char *sub, const char *suffix, struct den_err *err)
{
	cleanup_free char *path = NULL;
	char *found = NULL;
	struct dirent *e;
	DIR *d;

	if (asprintf(&path, "%s%s%s", dir, sub ? "/" : "", sub ? sub : "") < 0)
		return NULL;
	d = opendir(path);
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (e->d_type != DT_REG || !ends_with(e->d_name, suffix))
			continue;
		if (found != NULL) {
			den_err_set(err, 0,
				    "refused: the box has more than one %s file (%s and %s)",
				    suffix, found, e->d_name);
			free(found);
			found = NULL;
			break;
		}
		if (asprintf(&found, "%s%s%s", sub ? sub : "", sub ? "/" : "", e->d_name) < 0)
			found = NULL;
	}
	closedir(d);
	return found;
}

/* The disk: one plain file name (in the box's top folder, or in sub). */
static int take_disk(struct vm_description *d, const char *sub, const char *name,
		     struct den_err *err)
{
	const char *format = format_of(name);

	if (d->disk != NULL && strcmp(d->disk + (sub ? strlen(sub) + 1 : 0), name) != 0)
		return den_err_set(
			err, 0,
			"refused: the box has more than one disk (%s and %s); den converts "
			"boxes of one disk",
			d->disk, name);
	if (strchr(name, '/') != NULL || name[0] == '.' || format == NULL)
		return den_err_set(err, 0,
				   "refused: the box's disk '%s' is not a .vmdk, .vdi, .vhd or "
				   ".vhdx file beside its description",
				   name);
	if (d->disk == NULL &&
	    asprintf(&d->disk, "%s%s%s", sub ? sub : "", sub ? "/" : "", name) < 0)
		return den_err_set(err, ENOMEM, "cannot read the box");
	d->format = format;
	return 0;
}

static int read_text(const char *dir, const char *file, char **text, size_t *len,
		     struct den_err *err)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return den_err_set(err, ENOMEM, "cannot read %s", file);
	return den_read_file(path, DESCRIPTION_MAX, text, len, err);
}

/* An element's text (its first text child), or "". */
static const char *text_of(xmlNodePtr n)
{
	for (xmlNodePtr c = n ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_TEXT_NODE && c->content != NULL)
			return (const char *)c->content;
	return "";
}

static const char *attr_of(xmlNodePtr n, const char *name)
{
	for (xmlAttrPtr a = n->properties; a != NULL; a = a->next)
		if (strcmp((const char *)a->name, name) == 0 && a->children != NULL)
			return (const char *)a->children->content;
	return NULL;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

static uint64_t number(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return isdigit((unsigned char)*s) ? strtoull(s, NULL, 10) : 0;
}

/* OVF's AllocationUnits ("byte * 2^20", "MegaBytes", "GigaBytes"): bytes per unit. */
static uint64_t unit_of(const char *u)
{
	const char *pow = strstr(u, "2^");

	if (pow != NULL)
		return number(pow + 2) < 64 ? (uint64_t)1 << number(pow + 2) : 0;
	if (strncasecmp(u, "giga", 4) == 0 || strncasecmp(u, "GB", 2) == 0)
		return (uint64_t)1 << 30;
	if (strncasecmp(u, "kilo", 4) == 0 || strncasecmp(u, "KB", 2) == 0)
		return 1 << 10;
	return 1 << 20; /* MegaBytes, and VirtualBox's default */
}

/* One OVF element, and what is below it. */
static int walk_ovf(xmlNodePtr n, struct vm_description *d, unsigned depth, struct den_err *err)
{
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		const char *name = (const char *)n->name;
		if (strcmp(name, "File") == 0) {
			const char *href = attr_of(n, "href");
			if (href != NULL && take_disk(d, NULL, href, err) < 0)
				return -1;
		} else if (strcmp(name, "Item") == 0) {
			uint64_t type = number(text_of(child(n, "ResourceType")));
			uint64_t q = number(text_of(child(n, "VirtualQuantity")));
			if (type == 3 && q > 0 && q < 1024)
				d->cpus = (unsigned)q;
			if (type == 4 && q > 0)
				d->memory = q * unit_of(text_of(child(n, "AllocationUnits")));
		}
		if (depth < 32 && walk_ovf(n->children, d, depth + 1, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_xml(const char *dir, const char *file, xmlDocPtr *doc, struct den_err *err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;

	if (read_text(dir, file, &text, &len, err) < 0 || den_xml_load(err) < 0)
		return -1;
	/* No network, no entities expanded, no DTD loaded: the file is the box's, so hostile. */
	*doc = xmlReadMemory(text, (int)len, file, NULL,
			     XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
	if (*doc == NULL || xmlDocGetRootElement(*doc) == NULL) {
		if (*doc != NULL)
			xmlFreeDoc(*doc);
		return den_err_set(err, 0, "%s is not XML", file);
	}
	return 0;
}

static int describe_virtualbox(const char *dir, struct vm_description *d, struct den_err *err)
{
	cleanup_free char *ovf = find_one(dir, NULL, ".ovf", err);
	xmlDocPtr doc;
	int rc;

	if (ovf == NULL)
		return den_err_is_set(err) ? -1 : den_err_set(err, 0, "the box has no .ovf file");
	if (parse_xml(dir, ovf, &doc, err) < 0)
		return -1;
	rc = walk_ovf(xmlDocGetRootElement(doc), d, 0, err);
	xmlFreeDoc(doc);
	if (rc == 0 && d->disk == NULL)
		return den_err_set(err, 0, "%s names no disk file", ovf);
	return rc;
}

/* VMware's .vmx: `key = "value"` lines; numvcpus, memsize (MiB), DEVICE.fileName of a vmdk. */
static int describe_vmware(const char *dir, struct vm_description *d, struct den_err *err)
{
	cleanup_free char *vmx = find_one(dir, NULL, ".vmx", err), *text = NULL;
	char key[128], value[1024];

	if (vmx == NULL)
		return den_err_is_set(err) ? -1 : den_err_set(err, 0, "the box has no .vmx file");
	if (read_text(dir, vmx, &text, NULL, err) < 0)
		return -1;
	for (char *l = text; l != NULL && *l != '\0';) {
		char *end = strchr(l, '\n');
		if (end != NULL)
			*end = '\0';
		if (sscanf(l, " %127[^= ] = \"%1023[^\"]\"", key, value) == 2) {
			if (strcasecmp(key, "numvcpus") == 0 && number(value) > 0 &&
			    number(value) < 1024)
				d->cpus = (unsigned)number(value);
			else if (strcasecmp(key, "memsize") == 0)
				d->memory = number(value) << 20;
			else if (ends_with(key, ".fileName") && ends_with(value, ".vmdk") &&
				 take_disk(d, NULL, value, err) < 0)
				return -1;
		}
		l = end ? end + 1 : NULL;
	}
	return d->disk != NULL ? 0 : den_err_set(err, 0, "%s names no .vmdk disk", vmx);
}

/* Hyper-V: the disk in "Virtual Hard Disks/"; CPUs and memory from the machine's XML, if any. */
static int describe_hyperv(const char *dir, struct vm_description *d, struct den_err *err)
{
	cleanup_free char *vhdx = find_one(dir, HYPERV_DISKS, ".vhdx", err), *xml = NULL;
	xmlDocPtr doc;

	if (vhdx == NULL && !den_err_is_set(err))
		vhdx = find_one(dir, HYPERV_DISKS, ".vhd", err);
	if (vhdx == NULL)
		return den_err_is_set(err)
			       ? -1
			       : den_err_set(err, 0, "the box has no disk in '" HYPERV_DISKS "/'");
	if (take_disk(d, HYPERV_DISKS, vhdx + strlen(HYPERV_DISKS) + 1, err) < 0)
		return -1;
	/* A .vmcx (Hyper-V's binary form) says nothing den reads: the Envfile's values then. */
	xml = find_one(dir, HYPERV_MACHINES, ".xml", err);
	if (xml == NULL)
		return den_err_is_set(err) ? -1 : 0;
	if (parse_xml(dir, xml, &doc, err) < 0)
		return -1;
	xmlNodePtr root = xmlDocGetRootElement(doc), settings = child(root, "settings");
	uint64_t cpus =
		number(text_of(child(child(settings ? settings : root, "processors"), "count")));
	uint64_t mib = number(
		text_of(child(child(child(settings ? settings : root, "memory"), "bank"), "size")));
	if (cpus == 0)
		cpus = number(text_of(child(child(root, "processors"), "count")));
	if (mib == 0)
		mib = number(text_of(child(child(child(root, "memory"), "bank"), "size")));
	d->cpus = cpus > 0 && cpus < 1024 ? (unsigned)cpus : 0;
	d->memory = mib << 20;
	xmlFreeDoc(doc);
	return 0;
}

int vm_describe(const char *dir, const char *provider, struct vm_description *d,
		struct den_err *err)
{
	int rc;

	memset(d, 0, sizeof(*d));
	if (strcmp(provider, "virtualbox") == 0)
		rc = describe_virtualbox(dir, d, err);
	else if (strcmp(provider, "hyperv") == 0)
		rc = describe_hyperv(dir, d, err);
	else
		rc = describe_vmware(dir, d, err);
	if (rc < 0)
		vm_description_free(d);
	return rc;
}

void vm_description_free(struct vm_description *d)
{
	free(d->disk);
	memset(d, 0, sizeof(*d));
}
