/* asr_sphinx: the [asr] engine = pocketsphinx (Debian's 0.8+5prealpha): 8 kHz audio resampled
 * to 16 kHz and decoded as it arrives, against a JSGF grammar (hints or a file) or the LM. */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pocketsphinx.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/fsg_model.h>
#include <sphinxbase/jsgf.h>

#include "asr_int.h"
#include "config.h"
#include "resample.h"
#include "strutil.h"

/* Grammars kept per decoder: a call's menu is asked again and again, and building the FSG of
 * a phrase list costs milliseconds. */
#define SEARCH_CACHE 8
#define PIECE 4000          /* 8 kHz samples per ps_process_raw step (0.5 s) */
#define WORD_MAX 64
#define JSGF_MAX 16384

struct sphinx {
	char hmm[CONFIG_STR_MAX + 16], dict[CONFIG_STR_MAX + 32], lm[CONFIG_STR_MAX + 32];
};

struct search {
	char name[16];       /* "" free */
	char *key;           /* "h:" JSGF text or "g:" path and mtime */
	unsigned long used;
};

struct sdec {
	ps_decoder_t *ps;
	const struct sphinx *sx;
	struct resampler *rs;
	int in_utt;
	int lm_loaded;
	unsigned long tick;
	unsigned names;
	struct search cache[SEARCH_CACHE];
	char warn[160];
	mfcc_t cmn0[64];     /* the model's initial cepstral mean (its feat.params cmninit) */
	int ncmn;
	int16_t up[PIECE * 2 + 64];
};

/* sphinxbase logs through one process-wide callback: its errors are kept per thread (the
 * decoder's thread) so a failing call can say what went wrong; the rest is dropped. */
static _Thread_local char last_err[160];
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

__attribute__((format(printf, 3, 4)))
static void on_log(void *user, err_lvl_t lvl, const char *fmt, ...)
{
	va_list ap;

	(void)user;
	if (lvl < ERR_ERROR)
		return;
	va_start(ap, fmt);
	vsnprintf(last_err, sizeof(last_err), fmt, ap);
	va_end(ap);
	/* 'ERROR: "jsgf.c", line 923: Failed to ...': the source position says nothing here */
	{
		char *p = strstr(last_err, "\", line ");

		if (p && (p = strstr(p, ": ")))
			memmove(last_err, p + 2, strlen(p + 2) + 1);
	}
	asr_first_line(last_err);
}

static void log_setup(void)
{
	err_set_callback(on_log, NULL);
	/* cmd_ln prints its whole configuration straight to the log file handle */
	err_set_logfp(NULL);
}

static void ps_err(char *err, size_t errlen, const char *what)
{
	strutil_seterr(err, errlen, "pocketsphinx: %s%s%s", what, last_err[0] ? ": " : "",
		       last_err);
	last_err[0] = '\0';
}

static int sx_open(struct asr_engine *e, char *err, size_t errlen)
{
	const struct config *cfg = e->cfg;
	struct sphinx *sx = calloc(1, sizeof(*sx));
	char mdef[sizeof(sx->hmm) + 8];
	struct stat st;

	if (!sx) {
		strutil_seterr(err, errlen, "pocketsphinx: out of memory");
		return -1;
	}
	pthread_once(&log_once, log_setup);
	snprintf(sx->hmm, sizeof(sx->hmm), "%s", cfg->asr_hmm[0] ? cfg->asr_hmm : "");
	if (!sx->hmm[0])
		snprintf(sx->hmm, sizeof(sx->hmm), "%s/en-us", cfg->asr_model_dir);
	if (cfg->asr_dict[0])
		snprintf(sx->dict, sizeof(sx->dict), "%s", cfg->asr_dict);
	else
		snprintf(sx->dict, sizeof(sx->dict), "%s/cmudict-en-us.dict", cfg->asr_model_dir);
	if (cfg->asr_lm[0])
		snprintf(sx->lm, sizeof(sx->lm), "%s", cfg->asr_lm);
	else
		snprintf(sx->lm, sizeof(sx->lm), "%s/en-us.lm.bin", cfg->asr_model_dir);
	/* Checked here: some of sphinxbase's load errors are E_FATAL, which exit(). */
	snprintf(mdef, sizeof(mdef), "%s/mdef", sx->hmm);
	if (stat(mdef, &st) < 0) {
		strutil_seterr(err, errlen, "pocketsphinx: no acoustic model at %.300s "
			       "(install pocketsphinx-en-us or set [asr] model_dir / hmm)", sx->hmm);
		free(sx);
		return -1;
	}
	if (stat(sx->dict, &st) < 0 || !S_ISREG(st.st_mode)) {
		strutil_seterr(err, errlen, "pocketsphinx: no dictionary at %.300s", sx->dict);
		free(sx);
		return -1;
	}
	e->impl = sx;
	return 0;
}

static void sx_close(struct asr_engine *e)
{
	free(e->impl);
	e->impl = NULL;
}

static void *sx_dec_new(struct asr_engine *e, char *err, size_t errlen)
{
	struct sdec *d = calloc(1, sizeof(*d));
	cmd_ln_t *c;

	if (!d) {
		strutil_seterr(err, errlen, "pocketsphinx: out of memory");
		return NULL;
	}
	d->sx = e->impl;
	last_err[0] = '\0';
	/* -silprob 0.1 (default 0.005): telephone audio has breath and line noise before and
	 * between words, which the default took for a word (cards/001 "ten of clubs" came out
	 * "five ten of clubs" after the 8 kHz µ-law round trip); goforward is unchanged. */
	c = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", d->sx->hmm, "-dict", d->sx->dict,
			"-silprob", "0.1", NULL);
	if (!c) {
		ps_err(err, errlen, "bad configuration");
		free(d);
		return NULL;
	}
	d->ps = ps_init(c);
	cmd_ln_free_r(c);   /* the decoder keeps its own reference */
	if (!d->ps) {
		ps_err(err, errlen, "loading the model failed");
		free(d);
		return NULL;
	}
	{
		feat_t *f = ps_get_feat(d->ps);

		if (f && f->cmn_struct && feat_cepsize(f) <= 64) {
			d->ncmn = feat_cepsize(f);
			cmn_live_get(f->cmn_struct, d->cmn0);
		}
	}
	return d;
}

static void sx_reset(void *dec)
{
	struct sdec *d = dec;

	if (d->in_utt) {
		ps_end_utt(d->ps);
		d->in_utt = 0;
	}
	resampler_free(d->rs);
	d->rs = NULL;
}

static void sx_dec_free(void *dec)
{
	struct sdec *d = dec;

	if (!d)
		return;
	sx_reset(d);
	for (int i = 0; i < SEARCH_CACHE; i++)
		free(d->cache[i].key);
	ps_free(d->ps);
	free(d);
}

/* "hint \"PHRASE\" left out: WHY" added to the utterance's warning (bounded). */
static void add_warn(struct sdec *d, const char *phrase, const char *why, const char *word)
{
	size_t n = strlen(d->warn);
	char one[160];

	snprintf(one, sizeof(one), "hint \"%s\" left out: %s%s%s%s", phrase, word ? "\"" : "",
		 word ? word : "", word ? "\" " : "", why);
	if (n + strlen(one) + 2 >= sizeof(d->warn)) {
		if (n + 5 < sizeof(d->warn) && !strstr(d->warn, "; ..."))
			strcat(d->warn, "; ...");
		return;
	}
	/* fits: checked above */
	if (n) {
		memcpy(d->warn + n, "; ", 2);
		n += 2;
	}
	memcpy(d->warn + n, one, strlen(one) + 1);
}

/* One hint phrase as JSGF tokens into OUT: lower-cased words of [a-z0-9'-], sentence
 * punctuation at word ends dropped, each word in the dictionary. 0 used, -1 left out. */
static int phrase_jsgf(struct sdec *d, const char *p, size_t len, char *out, size_t cap)
{
	char phrase[256], word[WORD_MAX + 1];
	size_t o = 0, i = 0;
	int words = 0;

	while (len && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	snprintf(phrase, sizeof(phrase), "%.*s", (int)(len < 200 ? len : 200), p);
	while (i < len) {
		size_t w = 0;

		while (i < len && isspace((unsigned char)p[i]))
			i++;
		if (i == len)
			break;
		while (i < len && !isspace((unsigned char)p[i])) {
			unsigned char c = (unsigned char)p[i++];

			if (w == WORD_MAX) {
				add_warn(d, phrase, "a word is too long", NULL);
				return -1;
			}
			word[w++] = (char)tolower(c);
		}
		word[w] = '\0';
		/* "stop." and "yes!" are the word: drop what JSGF cannot hold at the ends */
		while (w && strchr(".?!,;:\"", word[w - 1]))
			word[--w] = '\0';
		{
			size_t s = strspn(word, ".?!,;:\"");

			memmove(word, word + s, w - s + 1);
			w -= s;
		}
		if (!w)
			continue;
		if (strspn(word, "abcdefghijklmnopqrstuvwxyz0123456789'-") != w) {
			add_warn(d, phrase, "has characters a grammar cannot hold", word);
			return -1;
		}
		char *pron = ps_lookup_word(d->ps, word);

		if (!pron) {
			add_warn(d, phrase, "is not in the dictionary", word);
			return -1;
		}
		free(pron);
		if (o + w + 2 >= cap)
			return -1;
		o += (size_t)snprintf(out + o, cap - o, "%s%s", words ? " " : "", word);
		words++;
	}
	return words ? 0 : -1;
}

/* The JSGF text of HINTS (malloc'd), or NULL with err when no phrase is usable. */
static char *hints_jsgf(struct sdec *d, const char *hints, char *err, size_t errlen)
{
	char *g = malloc(JSGF_MAX);
	size_t o;
	int n = 0;
	const char *p = hints;

	if (!g) {
		strutil_seterr(err, errlen, "pocketsphinx: out of memory");
		return NULL;
	}
	o = (size_t)snprintf(g, JSGF_MAX, "#JSGF V1.0;\ngrammar hints;\npublic <hint> = ");
	while (*p) {
		size_t len = strcspn(p, ",");
		char one[1024];

		if (phrase_jsgf(d, p, len, one, sizeof(one)) == 0 &&
		    o + strlen(one) + 16 < JSGF_MAX)
			o += (size_t)snprintf(g + o, JSGF_MAX - o, "%s( %s )", n++ ? " | " : "", one);
		p += len;
		if (*p == ',')
			p++;
	}
	if (!n) {
		strutil_seterr(err, errlen, "pocketsphinx: no usable hint phrase%s%s",
			       d->warn[0] ? " (" : "", d->warn);
		if (d->warn[0])
			strutil_seterr(err + strlen(err), errlen - strlen(err), ")");
		free(g);
		return NULL;
	}
	snprintf(g + o, JSGF_MAX - o, ";\n");
	return g;
}

/* What ps_set_jsgf_file() / ps_set_jsgf_string() do, minus their leak: 0.8+5prealpha never
 * frees the parsed grammar (tens of kB per distinct hint list, for the life of the process). */
static int set_jsgf(struct sdec *d, const char *name, int is_file, const char *arg)
{
	jsgf_t *j = is_file ? jsgf_parse_file(arg, NULL) : jsgf_parse_string(arg, NULL);
	jsgf_rule_t *rule;
	fsg_model_t *fsg;
	int rc;

	if (!j)
		return -1;
	rule = jsgf_get_public_rule(j);
	if (!rule) {
		snprintf(last_err, sizeof(last_err), "no public rule");
		jsgf_grammar_free(j);
		return -1;
	}
	fsg = jsgf_build_fsg(j, rule, ps_get_logmath(d->ps),
			     (float32)cmd_ln_float32_r(ps_get_config(d->ps), "-lw"));
	jsgf_grammar_free(j);
	if (!fsg)
		return -1;
	rc = ps_set_fsg(d->ps, name, fsg);   /* the search keeps its own reference */
	fsg_model_free(fsg);
	return rc;
}

/* Switch to the search for KEY, making it with MAKE when it is not cached. */
static int use_search(struct sdec *d, const char *key, int is_file, const char *arg, char *err,
		      size_t errlen)
{
	struct search *s = NULL, *lru = NULL;
	int rc;

	for (int i = 0; i < SEARCH_CACHE; i++) {
		struct search *c = &d->cache[i];

		if (c->name[0] && strcmp(c->key, key) == 0)
			s = c;
		if (!lru || !c->name[0] || (lru->name[0] && c->used < lru->used))
			lru = c;
	}
	if (s) {
		s->used = ++d->tick;
		if (ps_set_search(d->ps, s->name) < 0) {
			ps_err(err, errlen, "selecting a grammar failed");
			return -1;
		}
		return 0;
	}
	char name[16], old[16];

	snprintf(name, sizeof(name), "g%u", d->names++);
	last_err[0] = '\0';
	rc = set_jsgf(d, name, is_file, arg);
	if (rc < 0 || ps_set_search(d->ps, name) < 0) {
		ps_err(err, errlen, is_file ? "the grammar file does not load"
					    : "the hints grammar does not load");
		return -1;
	}
	/* evict only now: the search in use is never the one unset */
	snprintf(old, sizeof(old), "%s", lru->name);
	free(lru->key);
	lru->key = strdup(key);
	if (!lru->key) {
		lru->name[0] = '\0';
	} else {
		snprintf(lru->name, sizeof(lru->name), "%s", name);
		lru->used = ++d->tick;
	}
	if (old[0])
		ps_unset_search(d->ps, old);
	return 0;
}

static int sx_start(void *dec, const struct asr_req *q, char *err, size_t errlen)
{
	struct sdec *d = dec;
	int rc;

	sx_reset(d);
	d->warn[0] = '\0';
	if (q->grammar_path[0]) {
		struct stat st;
		char key[CONFIG_STR_MAX * 2];

		if (stat(q->grammar_path, &st) < 0) {
			strutil_seterr(err, errlen, "pocketsphinx: grammar %.200s is gone",
				       q->grammar_path);
			return -1;
		}
		/* the mtime in the key: an edited grammar file is loaded anew */
		snprintf(key, sizeof(key), "g:%s:%lld.%ld", q->grammar_path,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		rc = use_search(d, key, 1, q->grammar_path, err, errlen);
	} else if (q->hints[0]) {
		char *g = hints_jsgf(d, q->hints, err, errlen), *key;

		if (!g)
			return -1;
		key = malloc(strlen(g) + 3);
		if (!key) {
			free(g);
			strutil_seterr(err, errlen, "pocketsphinx: out of memory");
			return -1;
		}
		snprintf(key, strlen(g) + 3, "h:%s", g);
		rc = use_search(d, key, 0, g, err, errlen);
		free(key);
		free(g);
	} else {
		/* the LM costs ~70 MB per decoder: only decoders that need it load it */
		if (!d->lm_loaded) {
			last_err[0] = '\0';
			if (ps_set_lm_file(d->ps, "lm", d->sx->lm) < 0) {
				ps_err(err, errlen, "loading the language model failed");
				return -1;
			}
			d->lm_loaded = 1;
		}
		rc = ps_set_search(d->ps, "lm");
		if (rc < 0)
			ps_err(err, errlen, "selecting the language model failed");
	}
	if (rc < 0)
		return -1;
	d->rs = resampler_new(8000, 16000, 4, err, errlen);
	if (!d->rs)
		return -1;
	/* Live CMN carries the last utterance's channel into the next: a decoder serves many
	 * calls, so each utterance starts from the model's mean instead (cards/001 came out
	 * "five ten of clubs" after a goforward utterance on the same decoder). */
	if (d->ncmn)
		cmn_live_set(ps_get_feat(d->ps)->cmn_struct, d->cmn0);
	if (ps_start_utt(d->ps) < 0) {
		ps_err(err, errlen, "starting the utterance failed");
		return -1;
	}
	d->in_utt = 1;
	return 0;
}

static int sx_feed(void *dec, const int16_t *pcm, size_t n, char *err, size_t errlen)
{
	struct sdec *d = dec;

	while (n > 0) {
		size_t k = n < PIECE ? n : PIECE;
		long m = resampler_run(d->rs, pcm, k, d->up, sizeof(d->up) / sizeof(d->up[0]));

		if (m < 0) {
			strutil_seterr(err, errlen, "pocketsphinx: resampling failed");
			return -1;
		}
		if (m > 0 && ps_process_raw(d->ps, d->up, (size_t)m, FALSE, FALSE) < 0) {
			ps_err(err, errlen, "decoding failed");
			return -1;
		}
		pcm += k;
		n -= k;
	}
	return 0;
}

/* Speech moves on: a phone lasts ~50-150 ms, and slow speech stays under ~200 ms. A word
 * whose phones average far longer is the grammar stretched over noise (loud white noise came
 * out "stop" over 1.7 s, 430 ms a phone, at posterior 1.0, and acoustic scores per frame did
 * not tell it from speech). 1000 up to DUR_OK_FRAMES a phone, 0 from DUR_BAD_FRAMES. */
#define DUR_OK_FRAMES 20     /* 10 ms frames */
#define DUR_BAD_FRAMES 35

static int duration_factor(struct sdec *d)
{
	int worst = 1000;

	for (ps_seg_t *sg = ps_seg_iter(d->ps); sg; sg = ps_seg_next(sg)) {
		const char *w = ps_seg_word(sg);
		char *pron;
		int sf = 0, ef = 0, phones = 1, f;

		if (!w || w[0] == '<' || w[0] == '[')   /* silence and fillers may be long */
			continue;
		pron = ps_lookup_word(d->ps, w);
		if (!pron)
			continue;
		for (const char *c = pron; *c; c++)
			phones += *c == ' ';
		free(pron);
		ps_seg_frames(sg, &sf, &ef);
		f = (ef - sf + 1) / phones;
		if (f >= DUR_BAD_FRAMES)
			f = 0;
		else if (f <= DUR_OK_FRAMES)
			f = 1000;
		else
			f = 1000 * (DUR_BAD_FRAMES - f) / (DUR_BAD_FRAMES - DUR_OK_FRAMES);
		if (f < worst)
			worst = f;
	}
	return worst;
}

static int sx_finish(void *dec, struct asr_out *out, char *err, size_t errlen)
{
	struct sdec *d = dec;
	long m = resampler_drain(d->rs, d->up, sizeof(d->up) / sizeof(d->up[0]));
	const char *hyp;
	int32 score = 0, prob;

	if (m > 0 && ps_process_raw(d->ps, d->up, (size_t)m, FALSE, FALSE) < 0) {
		ps_err(err, errlen, "decoding failed");
		sx_reset(d);
		return -1;
	}
	d->in_utt = 0;
	if (ps_end_utt(d->ps) < 0) {
		ps_err(err, errlen, "ending the utterance failed");
		sx_reset(d);
		return -1;
	}
	resampler_free(d->rs);
	d->rs = NULL;
	hyp = ps_get_hyp(d->ps, &score);
	out->text = strdup(hyp ? hyp : "");
	if (!out->text) {
		strutil_seterr(err, errlen, "pocketsphinx: out of memory");
		return -1;
	}
	prob = ps_get_prob(d->ps);
	if (out->text[0]) {
		double p = logmath_exp(ps_get_logmath(d->ps), prob);
		int dur = duration_factor(d);

		out->conf = p <= 0 ? 0 : p >= 1 ? 1000 : (int)(p * 1000 + 0.5);
		out->conf = out->conf * dur / 1000;
		if (dur == 0)   /* no word of it is speech: nothing was said */
			out->text[0] = '\0';
	}
	snprintf(out->warn, sizeof(out->warn), "%s", d->warn);
	return 0;
}

const struct asr_engine_ops asr_sphinx_ops = {
	.name = "pocketsphinx",
	.open = sx_open,
	.close = sx_close,
	.dec_new = sx_dec_new,
	.dec_free = sx_dec_free,
	.start = sx_start,
	.feed = sx_feed,
	.finish = sx_finish,
	.reset = sx_reset,
};
