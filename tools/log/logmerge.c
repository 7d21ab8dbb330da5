/* logmerge: one call's lines from several log files (copies of several hosts' log
 * directories) as one stream in time order, without holding more than a line per file. */
#include "logmerge.h"

#include <limits.h>
#include <string.h>

#include "logparse.h"

enum { SRC_NEED, SRC_HAVE, SRC_DONE };

void logmerge_init(struct logmerge *m)
{
	memset(m, 0, sizeof(*m));
}

int logmerge_add(struct logmerge *m, logmerge_next_fn next, void *ctx)
{
	struct logmerge_src *s;

	if (m->n >= LOGMERGE_SOURCES_MAX)
		return -1;
	s = &m->src[m->n++];
	memset(s, 0, sizeof(*s));
	s->next = next;
	s->ctx = ctx;
	/* Before every time: a file's leading undated lines cannot be placed by time, and
	 * going first keeps them ahead of the lines they came before in their file. */
	s->key = LLONG_MIN;
	s->state = SRC_NEED;
	return 0;
}

int logmerge_next(struct logmerge *m, const char **line, size_t *len, int *flags,
		  size_t *src)
{
	size_t best = m->n;

	/* Only the source whose line went out last needs a new one: every other source's
	 * line is still valid (its reader has not been called since), so nothing is copied. */
	for (size_t i = 0; i < m->n; i++) {
		struct logmerge_src *s = &m->src[i];
		long long t;
		int r;

		if (s->state != SRC_NEED)
			continue;
		r = s->next(s->ctx, &s->line, &s->len, &s->flags);
		if (r < 0) {
			s->state = SRC_DONE;
			if (src)
				*src = i;
			return -1;
		}
		if (r == 0) {
			s->state = SRC_DONE;
			continue;
		}
		s->state = SRC_HAVE;
		/* An undated line keeps the key of the line before it in this file: since
		 * that line just went out, and a source earlier in the list with the same key
		 * would have gone before it, nothing can come between the two. */
		if (logparse_line_time(s->line, s->len, &t) == 0)
			s->key = t;
	}
	/* Strictly smaller wins: on equal times the first source added goes first (a
	 * stable merge). Sources are few (at most 16): a scan beats a heap. */
	for (size_t i = 0; i < m->n; i++)
		if (m->src[i].state == SRC_HAVE && (best == m->n || m->src[i].key < m->src[best].key))
			best = i;
	if (best == m->n)
		return 0;
	m->src[best].state = SRC_NEED;
	*line = m->src[best].line;
	*len = m->src[best].len;
	*flags = m->src[best].flags;
	if (src)
		*src = best;
	return 1;
}
