/* fuzz_turnparse: a turn body fed to turnparse in two chunks split where the first byte says,
 * with small limits; every verb and message handed over must respect the limits and ranges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "turnparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Small enough that the limit paths run often on fuzzer-sized inputs. */
static const struct turnparse_limits lim = { 2048, 12, 64 };

struct state {
	int nverbs;
	int in_gather;   /* a TV_GATHER was handed over and its TV_GATHER_END not yet */
	int failed;      /* a feed returned -1: nothing may be handed over after it */
};

static int valid_utf8(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;

		if (k == 0 || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if (((unsigned char)s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

static int one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			return 0;
	return 1;
}

static void on_verb(void *arg, const struct turn_verb *v)
{
	struct state *st = arg;
	const struct turn_gather *g = &v->gather;

	if (st->failed || ++st->nverbs > 2 * lim.max_verbs + 1)
		abort();
	if (!v->text || strlen(v->text) != v->text_len || v->text_len > lim.max_text ||
	    !valid_utf8(v->text, v->text_len))
		abort();
	if (v->in_gather != (st->in_gather && v->kind != TV_GATHER_END))
		abort();
	switch (v->kind) {
	case TV_SAY:
	case TV_PLAY:
		if (v->loop < 1 || v->loop > TV_LOOP_MAX)
			abort();
		/* folded and trimmed: no blank at either end, no two in a row */
		if (v->text_len && (v->text[0] == ' ' || v->text[v->text_len - 1] == ' ' ||
				    strstr(v->text, "  ") || strpbrk(v->text, "\t\n\r")))
			abort();
		break;
	case TV_PAUSE:
		if (v->pause_ms < 0 || v->pause_ms > 600000)
			abort();
		break;
	case TV_GATHER:
		if (st->in_gather || !g->input || (g->input & ~(TV_INPUT_DTMF | TV_INPUT_SPEECH)) ||
		    g->timeout_s < 0 || g->timeout_s > 600 || g->speech_timeout_ms < -1 ||
		    g->speech_timeout_ms > 600000 || g->max_speech_time_s < 1 ||
		    g->max_speech_time_s > 600 || g->num_digits < 0 ||
		    (g->finish_on_key && !strchr("0123456789*#", g->finish_on_key)) ||
		    (g->barge_in != 0 && g->barge_in != 1) ||
		    !memchr(g->action, 0, sizeof(g->action)) ||
		    !memchr(g->hints, 0, sizeof(g->hints)) ||
		    !memchr(g->language, 0, sizeof(g->language)) ||
		    !memchr(g->grammar, 0, sizeof(g->grammar)) ||
		    !valid_utf8(g->hints, strlen(g->hints)))
			abort();
		st->in_gather = 1;
		break;
	case TV_GATHER_END:
		if (!st->in_gather)
			abort();
		st->in_gather = 0;
		break;
	case TV_HANGUP:
	case TV_REDIRECT:
		break;
	default:
		abort();
	}
	if (!memchr(v->voice, 0, sizeof(v->voice)) || !memchr(v->language, 0, sizeof(v->language)))
		abort();
}

static void on_warn(void *arg, const char *msg)
{
	struct state *st = arg;

	if (st->failed || !msg[0] || !one_line(msg) || !valid_utf8(msg, strlen(msg)))
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	turnparse_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state st = { 0, 0, 0 };
	struct turnparse *p;
	char err[256];
	size_t split;
	int rc;

	if (size < 1)
		return 0;
	/* The first byte places the split anywhere in the rest, both ends included. */
	split = (size_t)data[0] * (size - 1) / 255;
	data++, size--;
	p = turnparse_new(&lim, on_verb, on_warn, &st);
	if (!p)
		return 0;
	err[0] = '\0';
	rc = turnparse_feed(p, (const char *)data, split, 0, err, sizeof(err));
	if (rc != 0)
		st.failed = 1;
	if (turnparse_feed(p, (const char *)data + split, size - split, 1, err, sizeof(err)) != 0)
		st.failed = 1;
	else if (rc != 0 || st.in_gather)   /* a failure sticks; a whole body closes Gather */
		abort();
	if (st.failed && (!err[0] || !one_line(err)))
		abort();
	turnparse_free(p);
	return 0;
}
