/* recog_stub: TEMPORARY stand-in for L1's speech/recog.c so the listening logic builds and
 * runs: every utterance is "recognized" as $CALLPIPE_RECOG_STUB_TEXT, else "" (confidence 0.5
 * with text, 0 without). The lead drops it when merging the real one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recog.h"
#include "resq.h"

struct recog {
	struct resq *resq;
};

struct recog_utt {
	struct recog *r;
	uint64_t call_id;
	unsigned seq;
	size_t bytes;
};

struct recog *recog_new(const struct config *cfg, struct pool *pool, struct resq *resq,
			char *err, size_t errlen)
{
	struct recog *r = calloc(1, sizeof(*r));

	(void)cfg;
	(void)pool;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->resq = resq;
	return r;
}

void recog_free(struct recog *r)
{
	free(r);
}

const char *recog_engine_name(const struct recog *r)
{
	(void)r;
	return "stub";
}

struct recog_utt *recog_begin(struct recog *r, uint64_t call_id, unsigned seq,
			      const struct recog_opts *o, char *err, size_t errlen)
{
	struct recog_utt *u = calloc(1, sizeof(*u));

	(void)o;
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u->r = r;
	u->call_id = call_id;
	u->seq = seq;
	return u;
}

int recog_feed(struct recog_utt *u, const uint8_t *ulaw, size_t n)
{
	(void)ulaw;
	u->bytes += n;
	return 0;
}

void recog_end(struct recog_utt *u)
{
	struct result *res = result_new(u->call_id, u->seq, RESULT_ASR);
	const char *text = getenv("CALLPIPE_RECOG_STUB_TEXT");

	if (!text)
		text = "";
	if (res && (res->data = strdup(text))) {
		res->a = 0;
		res->b = *text ? 500 : 0;
		res->len = strlen(text);
		resq_push(u->r->resq, res);
	} else {
		result_free(res);
	}
	free(u);
}

void recog_cancel(struct recog_utt *u)
{
	free(u);
}

void recog_cancel_call(struct recog *r, uint64_t call_id)
{
	(void)r;
	(void)call_id;
}
