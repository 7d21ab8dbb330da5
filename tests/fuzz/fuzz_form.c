/* fuzz_form: form_parse on arbitrary bytes; whatever it accepts must have non-empty names,
 * no NUL inside a name or value, and strings that fit in the input's length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	struct form *f = form_parse((const char *)data, size, err, sizeof(err));
	size_t i, total = 0;

	if (!f) {
		if (!err[0])
			abort();   /* every refusal says why */
		return 0;
	}
	if (form_count(f) > FORM_MAX_PAIRS)
		abort();
	for (i = 0; i < form_count(f); i++) {
		const struct form_pair *p = form_at(f, i);
		size_t nl = strlen(p->name), vl = strlen(p->value);

		if (nl == 0)
			abort();
		/* Decoding never grows: the strings (NUL-free by strlen) fit in the input. */
		total += nl + vl;
		if (total > size)
			abort();
		if (!form_get(f, p->name))
			abort();
	}
	if (form_at(f, form_count(f)) != NULL)
		abort();
	form_free(f);
	return 0;
}
