/* fuzz_twsig: token, URL and parameters cut from the input at NUL bytes; whatever
 * twsig_compute signs, twsig_check must accept (for every port form of the URL too), and a
 * changed signature must be refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARAMS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Fields: token NUL url NUL name NUL value NUL name NUL value … */
	char *copy = malloc(size + 1), *fields[2 + 2 * MAX_PARAMS], *p, *end;
	struct twsig_param params[MAX_PARAMS];
	char sig[TWSIG_LEN + 1], forms[2][TWSIG_URL_MAX], bad[TWSIG_LEN + 1];
	size_t nf = 0, np, i, nforms;

	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	for (p = copy; nf < sizeof(fields) / sizeof(fields[0]); p += strlen(p) + 1) {
		fields[nf++] = p;
		if (p + strlen(p) >= end)
			break;
	}
	if (nf < 2) {
		free(copy);
		return 0;
	}
	np = (nf - 2) / 2;
	for (i = 0; i < np; i++) {
		params[i].name = fields[2 + 2 * i];
		params[i].value = fields[3 + 2 * i];
	}
	nforms = twsig_url_forms(fields[1], forms);
	if (twsig_compute(fields[0], fields[1], params, np, sig) != 0) {
		/* Only an overlong URL may fail. */
		if (strlen(fields[1]) < TWSIG_URL_MAX || nforms != 0)
			abort();
		free(copy);
		return 0;
	}
	if (strlen(sig) != TWSIG_LEN || nforms < 1 || nforms > 2 ||
	    strcmp(forms[0], fields[1]) != 0)
		abort();
	if (fields[0][0]) {   /* an empty token is refused by design */
		if (!twsig_check(fields[0], fields[1], params, np, sig))
			abort();
		/* A signature over the second form is accepted for the URL as given. */
		if (nforms == 2) {
			char sig2[TWSIG_LEN + 1];

			if (twsig_compute(fields[0], forms[1], params, np, sig2) != 0 ||
			    !twsig_check(fields[0], fields[1], params, np, sig2))
				abort();
		}
		memcpy(bad, sig, sizeof(bad));
		bad[3] = bad[3] == 'A' ? 'B' : 'A';
		if (twsig_check(fields[0], fields[1], params, np, bad))
			abort();
	}
	free(copy);
	return 0;
}
