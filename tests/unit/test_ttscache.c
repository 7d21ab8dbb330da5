/* test_ttscache: hits and misses, keys that differ only in engine or voice, LRU eviction at
 * the byte bound, clips that outlive eviction and the cache, size limits, four threads. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "ttscache.h"

static uint8_t audio[200000];

static void fill(void)
{
	size_t i;

	for (i = 0; i < sizeof(audio); i++)
		audio[i] = (uint8_t)(i * 31 + 7);
}

static void test_basic(void)
{
	struct tts_cache *c = tts_cache_new(1 << 20);
	struct tts_clip *k;
	size_t entries, bytes;
	unsigned long long hits, misses;

	CHECK(c != NULL);
	CHECK(tts_cache_get(c, "espeak", "en-us", "Hello") == NULL);
	tts_cache_put(c, "espeak", "en-us", "Hello", audio, 1000);
	k = tts_cache_get(c, "espeak", "en-us", "Hello");
	CHECK(k != NULL);
	CHECK(k && tts_clip_len(k) == 1000 && memcmp(tts_clip_data(k), audio, 1000) == 0);
	tts_clip_unref(k);
	/* The key has three parts: none may stand in for another. */
	CHECK(tts_cache_get(c, "espeak", "en-gb", "Hello") == NULL);
	CHECK(tts_cache_get(c, "exec", "en-us", "Hello") == NULL);
	CHECK(tts_cache_get(c, "espeak", "en-us", "Hello!") == NULL);
	CHECK(tts_cache_get(c, "espeak", "en-usHello", "") == NULL);
	/* Replacing. */
	tts_cache_put(c, "espeak", "en-us", "Hello", audio + 5, 500);
	k = tts_cache_get(c, "espeak", "en-us", "Hello");
	CHECK(k && tts_clip_len(k) == 500 && tts_clip_data(k)[0] == audio[5]);
	tts_clip_unref(k);
	tts_cache_stats(c, &entries, &bytes, &hits, &misses);
	CHECK(entries == 1);
	CHECK(bytes >= 500 && bytes < 1000);
	CHECK(hits == 2);
	CHECK(misses == 5);
	tts_cache_free(c);

	/* 0 bytes: caches nothing. */
	c = tts_cache_new(0);
	tts_cache_put(c, "e", "v", "t", audio, 10);
	CHECK(tts_cache_get(c, "e", "v", "t") == NULL);
	tts_cache_free(c);
}

static void test_lru(void)
{
	/* Clips of 10000 bytes (plus a little bookkeeping each) in a 50000-byte cache: four fit,
	 * the fifth pushes out the least recently used. */
	struct tts_cache *c = tts_cache_new(50000);
	struct tts_clip *held, *k;
	size_t entries, bytes;
	char text[16];
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "t%d", i);
		tts_cache_put(c, "espeak", "en-us", text, audio + i, 10000);
	}
	tts_cache_stats(c, &entries, &bytes, NULL, NULL);
	CHECK(entries == 4);
	CHECK(bytes <= 50000);
	held = tts_cache_get(c, "espeak", "en-us", "t0");   /* t0 is now the most recent */
	CHECK(held != NULL);
	tts_cache_put(c, "espeak", "en-us", "t4", audio + 4, 10000);
	k = tts_cache_get(c, "espeak", "en-us", "t1");
	CHECK_MSG(k == NULL, "t1, the least recently used, was evicted");
	tts_clip_unref(k);
	k = tts_cache_get(c, "espeak", "en-us", "t0");
	CHECK_MSG(k != NULL, "t0, used recently, stayed");
	tts_clip_unref(k);
	tts_cache_stats(c, &entries, &bytes, NULL, NULL);
	CHECK(entries == 4 && bytes <= 50000);

	/* Push everything out while HELD is referenced: it stays readable. */
	for (i = 10; i < 20; i++) {
		snprintf(text, sizeof(text), "t%d", i);
		tts_cache_put(c, "espeak", "en-us", text, audio + i, 10000);
	}
	k = tts_cache_get(c, "espeak", "en-us", "t0");
	CHECK_MSG(k == NULL, "t0 evicted at last");
	CHECK(held && tts_clip_len(held) == 10000 && memcmp(tts_clip_data(held), audio, 10000) == 0);

	/* Over a quarter of the cache: not kept, and nothing evicted for it. */
	tts_cache_put(c, "espeak", "en-us", "big", audio, 12501);
	CHECK(tts_cache_get(c, "espeak", "en-us", "big") == NULL);
	tts_cache_stats(c, &entries, NULL, NULL, NULL);
	CHECK(entries == 4);

	/* A clip survives the cache itself. */
	k = tts_cache_get(c, "espeak", "en-us", "t19");
	CHECK(k != NULL);
	tts_cache_free(c);
	CHECK(k && tts_clip_len(k) == 10000 && tts_clip_data(k)[0] == audio[19]);
	tts_clip_unref(k);
	tts_clip_unref(held);
}

static void test_long_key(void)
{
	struct tts_cache *c = tts_cache_new(1 << 20);
	char *text = malloc(20000);

	memset(text, 'a', 19999);
	text[19999] = '\0';
	tts_cache_put(c, "espeak", "en-us", text, audio, 100);
	CHECK_MSG(tts_cache_get(c, "espeak", "en-us", text) == NULL, "a 20000-byte text is not kept");
	free(text);
	tts_cache_free(c);
}

struct worker {
	struct tts_cache *c;
	int id, bad;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	char text[32];
	int i;

	for (i = 0; i < 20000; i++) {
		int key = (i * 7 + w->id) % 300;
		size_t len = 100 + (size_t)key * 10;
		struct tts_clip *k;

		snprintf(text, sizeof(text), "utterance %d", key);
		if (i % 3 == 0)
			tts_cache_put(w->c, "espeak", "en-us", text, audio + key, len);
		k = tts_cache_get(w->c, "espeak", "en-us", text);
		/* Every clip for a key has the same content: any other is a torn or mixed clip. */
		if (k && (tts_clip_len(k) != len || memcmp(tts_clip_data(k), audio + key, len) != 0))
			w->bad++;
		tts_clip_unref(k);
	}
	return NULL;
}

static void test_threads(void)
{
	/* Small enough that eviction runs all the time. */
	struct tts_cache *c = tts_cache_new(200000);
	struct worker w[4];
	pthread_t th[4];
	unsigned long long hits, misses;
	size_t bytes;
	int i, bad = 0;

	for (i = 0; i < 4; i++) {
		w[i].c = c;
		w[i].id = i;
		w[i].bad = 0;
		pthread_create(&th[i], NULL, worker, &w[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].bad;
	}
	tts_cache_stats(c, NULL, &bytes, &hits, &misses);
	printf("# 4 threads: %llu hits, %llu misses, %zu bytes held\n", hits, misses, bytes);
	CHECK_MSG(bad == 0, "no clip ever had the wrong content");
	CHECK(hits + misses == 80000);
	CHECK(hits > 0 && misses > 0);
	CHECK(bytes <= 200000);
	tts_cache_free(c);
}

int main(void)
{
	fill();
	test_basic();
	test_lru();
	test_long_key();
	test_threads();
	return check_done();
}
