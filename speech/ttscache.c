/* ttscache: a mutex-guarded hash table of synthesized clips with an LRU list, bounded in bytes;
 * clips are immutable and refcounted so a reader keeps one past its eviction. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ttscache.h"

/* Longest key (engine, voice and text with their separators): longer texts are not cached,
 * they are not the greetings and prompts a cache is for. */
#define KEY_MAX 16384
#define BUCKETS_MIN 64
#define BUCKETS_MAX (1u << 20)

struct tts_clip {
	atomic_size_t refs;
	size_t len;
	uint8_t data[];
};

struct entry {
	struct entry *hnext;         /* bucket chain */
	struct entry *prev, *next;   /* LRU list: head is the most recently used */
	uint64_t hash;
	size_t keylen;
	size_t charge;               /* what it counts against max_bytes: audio, key and
	                                bookkeeping, so tiny clips with long keys are bounded too */
	struct tts_clip *clip;
	char key[];
};

struct tts_cache {
	pthread_mutex_t lock;
	size_t max_bytes, bytes, entries, nbuckets;
	struct entry **buckets;
	struct entry *head, *tail;
	unsigned long long hits, misses;
};

struct tts_cache *tts_cache_new(size_t max_bytes)
{
	struct tts_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nbuckets = BUCKETS_MIN;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->buckets);
		free(c);
		return NULL;
	}
	c->max_bytes = max_bytes;
	return c;
}

void tts_clip_unref(struct tts_clip *clip)
{
	if (clip && atomic_fetch_sub(&clip->refs, 1) == 1)
		free(clip);
}

const uint8_t *tts_clip_data(const struct tts_clip *clip)
{
	return clip->data;
}

size_t tts_clip_len(const struct tts_clip *clip)
{
	return clip->len;
}

void tts_cache_free(struct tts_cache *c)
{
	struct entry *e, *next;

	if (!c)
		return;
	for (e = c->head; e; e = next) {
		next = e->next;
		tts_clip_unref(e->clip);   /* clips still held by readers live on */
		free(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}

/* "engine\0voice\0text" into BUF (KEY_MAX): its length, or 0 when it does not fit. */
static size_t make_key(char *buf, const char *engine, const char *voice, const char *text)
{
	size_t a = strlen(engine), b = strlen(voice), t = strlen(text);

	if (a > KEY_MAX || b > KEY_MAX || t > KEY_MAX || a + b + t + 2 > KEY_MAX)
		return 0;
	memcpy(buf, engine, a);
	buf[a] = '\0';
	memcpy(buf + a + 1, voice, b);
	buf[a + 1 + b] = '\0';
	memcpy(buf + a + b + 2, text, t);
	return a + b + t + 2;
}

/* FNV-1a, 64-bit: keys are not attacker-chosen in bulk, and chains stay short by growth. */
static uint64_t hash_key(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ull;
	}
	return h;
}

static struct entry **find_slot(struct tts_cache *c, uint64_t h, const char *key, size_t n)
{
	struct entry **pp = &c->buckets[h & (c->nbuckets - 1)];

	while (*pp && !((*pp)->hash == h && (*pp)->keylen == n && memcmp((*pp)->key, key, n) == 0))
		pp = &(*pp)->hnext;
	return pp;
}

static void lru_unlink(struct tts_cache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(struct tts_cache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

/* Unhook E from its chain and the list, and drop the cache's reference to its clip. */
static void remove_entry(struct tts_cache *c, struct entry *e)
{
	struct entry **pp = find_slot(c, e->hash, e->key, e->keylen);

	*pp = e->hnext;
	lru_unlink(c, e);
	c->bytes -= e->charge;
	c->entries--;
	tts_clip_unref(e->clip);
	free(e);
}

/* Double the table when chains would grow past two on average; on no memory, keep the old
 * one (longer chains, still correct). */
static void maybe_grow(struct tts_cache *c)
{
	struct entry **nb, *e;
	size_t n, i;

	if (c->entries < c->nbuckets * 2 || c->nbuckets >= BUCKETS_MAX)
		return;
	n = c->nbuckets * 2;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	for (i = 0; i < c->nbuckets; i++)
		while ((e = c->buckets[i])) {
			c->buckets[i] = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

struct tts_clip *tts_cache_get(struct tts_cache *c, const char *engine, const char *voice,
			       const char *text)
{
	static _Thread_local char key[KEY_MAX];
	struct tts_clip *clip = NULL;
	struct entry *e;
	size_t n = make_key(key, engine, voice, text);
	uint64_t h = hash_key(key, n);

	pthread_mutex_lock(&c->lock);
	e = n ? *find_slot(c, h, key, n) : NULL;
	if (e) {
		lru_unlink(c, e);
		lru_push_front(c, e);
		clip = e->clip;
		atomic_fetch_add(&clip->refs, 1);
		c->hits++;
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return clip;
}

void tts_cache_put(struct tts_cache *c, const char *engine, const char *voice,
		   const char *text, const uint8_t *ulaw, size_t n)
{
	static _Thread_local char key[KEY_MAX];
	size_t klen = make_key(key, engine, voice, text), charge;
	struct tts_clip *clip;
	struct entry *e, **pp;
	uint64_t h;

	if (!klen || n == 0)
		return;
	charge = n + klen + sizeof(struct entry) + sizeof(struct tts_clip);
	/* A clip bigger than a quarter of the cache would push out much for one entry. */
	if (n > c->max_bytes / 4 || charge > c->max_bytes)
		return;
	/* Copies made outside the lock: the lock covers only list and table updates. */
	clip = malloc(sizeof(*clip) + n);
	e = malloc(sizeof(*e) + klen);
	if (!clip || !e) {
		free(clip);
		free(e);
		return;
	}
	atomic_init(&clip->refs, 1);
	clip->len = n;
	memcpy(clip->data, ulaw, n);
	h = hash_key(key, klen);
	e->hash = h;
	e->keylen = klen;
	e->charge = charge;
	e->clip = clip;
	memcpy(e->key, key, klen);

	pthread_mutex_lock(&c->lock);
	pp = find_slot(c, h, key, klen);
	if (*pp)
		remove_entry(c, *pp);   /* the newer clip replaces the older */
	pp = find_slot(c, h, key, klen);
	e->hnext = *pp;
	*pp = e;
	lru_push_front(c, e);
	c->bytes += charge;
	c->entries++;
	while (c->bytes > c->max_bytes && c->tail && c->tail != e)
		remove_entry(c, c->tail);
	maybe_grow(c);
	pthread_mutex_unlock(&c->lock);
}

void tts_cache_stats(struct tts_cache *c, size_t *entries, size_t *bytes,
		     unsigned long long *hits, unsigned long long *misses)
{
	pthread_mutex_lock(&c->lock);
	if (entries)
		*entries = c->entries;
	if (bytes)
		*bytes = c->bytes;
	if (hits)
		*hits = c->hits;
	if (misses)
		*misses = c->misses;
	pthread_mutex_unlock(&c->lock);
}
