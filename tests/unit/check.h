/* check: the few macros the unit tests use. Each CHECK prints one "ok - …" or
 * "not ok - …" line (TAP-like, counted by tests/run); check_done() is main's return value. */
#ifndef CALLPIPE_CHECK_H
#define CALLPIPE_CHECK_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int check_failures;

static void check_report(int ok, const char *file, int line, const char *what)
{
	printf("%s - %s:%d: %s\n", ok ? "ok" : "not ok", file, line, what);
	if (!ok)
		check_failures++;
}

#define CHECK(cond) check_report(!!(cond), __FILE__, __LINE__, #cond)
/* CHECK with a description of its own (useful inside table-driven loops). */
#define CHECK_MSG(cond, msg) check_report(!!(cond), __FILE__, __LINE__, (msg))
#define CHECK_STR(got, want) do { \
		const char *check_g_ = (got), *check_w_ = (want); \
		int check_ok_ = check_g_ && check_w_ && strcmp(check_g_, check_w_) == 0; \
		check_report(check_ok_, __FILE__, __LINE__, #got " == " #want); \
		if (!check_ok_) \
			printf("#   got:  \"%s\"\n#   want: \"%s\"\n", check_g_ ? check_g_ : "(null)", \
			       check_w_ ? check_w_ : "(null)"); \
	} while (0)

/* Remove DIR and the plain files in it (the flat temp directories tests make). */
static inline void check_rmdir_flat(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static inline int check_done(void)
{
	fflush(stdout);
	return check_failures ? 1 : 0;
}

#endif
