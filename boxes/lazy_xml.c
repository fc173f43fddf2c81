/* SPDX-License-Identifier: MIT */
/* libxml2's table (core/lazylib.h): a VirtualBox box's OVF, a Hyper-V box's machine XML. */
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "core/lazylib-internal.h"

#define DEN_XML_FUNCS(X, V)                                                                        \
	X(xmlDocPtr, xmlReadMemory, (const char *b, int n, const char *u, const char *e, int o),   \
	  (b, n, u, e, o))                                                                         \
	X(void, xmlFreeDoc, (xmlDocPtr d), (d))                                                    \
	X(xmlNodePtr, xmlDocGetRootElement, (const xmlDoc *d), (d))

LAZYLIB_DEFINE(lazylib_xml, DEN_XML_FUNCS, DEN_SONAME_XML2, DEN_PACKAGE_XML2)
