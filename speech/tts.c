/* tts: the dispatcher of tts.h: picks the engine [tts] engine names and forwards to its ops
 * (tts_int.h); also the BCP-47 to espeak-ng voice table, shared by the engines and the log. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "strutil.h"
#include "tts.h"
#include "tts_int.h"

struct tts_engine *tts_engine_new(const struct config *cfg, char *err, size_t errlen)
{
	struct tts_engine *e;
	int rc;

	if (!cfg) {
		strutil_seterr(err, errlen, "tts: no configuration");
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		strutil_seterr(err, errlen, "tts: out of memory");
		return NULL;
	}
	e->cfg = cfg;
	if (strcmp(cfg->tts_engine, "espeak") == 0) {
		rc = tts_espeak_open(e, err, errlen);
	} else if (strcmp(cfg->tts_engine, "http") == 0) {
		rc = tts_http_open(e, err, errlen);
	} else if (strcmp(cfg->tts_engine, "exec") == 0) {
		rc = tts_exec_open(e, err, errlen);
	} else {
		strutil_seterr(err, errlen, "tts: unknown engine \"%s\" (espeak, http or exec)",
			       cfg->tts_engine);
		rc = -1;
	}
	if (rc < 0 || !e->ops) {
		free(e);
		return NULL;
	}
	return e;
}

int tts_engine_synth(struct tts_engine *e, const struct tts_text *t, tts_sink_fn sink,
		     void *arg, char *err, size_t errlen)
{
	if (!t || !t->text || !sink) {
		strutil_seterr(err, errlen, "%s: no text or no sink", e->ops->name);
		return -1;
	}
	return e->ops->synth(e, t, sink, arg, err, errlen);
}

const char *tts_engine_name(const struct tts_engine *e)
{
	return e->ops->name;
}

void tts_engine_voice(const struct tts_engine *e, const char *voice, const char *language,
		      char *out, size_t cap)
{
	if (!cap)
		return;
	e->ops->voice(e->cfg, voice ? voice : "", language ? language : "", out, cap);
}

void tts_voice(const struct config *cfg, const char *voice, const char *language, char *out,
	       size_t cap)
{
	const struct tts_engine_ops *ops = !strcmp(cfg->tts_engine, "http") ? &tts_http_ops :
					   !strcmp(cfg->tts_engine, "exec") ? &tts_exec_ops :
					   &tts_espeak_ops;

	if (cap)
		ops->voice(cfg, voice ? voice : "", language ? language : "", out, cap);
}

void tts_engine_free(struct tts_engine *e)
{
	if (!e)
		return;
	if (e->ops && e->ops->free)
		e->ops->free(e);
	free(e);
}

/* Tags whose espeak-ng 1.51 voice is not simply the lower-cased primary subtag (voice names
 * from `espeak-ng --voices`; Latin American Spanish is one voice, es-419, for every region). */
static const struct {
	const char *tag, *voice;
} voice_table[] = {
	{"en-us", "en-us"}, {"en-gb", "en-gb"}, {"en-029", "en-029"},
	{"en", "en-us"},    /* Twilio's "en" default is US English */
	{"en-au", "en-gb"}, {"en-nz", "en-gb"}, {"en-ie", "en-gb"}, {"en-za", "en-gb"},
	{"en-in", "en-gb"},
	{"pt-br", "pt-br"}, {"pt-pt", "pt"},
	{"fr-be", "fr-be"}, {"fr-ch", "fr-ch"},
	{"es-419", "es-419"}, {"es-mx", "es-419"}, {"es-us", "es-419"}, {"es-ar", "es-419"},
	{"es-co", "es-419"}, {"es-cl", "es-419"}, {"es-pe", "es-419"},
	{"zh", "cmn"}, {"zh-cn", "cmn"}, {"zh-tw", "cmn"}, {"cmn", "cmn"}, {"cmn-cn", "cmn"},
	{"zh-hk", "yue"}, {"yue", "yue"}, {"yue-hk", "yue"},
	{"nb-no", "nb"}, {"no", "nb"}, {"no-no", "nb"},
	{"ru-lv", "ru-lv"},
};

void tts_espeak_voice_for(const char *language, char *out, size_t cap)
{
	char tag[32];
	size_t i, n = 0;

	if (!cap)
		return;
	out[0] = '\0';
	if (!language)
		return;
	/* Lower-cased, '_' read as '-' (en_US is common in configs); a tag that does not fit
	 * is no BCP-47 tag we map, and its primary subtag is enough. */
	for (i = 0; language[i] && n + 1 < sizeof(tag); i++) {
		unsigned char ch = (unsigned char)language[i];

		tag[n++] = ch == '_' ? '-' : (char)tolower(ch);
	}
	tag[n] = '\0';
	for (i = 0; i < sizeof(voice_table) / sizeof(voice_table[0]); i++)
		if (strcmp(tag, voice_table[i].tag) == 0) {
			snprintf(out, cap, "%s", voice_table[i].voice);
			return;
		}
	/* Otherwise the primary subtag: he-IL -> he, fr-FR -> fr, de-DE -> de. */
	tag[strcspn(tag, "-")] = '\0';
	if (strcmp(tag, "en") == 0)
		snprintf(out, cap, "en-us");
	else
		snprintf(out, cap, "%s", tag);
}
