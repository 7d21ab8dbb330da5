/* playout: Twilio's outbound audio buffer for one stream: media appended, played 160 bytes
 * per 20 ms tick; marks return once the audio before them has played; clear flushes all. */
#include "playout.h"

#include <stdlib.h>
#include <string.h>

/* An empty buffer bigger than this is given back: a burst of audio should not pin memory
 * for the rest of a call (load mode runs thousands of these). */
#define PLAYOUT_KEEP_CAP (16u * 1024)

struct playout_mark {
	uint64_t pos;   /* absolute byte position the mark follows */
	char *name;
};

struct sim_playout {
	uint8_t *buf;           /* ring of CAP bytes; LEN bytes from HEAD not yet played */
	size_t cap, head, len, max;
	uint64_t written;       /* absolute bytes appended so far (flushed ones included) */
	struct playout_mark *marks; /* ring of MCAP, MLEN from MHEAD, oldest first */
	size_t mcap, mhead, mlen;
};

struct sim_playout *sim_playout_new(size_t max_bytes)
{
	struct sim_playout *po = calloc(1, sizeof(*po));

	if (po)
		po->max = max_bytes ? max_bytes : SIM_PLAYOUT_MAX_BYTES;
	return po;
}

void sim_playout_free(struct sim_playout *po)
{
	size_t i;

	if (!po)
		return;
	for (i = 0; i < po->mlen; i++)
		free(po->marks[(po->mhead + i) % po->mcap].name);
	free(po->marks);
	free(po->buf);
	free(po);
}

/* Bytes played so far, in the same absolute count as mark positions. */
static uint64_t played(const struct sim_playout *po)
{
	return po->written - po->len;
}

static int grow(struct sim_playout *po, size_t need)
{
	size_t ncap = po->cap ? po->cap * 2 : 1024, first;
	uint8_t *nb;

	while (ncap < need)
		ncap *= 2;
	if (ncap > po->max)
		ncap = po->max;
	nb = malloc(ncap);
	if (!nb)
		return -1;
	/* Linearise the ring into the new buffer. */
	first = po->cap - po->head < po->len ? po->cap - po->head : po->len;
	if (po->len) {
		memcpy(nb, po->buf + po->head, first);
		memcpy(nb + first, po->buf, po->len - first);
	}
	free(po->buf);
	po->buf = nb;
	po->cap = ncap;
	po->head = 0;
	return 0;
}

int sim_playout_media(struct sim_playout *po, const uint8_t *data, size_t len)
{
	size_t room = po->max - po->len, n = len < room ? len : room, tail, first;

	if (po->len + n > po->cap && grow(po, po->len + n))
		return -1;
	tail = (po->head + po->len) % (po->cap ? po->cap : 1);
	first = po->cap - tail < n ? po->cap - tail : n;
	if (n) {
		memcpy(po->buf + tail, data, first);
		memcpy(po->buf, data + first, n - first);
	}
	po->len += n;
	po->written += n;
	return n == len ? 0 : -1;
}

int sim_playout_mark(struct sim_playout *po, const char *name)
{
	struct playout_mark *m;
	size_t i;

	if (po->mlen >= SIM_PLAYOUT_MAX_MARKS)
		return -1;
	if (po->mlen == po->mcap) {
		size_t ncap = po->mcap ? po->mcap * 2 : 8;

		m = malloc(ncap * sizeof(*m));
		if (!m)
			return -1;
		for (i = 0; i < po->mlen; i++)
			m[i] = po->marks[(po->mhead + i) % po->mcap];
		free(po->marks);
		po->marks = m;
		po->mcap = ncap;
		po->mhead = 0;
	}
	m = &po->marks[(po->mhead + po->mlen) % po->mcap];
	m->name = strndup(name, SIM_MARK_NAME_MAX);
	if (!m->name)
		return -1;
	/* Positioned after everything buffered now: with nothing buffered it is already
	 * "played" and returns at once (docs/PROTOCOL.md §4.6). */
	m->pos = po->written;
	po->mlen++;
	return 0;
}

static void maybe_shrink(struct sim_playout *po)
{
	if (po->len == 0 && po->cap > PLAYOUT_KEEP_CAP) {
		free(po->buf);
		po->buf = NULL;
		po->cap = po->head = 0;
	}
}

size_t sim_playout_clear(struct sim_playout *po)
{
	size_t n = po->len;

	/* Dropping the unplayed bytes makes played() == written, so every pending mark's
	 * position is now behind the play head: all of them return, in order. */
	po->len = 0;
	po->head = 0;
	maybe_shrink(po);
	return n;
}

size_t sim_playout_tick(struct sim_playout *po, uint8_t out[SIM_FRAME_BYTES])
{
	size_t n = po->len < SIM_FRAME_BYTES ? po->len : SIM_FRAME_BYTES, first;

	if (n) {
		first = po->cap - po->head < n ? po->cap - po->head : n;
		if (out) {
			memcpy(out, po->buf + po->head, first);
			memcpy(out + first, po->buf, n - first);
		}
		po->head = (po->head + n) % po->cap;
		po->len -= n;
	}
	if (out && n < SIM_FRAME_BYTES)
		memset(out + n, 0xFF, SIM_FRAME_BYTES - n);
	maybe_shrink(po);
	return n;
}

int sim_playout_next_mark(struct sim_playout *po, char *name, size_t cap)
{
	struct playout_mark *m;

	if (!po->mlen)
		return 0;
	m = &po->marks[po->mhead];
	if (m->pos > played(po))
		return 0;
	if (cap) {
		strncpy(name, m->name, cap - 1);
		name[cap - 1] = '\0';
	}
	free(m->name);
	m->name = NULL;
	po->mhead = (po->mhead + 1) % po->mcap;
	po->mlen--;
	return 1;
}

size_t sim_playout_buffered(const struct sim_playout *po)
{
	return po->len;
}

size_t sim_playout_returned_marks(const struct sim_playout *po)
{
	uint64_t p = played(po);
	size_t i;

	for (i = 0; i < po->mlen; i++)
		if (po->marks[(po->mhead + i) % po->mcap].pos > p)
			break;
	return i;
}

size_t sim_playout_pending_marks(const struct sim_playout *po)
{
	return po->mlen - sim_playout_returned_marks(po);
}
