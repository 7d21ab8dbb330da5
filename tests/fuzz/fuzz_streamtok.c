/* fuzz_streamtok: any token text is checked without a crash and accepted only when it is the
 * one streamtok_make gives for those sids; made tokens round-trip and a changed one fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "streamtok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Fields: auth token NUL call sid NUL account sid NUL token (the rest) */
	char *copy = malloc(size + 1), *f[4] = { "", "", "", "" }, *p, *end, why[160];
	char made[STREAMTOK_MAX + 1];
	size_t nf = 0;

	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	for (p = copy; nf < 4; p += strlen(p) + 1) {
		f[nf++] = p;
		if (p + strlen(p) >= end)
			break;
	}
	if (streamtok_check(f[0], f[1], f[2], f[3], (time_t)NOW, why, sizeof(why)) == 0) {
		/* accepted: it must be exactly the token made for its expiry */
		long long exp = strtoll(f[3] + 3, NULL, 10);

		if (streamtok_make(f[0], f[1], f[2], exp, made, sizeof(made)) != 0 ||
		    strcmp(made, f[3]) != 0)
			abort();
	}
	if (streamtok_make(f[0], f[1], f[2], NOW + 60, made, sizeof(made)) == 0) {
		if (streamtok_check(f[0], f[1], f[2], made, (time_t)NOW, why, sizeof(why)) != 0)
			abort();
		made[strlen(made) - 1] = made[strlen(made) - 1] == 'a' ? 'b' : 'a';
		if (streamtok_check(f[0], f[1], f[2], made, (time_t)NOW, why, sizeof(why)) == 0)
			abort();
	}
	free(copy);
	return 0;
}
