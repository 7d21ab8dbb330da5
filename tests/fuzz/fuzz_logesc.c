/* fuzz_logesc: logesc_put on arbitrary bytes, in every mode and at the budget the first byte
 * picks: the output fits the budget, is valid UTF-8 with no control, C1, bidi or separator
 * character, a word has no space, and the work stays within the budget. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "logesc.h"
#include "strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int forbidden(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0] < 0x20 || s[0] == 0x7f;
	if (n == 2)
		return (s[0] == 0xc2 && s[1] <= 0x9f) || (s[0] == 0xd8 && s[1] == 0x9c);
	return n == 3 && s[0] == 0xe2 &&
	       ((s[1] == 0x80 && (s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xa8 && s[2] <= 0xae))) ||
		(s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char mem[8192];
	char *in;
	size_t budget, i, k, read;
	int mode;

	if (size < 1)
		return 0;
	budget = data[0] * 16u;
	in = malloc(size);
	memcpy(in, data + 1, size - 1);
	in[size - 1] = '\0';   /* a C string: stops at the first NUL inside too */
	for (mode = LOGESC_LOGFMT; mode <= LOGESC_WORD; mode++) {
		struct bytebuf b;
		const unsigned char *o;

		bytebuf_init_fixed(&b, mem, sizeof(mem));
		read = logesc_put(&b, in, budget, (enum logesc_mode)mode);
		if (b.len > budget || read > 2 * (budget + 8))
			abort();
		o = (const unsigned char *)mem;
		for (i = 0; i < b.len; i += k) {
			k = strutil_utf8_len(o + i, b.len - i);
			if (!k || forbidden(o + i, k) || (mode == LOGESC_WORD && o[i] == ' '))
				abort();
		}
	}
	free(in);
	return 0;
}
