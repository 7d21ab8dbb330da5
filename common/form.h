/* form: application/x-www-form-urlencoded bodies and query strings into decoded pairs.
 * Strict: invalid %-escapes and embedded NULs are errors; sizes and counts are bounded. */
#ifndef CALLPIPE_FORM_H
#define CALLPIPE_FORM_H

#include <stddef.h>

/* Twilio sends about 30 parameters; 512 leaves room for what it adds tomorrow. */
#define FORM_MAX_PAIRS 512
/* Largest input accepted (callers also cap bodies with [fcgi] max_body). */
#define FORM_MAX_INPUT (16u * 1024 * 1024)

struct twsig_param;

struct form_pair {
	char *name;   /* decoded, NUL-terminated */
	char *value;  /* decoded, NUL-terminated, may be "" */
};

struct form;

/* Parse LEN bytes of TEXT ('+' is space, %XX decoded, '&' separates, a pair without '='
 * has an empty value, empty segments are skipped, repeated names are kept in order). An
 * empty decoded name ("=x") is an error. NULL with err filled ("invalid percent-escape at
 * offset 17", "too many parameters (over 512)", "NUL byte (%00) in value at offset 3"…). */
struct form *form_parse(const char *text, size_t len, char *err, size_t errlen);

size_t form_count(const struct form *f);
const struct form_pair *form_at(const struct form *f, size_t i);
/* First value for NAME (exact, case-sensitive), or NULL. */
const char *form_get(const struct form *f, const char *name);
void form_free(struct form *f);

/* The body for N name/value pairs, in order, the way Twilio's Java stack writes it: A-Z a-z
 * 0-9 and * - . _ as they are, space as '+', every other byte as %XX (upper case); the bytes
 * form_parse() reads back. malloc'd ("" for no pairs); NULL on no memory. */
char *form_encode(const struct twsig_param *params, size_t n);

#endif
