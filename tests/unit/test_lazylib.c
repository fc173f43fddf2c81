/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lazylib-internal.h"

/* The five tables, with what CMakeLists.txt found at configure time. */
static const struct {
	struct lazylib *lib;
	const char *soname;  /* SONAME of the library pkg-config found */
	const char *package; /* the Debian package that ships it */
	const char *file;    /* that library, as pkg-config found it */
} libs[] = {
	{ &lazylib_curl, DEN_SONAME_CURL, DEN_PACKAGE_CURL, DEN_LIBFILE_CURL },
	{ &lazylib_archive, DEN_SONAME_ARCHIVE, DEN_PACKAGE_ARCHIVE, DEN_LIBFILE_ARCHIVE },
	{ &lazylib_ssh, DEN_SONAME_SSH, DEN_PACKAGE_SSH, DEN_LIBFILE_SSH },
	{ &lazylib_slirp, DEN_SONAME_SLIRP, DEN_PACKAGE_SLIRP, DEN_LIBFILE_SLIRP },
	{ &lazylib_crypto, DEN_SONAME_CRYPTO, DEN_PACKAGE_CRYPTO, DEN_LIBFILE_CRYPTO },
	{ &lazylib_ext2fs, DEN_SONAME_EXT2FS, DEN_PACKAGE_EXT2FS, DEN_LIBFILE_EXT2FS },
	{ &lazylib_blkid, DEN_SONAME_BLKID, DEN_PACKAGE_BLKID, DEN_LIBFILE_BLKID },
	{ &lazylib_xml, DEN_SONAME_XML2, DEN_PACKAGE_XML2, DEN_LIBFILE_XML2 },
};

/* What den's own code calls in those libraries, by name. */
static const char *const prefixes[] = { "curl_", "archive_", "ssh_",   "sftp_", "slirp_",
					"EVP_",	 "ext2fs_",  "blkid_", "xml" };

Test(lazylib, every_table_loads_and_every_name_resolves)
{
	for (size_t k = 0; k < sizeof(libs) / sizeof(libs[0]); k++) {
		struct lazylib *lib = libs[k].lib;
		struct den_err err = { 0 };

		cr_assert_eq(lazylib_load(lib, &err), 0, "%s: %s", lib->soname, err.msg);
		cr_assert_not_null(lib->handle);
		cr_assert_gt(lib->n, 0);
		for (size_t i = 0; i < lib->n; i++) {
			cr_assert_not_null(lib->fns[i], "%s: %s unresolved", lib->soname,
					   lib->names[i]);
			cr_assert_eq(lib->fns[i], dlsym(lib->handle, lib->names[i]),
				     "%s: %s is not the library's", lib->soname, lib->names[i]);
		}
		/* A second load is a no-op. */
		cr_assert_eq(lazylib_load(lib, &err), 0);
	}
}

Test(lazylib, the_soname_opens_the_library_pkg_config_found)
{
	for (size_t k = 0; k < sizeof(libs) / sizeof(libs[0]); k++) {
		struct lazylib *lib = libs[k].lib;
		struct den_err err = { 0 };
		struct link_map *map = NULL;
		char loaded[PATH_MAX], built[PATH_MAX];

		cr_assert_str_eq(lib->soname, libs[k].soname);
		cr_assert_str_eq(lib->package, libs[k].package);
		cr_assert_eq(lazylib_load(lib, &err), 0, "%s: %s", lib->soname, err.msg);
		cr_assert_eq(dlinfo(lib->handle, RTLD_DI_LINKMAP, &map), 0);
		cr_assert_not_null(realpath(map->l_name, loaded), "%s", map->l_name);
		cr_assert_not_null(realpath(libs[k].file, built), "%s", libs[k].file);
		cr_assert_str_eq(loaded, built, "%s opens %s, but pkg-config found %s", lib->soname,
				 loaded, built);
	}
}

Test(lazylib, a_missing_library_is_an_error_naming_the_package)
{
	static const char *const names[] = { "curl_easy_init" };
	void *fns[1] = { NULL };
	struct lazylib lib = { .soname = "libden-no-such-library.so.7",
			       .package = "den-no-such-package",
			       .names = names,
			       .fns = fns,
			       .n = 1 };
	struct den_err err = { 0 };

	cr_assert_lt(lazylib_load(&lib, &err), 0);
	cr_assert_not_null(strstr(err.msg, "cannot load libden-no-such-library.so.7"), "%s",
			   err.msg);
	cr_assert_not_null(strstr(err.msg, "install the Debian package den-no-such-package"), "%s",
			   err.msg);
	cr_assert_null(lib.handle);
	cr_assert_null(fns[0]);
}

Test(lazylib, a_missing_function_is_an_error_naming_it)
{
	static const char *const names[] = { "curl_easy_init", "curl_den_no_such_function" };
	void *fns[2] = { NULL, NULL };
	struct lazylib lib = { .soname = DEN_SONAME_CURL,
			       .package = DEN_PACKAGE_CURL,
			       .names = names,
			       .fns = fns,
			       .n = 2 };
	struct den_err err = { 0 };

	cr_assert_lt(lazylib_load(&lib, &err), 0);
	cr_assert_not_null(strstr(err.msg, "has no curl_den_no_such_function"), "%s", err.msg);
	/* Nothing points into the library it closed again. */
	cr_assert_null(lib.handle);
	cr_assert_null(fns[0]);
}

Test(lazylib, a_stub_loads_its_library_when_called_first)
{
	cr_assert_str_eq(curl_easy_strerror(CURLE_OK), "No error");
	cr_assert_not_null(lazylib_curl.handle);
}

/* A table of one function in a library that is not there: its stub is a bug in den. */
#define MISSING_FUNCS(X, V) X(int, den_lazylib_test_missing, (int a), (a))
int den_lazylib_test_missing(int a);
LAZYLIB_DEFINE(lazylib_missing, MISSING_FUNCS, "libden-no-such-library.so.7", "den-no-such")

Test(lazylib, a_stub_whose_library_cannot_load_stops_den, .signal = SIGABRT)
{
	den_lazylib_test_missing(1);
}

static bool is_library_name(const char *sym)
{
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(sym, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

struct sym {
	char member[128];
	char name[128];
	char type;
};

/* `nm -A -P` of den's static libraries: "lib.a[member.o]: name type value size". */
static struct sym *read_symbols(size_t *n)
{
	FILE *p = popen("nm -A -P " DEN_LAZY_ARCHIVES, "r");
	struct sym *syms = NULL;
	size_t cap = 0;
	char line[1024];

	cr_assert_not_null(p, "cannot run nm");
	*n = 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		char *m = strrchr(line, '['), *end = strstr(line, "]: ");
		struct sym s = { 0 };

		if (m == NULL || end == NULL || end < m ||
		    sscanf(end + 3, "%127s %c", s.name, &s.type) != 2)
			continue;
		snprintf(s.member, sizeof(s.member), "%.*s", (int)(end - m - 1), m + 1);
		if (*n == cap) {
			cap = cap ? 2 * cap : 4096;
			syms = realloc(syms, cap * sizeof(*syms));
			cr_assert_not_null(syms);
		}
		syms[(*n)++] = s;
	}
	cr_assert_eq(pclose(p), 0, "nm failed on " DEN_LAZY_ARCHIVES);
	return syms;
}

/*
 * The rule: every libcurl, libarchive, libssh, libslirp and libcrypto
 * function den calls is in its library's table (boxes/lazy_*.c,
 * core/lazy_*.c), which defines the stub under the function's name.
 */
Test(lazylib, every_library_function_den_calls_is_in_a_table)
{
	size_t n = 0, used = 0;
	struct sym *syms = read_symbols(&n);

	cr_assert_gt(n, 1000, "nm listed only %zu symbols of " DEN_LAZY_ARCHIVES, n);
	for (size_t i = 0; i < n; i++) {
		bool defined = false;

		if (syms[i].type != 'U' || !is_library_name(syms[i].name))
			continue;
		used++;
		for (size_t j = 0; j < n && !defined; j++)
			defined = syms[j].type == 'T' && strcmp(syms[j].name, syms[i].name) == 0;
		cr_expect(defined,
			  "%s calls %s, which no table defines: add it to the list in "
			  "boxes/lazy_*.c or core/lazy_*.c",
			  syms[i].member, syms[i].name);
	}
	cr_assert_gt(used, 50, "found only %zu library calls: is the prefix list right?", used);
	free(syms);
}

/* And den itself does not link them: they would load at every start. */
Test(lazylib, den_does_not_link_the_lazy_libraries)
{
	const char *bin = getenv("DEN_BIN");
	char cmd[PATH_MAX + 32], line[512];
	FILE *p;

	cr_assert_not_null(bin, "DEN_BIN is not set");
	snprintf(cmd, sizeof(cmd), "objdump -p '%s'", bin);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p) != NULL) {
		if (strstr(line, "NEEDED") == NULL)
			continue;
		for (size_t k = 0; k < sizeof(libs) / sizeof(libs[0]); k++)
			cr_expect_null(strstr(line, libs[k].soname), "den links %s: %s",
				       libs[k].soname, line);
	}
	cr_assert_eq(pclose(p), 0);
}
