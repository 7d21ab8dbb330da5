/* config: reads callpipe.conf with inih into struct config; every key has a default and a
 * checked range, and every error names the file, the line, the key and what is wrong. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ini.h>

#include "config.h"
#include "streamtok.h"
#include "strutil.h"

/* Longest physical line: a CONFIG_STR_MAX value, a key, spaces and a comment fit easily. */
#define CONFIG_LINE_MAX 1024

enum key_type { K_STR, K_BOOL, K_INT, K_SIZE, K_MODE, K_EVLOOP, K_DOUBLE, K_ENGINE,
		K_ASR_ENGINE, K_RECORD };

struct key_spec {
	const char *section, *name;
	enum key_type type;
	size_t offset;
	size_t size;          /* K_STR, K_MODE: the field's size */
	long long min, max;   /* K_INT, K_SIZE */
	int nonempty;         /* K_STR: an empty value is an error */
};

#define STR(sec, key, field, ne) \
	{sec, key, K_STR, offsetof(struct config, field), sizeof(((struct config *)0)->field), \
	 0, 0, ne}
#define NUM(sec, key, type, field, lo, hi) \
	{sec, key, type, offsetof(struct config, field), 0, lo, hi, 0}

/* The ranges here are the ones config.h and docs/CONFIG.md give. */
static const struct key_spec keys[] = {
	STR("twilio", "public_url", public_url, 1),
	STR("twilio", "auth_token", auth_token, 0),
	{"twilio", "validate", K_BOOL, offsetof(struct config, validate), 0, 0, 0, 0},
	/* at most STREAMTOK_MAX_SECONDS: callpipe-ws refuses tokens valid for longer */
	NUM("twilio", "stream_token_seconds", K_INT, stream_token_seconds, 10, STREAMTOK_MAX_SECONDS),
	STR("twilio", "stream_url", stream_url, 0),
	STR("log", "dir", log_dir, 1),
	STR("fcgi", "templates", templates_dir, 1),
	NUM("fcgi", "max_body", K_SIZE, max_body, 1024, 16 * 1024 * 1024),
	NUM("fcgi", "threads", K_INT, threads, 1, 256),
	STR("fcgi", "listen", fcgi_listen, 0),
	STR("ws", "listen", ws_listen, 1),
	{"ws", "mode", K_MODE, offsetof(struct config, mode), sizeof(((struct config *)0)->mode),
	 0, 0, 1},
	NUM("ws", "max_message", K_SIZE, max_message, 1024, 16 * 1024 * 1024),
	NUM("ws", "idle_seconds", K_INT, idle_seconds, 1, 86400),
	NUM("ws", "echo_mark_every", K_INT, echo_mark_every, 0, 1000000),
	NUM("ws", "drain_seconds", K_INT, drain_seconds, 0, 3600),
	NUM("ws", "max_calls", K_INT, max_calls, 1, 1000000),
	NUM("ws", "max_queue_bytes", K_SIZE, max_queue_bytes, 4096, 256 * 1024 * 1024),
	{"ws", "event_loop", K_EVLOOP, offsetof(struct config, event_loop), 0, 0, 0, 0},
	NUM("ws", "max_memory", K_SIZE, max_memory, 1024 * 1024, 64LL * 1024 * 1024 * 1024),
	NUM("ws", "start_seconds", K_INT, start_seconds, 1, 3600),
	STR("ws", "tls_cert", tls_cert, 0),
	STR("ws", "tls_key", tls_key, 0),
	STR("agent", "turn_url", turn_url, 0),
	STR("agent", "connect_to", turn_connect_to, 0),
	NUM("agent", "turn_timeout_ms", K_INT, turn_timeout_ms, 100, 600000),
	NUM("agent", "max_turn_bytes", K_SIZE, max_turn_bytes, 1024, 16 * 1024 * 1024),
	NUM("agent", "max_verbs", K_INT, max_verbs, 1, 10000),
	NUM("agent", "max_say_chars", K_INT, max_say_chars, 16, 65536),
	NUM("agent", "max_turn_errors", K_INT, max_turn_errors, 1, 100),
	NUM("agent", "max_timeouts", K_INT, max_timeouts, 1, 100),
	STR("agent", "error_text", error_text, 0),
	STR("agent", "goodbye_text", goodbye_text, 0),
	STR("agent", "language", agent_language, 1),
	NUM("agent", "gather_timeout", K_INT, gather_timeout, 1, 600),
	{"agent", "record", K_RECORD, offsetof(struct config, record), 0, 0, 0, 0},
	STR("agent", "media_dir", media_dir, 1),
	STR("agent", "play_cache_dir", play_cache_dir, 1),
	NUM("agent", "play_cache_bytes", K_SIZE, play_cache_bytes, 0, 64LL * 1024 * 1024 * 1024),
	NUM("agent", "play_max_bytes", K_SIZE, play_max_bytes, 1024, 1024LL * 1024 * 1024),
	NUM("agent", "workers", K_INT, workers, 1, 64),
	NUM("agent", "lead_ms", K_INT, lead_ms, 100, 60000),
	NUM("agent", "speech_timeout_auto_ms", K_INT, speech_timeout_auto_ms, 100, 5000),
	NUM("agent", "vad_margin_db", K_INT, vad_margin_db, 1, 60),
	NUM("agent", "vad_echo_margin_db", K_INT, vad_echo_margin_db, 1, 60),
	NUM("agent", "vad_min_level_db", K_INT, vad_min_level_db, 0, 90),
	NUM("agent", "vad_min_speech_ms", K_INT, vad_min_speech_ms, 20, 500),
	NUM("agent", "vad_preroll_ms", K_INT, vad_preroll_ms, 0, 500),
	{"tts", "engine", K_ENGINE, offsetof(struct config, tts_engine),
	 sizeof(((struct config *)0)->tts_engine), 0, 0, 1},
	STR("tts", "voice", tts_voice, 0),
	{"tts", "speed", K_DOUBLE, offsetof(struct config, tts_speed), 0, 25, 400, 0},
	STR("tts", "url", tts_url, 1),
	STR("tts", "model", tts_model, 1),
	STR("tts", "api_key", tts_api_key, 0),
	STR("tts", "api_key_env", tts_api_key_env, 0),
	STR("tts", "command", tts_command, 0),
	NUM("tts", "timeout_ms", K_INT, tts_timeout_ms, 100, 600000),
	NUM("tts", "cache_bytes", K_SIZE, tts_cache_bytes, 0, 1024LL * 1024 * 1024),
	/* [asr] */
	{"asr", "engine", K_ASR_ENGINE, offsetof(struct config, asr_engine),
	 sizeof(((struct config *)0)->asr_engine), 0, 0, 1},
	STR("asr", "model_dir", asr_model_dir, 1),
	STR("asr", "hmm", asr_hmm, 0),
	STR("asr", "dict", asr_dict, 0),
	STR("asr", "lm", asr_lm, 0),
	STR("asr", "grammar_dir", asr_grammar_dir, 1),
	NUM("asr", "decoders", K_INT, asr_decoders, 1, 64),
	NUM("asr", "max_seconds", K_INT, asr_max_seconds, 1, 600),
	STR("asr", "url", asr_url, 1),
	STR("asr", "model", asr_model, 1),
	STR("asr", "api_key", asr_api_key, 0),
	STR("asr", "api_key_env", asr_api_key_env, 0),
	STR("asr", "command", asr_command, 0),
	NUM("asr", "timeout_ms", K_INT, asr_timeout_ms, 100, 600000),
};

static const char *const sections[] = {"twilio", "log", "fcgi", "ws", "agent", "tts", "asr"};

/* State shared by the line reader and the key handler during one config_load(). */
struct load_ctx {
	struct config *cfg;
	const char *path;
	FILE *fp;
	int line;       /* physical line the reader handed to inih last */
	int err_line;   /* first line with an error found by us (0: none) */
	char msg[256];  /* its message, without "PATH:LINE: " */
	int read_errno;
};

static void ctx_err(struct load_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ctx_err(struct load_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err_line)   /* keep the first one: lines arrive in order */
		return;
	c->err_line = c->line;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
}

/* A directory, not a file of that name: a stray file must not hide the shipped templates.
 * Checked when the configuration is read (each program start), not per request. */
void config_default_templates(char *out, size_t outlen, const char *site, const char *shipped)
{
	struct stat st;

	snprintf(out, outlen, "%s",
		 stat(site, &st) == 0 && S_ISDIR(st.st_mode) ? site : shipped);
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->public_url, sizeof(cfg->public_url), "http://127.0.0.1:8080");
	cfg->validate = 1;
	cfg->stream_token_seconds = 300;
	snprintf(cfg->log_dir, sizeof(cfg->log_dir), "/var/log/callpipe");
	config_default_templates(cfg->templates_dir, sizeof(cfg->templates_dir),
				 CONFIG_SITE_TEMPLATES, CONFIG_SHIPPED_TEMPLATES);
	cfg->max_body = 65536;
	cfg->threads = 8;
	snprintf(cfg->ws_listen, sizeof(cfg->ws_listen), "127.0.0.1:8081");
	snprintf(cfg->mode, sizeof(cfg->mode), "echo");
	cfg->max_message = 65536;
	cfg->idle_seconds = 30;
	cfg->echo_mark_every = 0;
	cfg->drain_seconds = 10;
	cfg->max_calls = 4096;
	cfg->max_queue_bytes = 1048576;
	cfg->event_loop = CONFIG_EVLOOP_POLL;
	cfg->max_memory = 256 * 1024 * 1024;
	cfg->start_seconds = 5;
	cfg->turn_timeout_ms = 10000;
	cfg->max_turn_bytes = 65536;
	cfg->max_verbs = 64;
	cfg->max_say_chars = 4096;
	cfg->max_turn_errors = 3;
	cfg->max_timeouts = 3;
	snprintf(cfg->error_text, sizeof(cfg->error_text), "Sorry, something went wrong.");
	snprintf(cfg->goodbye_text, sizeof(cfg->goodbye_text), "Goodbye.");
	snprintf(cfg->agent_language, sizeof(cfg->agent_language), "en-US");
	cfg->gather_timeout = 5;
	snprintf(cfg->media_dir, sizeof(cfg->media_dir), "%s", CALLPIPE_DATADIR "/media");
	snprintf(cfg->play_cache_dir, sizeof(cfg->play_cache_dir), "/var/cache/callpipe/play");
	cfg->play_cache_bytes = 64u * 1024 * 1024;
	cfg->play_max_bytes = 16u * 1024 * 1024;
	cfg->workers = 2;
	cfg->lead_ms = 1000;
	cfg->speech_timeout_auto_ms = 300;
	cfg->vad_margin_db = 12;
	cfg->vad_echo_margin_db = 18;
	cfg->vad_min_level_db = 40;
	cfg->vad_min_speech_ms = 180;
	cfg->vad_preroll_ms = 300;
	snprintf(cfg->tts_engine, sizeof(cfg->tts_engine), "espeak");
	cfg->tts_speed = 1.0;
	snprintf(cfg->tts_url, sizeof(cfg->tts_url), "https://api.openai.com/v1/audio/speech");
	snprintf(cfg->tts_model, sizeof(cfg->tts_model), "tts-1");
	snprintf(cfg->tts_api_key_env, sizeof(cfg->tts_api_key_env), "OPENAI_API_KEY");
	cfg->tts_timeout_ms = 10000;
	cfg->tts_cache_bytes = 8u * 1024 * 1024;
	/* [asr] */
	snprintf(cfg->asr_engine, sizeof(cfg->asr_engine), "pocketsphinx");
	snprintf(cfg->asr_model_dir, sizeof(cfg->asr_model_dir),
		 "/usr/share/pocketsphinx/model/en-us");
	snprintf(cfg->asr_grammar_dir, sizeof(cfg->asr_grammar_dir),
		 "%s", CALLPIPE_DATADIR "/grammars");
	cfg->asr_decoders = 4;
	cfg->asr_max_seconds = 60;
	snprintf(cfg->asr_url, sizeof(cfg->asr_url),
		 "https://api.openai.com/v1/audio/transcriptions");
	snprintf(cfg->asr_model, sizeof(cfg->asr_model), "whisper-1");
	snprintf(cfg->asr_api_key_env, sizeof(cfg->asr_api_key_env), "OPENAI_API_KEY");
	cfg->asr_timeout_ms = 10000;
}

static int known_section(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strlen(sections[i]) == len && strncmp(sections[i], s, len) == 0)
			return 1;
	return 0;
}

/* inih line reader: one physical line per call (so inih's line numbers are ours), with
 * leading blanks removed (inih would otherwise take an indented line as the continuation
 * of the previous value), overlong lines refused, and section headers checked here because
 * inih does not call the handler for a section without keys. */
static char *read_line(char *str, int num, void *stream)
{
	struct load_ctx *c = stream;
	char buf[CONFIG_LINE_MAX + 1], *s;
	size_t len = 0;
	int ch, nul = 0, toolong = 0;

	errno = 0;
	while ((ch = getc(c->fp)) != EOF && ch != '\n') {
		if (ch == '\0')
			nul = 1;
		if (len < CONFIG_LINE_MAX)
			buf[len++] = (char)ch;
		else
			toolong = 1;   /* keep reading: the rest of the line is not a new line */
	}
	if (ch == EOF && ferror(c->fp)) {
		c->read_errno = errno ? errno : EIO;
		return NULL;
	}
	if (ch == EOF && len == 0 && !toolong)
		return NULL;
	c->line++;
	buf[len] = '\0';
	if (len && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (toolong) {
		ctx_err(c, "line too long (over %d characters)", CONFIG_LINE_MAX);
		buf[0] = '\0';
	} else if (nul) {
		ctx_err(c, "NUL byte in line");
		buf[0] = '\0';
	}
	for (s = buf; *s == ' ' || *s == '\t'; s++)
		;
	if (*s == '[') {
		char *end = strchr(s, ']');

		if (end && !known_section(s + 1, (size_t)(end - s - 1)))
			ctx_err(c, "unknown section [%.*s] (known: [twilio] [log] [fcgi] [ws] [agent] [tts] [asr])",
				(int)(end - s - 1), s + 1);
	}
	if (strlen(s) + 1 > (size_t)num) {
		ctx_err(c, "line too long (over %d characters)", num - 1);
		s[0] = '\0';
	}
	memcpy(str, s, strlen(s) + 1);
	return str;
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* A whole decimal number (optional '-' so "-1" gets the range message, not a syntax one). */
static int parse_whole(const char *v, long long *out)
{
	const char *p = v;
	char *end;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (*end != '\0')
		return -1;
	if (errno == ERANGE)
		*out = *v == '-' ? LLONG_MIN : LLONG_MAX;
	return 0;
}

static int set_key(struct load_ctx *c, const struct key_spec *k, const char *value)
{
	char *field = (char *)c->cfg + k->offset;
	size_t len = strlen(value);
	long long n;
	int b;

	switch (k->type) {
	case K_STR:
	case K_MODE:
		if (len >= k->size) {
			ctx_err(c, "[%s] %s: value too long (%zu characters, at most %zu)",
				k->section, k->name, len, k->size - 1);
			return 0;
		}
		if (k->nonempty && len == 0) {
			ctx_err(c, "[%s] %s: must not be empty", k->section, k->name);
			return 0;
		}
		if (k->type == K_MODE && strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len) {
			ctx_err(c, "[%s] %s: \"%s\" is not a mode name (lower-case letters, digits, "
				"'_' and '-')", k->section, k->name, value);
			return 0;
		}
		memcpy(field, value, len + 1);
		return 1;
	case K_ENGINE:
		if (strcmp(value, "espeak") && strcmp(value, "http") && strcmp(value, "exec")) {
			ctx_err(c, "[%s] %s: \"%.64s\" is not an engine (espeak, http or exec)",
				k->section, k->name, value);
			return 0;
		}
		memcpy(field, value, len + 1);
		return 1;
	case K_ASR_ENGINE:
		if (strcmp(value, "pocketsphinx") && strcmp(value, "http") && strcmp(value, "exec")) {
			ctx_err(c, "[%s] %s: \"%.64s\" is not an engine (pocketsphinx, http or exec)",
				k->section, k->name, value);
			return 0;
		}
		memcpy(field, value, len + 1);
		return 1;
	case K_DOUBLE: {
		char *end;
		double d;

		errno = 0;
		d = strtod(value, &end);
		if (end == value || *end != '\0' || errno == ERANGE) {
			ctx_err(c, "[%s] %s: \"%.64s\" is not a number", k->section, k->name, value);
			return 0;
		}
		/* min and max are in hundredths */
		if (d * 100 < (double)k->min || d * 100 > (double)k->max) {
			ctx_err(c, "[%s] %s: %.64s is out of range (%.2f .. %.2f)", k->section,
				k->name, value, k->min / 100.0, k->max / 100.0);
			return 0;
		}
		*(double *)(void *)field = d;
		return 1;
	}
	case K_BOOL:
		if (parse_bool(value, &b) != 0) {
			ctx_err(c, "[%s] %s: \"%.64s\" is not a boolean (use yes/no, true/false, "
				"on/off or 1/0)", k->section, k->name, value);
			return 0;
		}
		*(int *)(void *)field = b;
		return 1;
	case K_EVLOOP:
		if (strcmp(value, "poll") == 0) {
			*(int *)(void *)field = CONFIG_EVLOOP_POLL;
		} else if (strcmp(value, "libev") == 0) {
			*(int *)(void *)field = CONFIG_EVLOOP_LIBEV;
		} else {
			ctx_err(c, "[%s] %s: \"%.64s\" is not an event loop (poll or libev)",
				k->section, k->name, value);
			return 0;
		}
		return 1;
	case K_RECORD:
		if (strcmp(value, "no") == 0) {
			*(int *)(void *)field = CONFIG_RECORD_NO;
		} else if (strcmp(value, "inbound") == 0) {
			*(int *)(void *)field = CONFIG_RECORD_INBOUND;
		} else if (strcmp(value, "both") == 0) {
			*(int *)(void *)field = CONFIG_RECORD_BOTH;
		} else {
			ctx_err(c, "[%s] %s: \"%.64s\" is not a recording choice (no, inbound or "
				"both)", k->section, k->name, value);
			return 0;
		}
		return 1;
	case K_INT:
	case K_SIZE:
		if (parse_whole(value, &n) != 0) {
			ctx_err(c, "[%s] %s: \"%.64s\" is not a whole number", k->section, k->name,
				value);
			return 0;
		}
		if (n < k->min || n > k->max) {
			ctx_err(c, "[%s] %s: %.64s is out of range (%lld .. %lld)", k->section,
				k->name, value, k->min, k->max);
			return 0;
		}
		if (k->type == K_INT)
			*(int *)(void *)field = (int)n;
		else
			*(size_t *)(void *)field = (size_t)n;
		return 1;
	}
	return 0;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *c = user;
	size_t i;
	int section_known = 0;

	if (!*section) {
		ctx_err(c, "key \"%s\" before any section (start with [twilio], [log], [fcgi] "
			"or [ws])", name);
		return 0;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].section, section) != 0)
			continue;
		section_known = 1;
		if (strcmp(keys[i].name, name) == 0)
			return set_key(c, &keys[i], value);
	}
	if (section_known)
		ctx_err(c, "unknown key \"%s\" in [%s]", name, section);
	else   /* already reported on the section line; keep the handler's answer consistent */
		ctx_err(c, "unknown section [%s]", section);
	return 0;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct load_ctx c;
	struct stat st;
	int rc;

	config_defaults(cfg);
	if (err && errlen)
		err[0] = '\0';
	if (!path) {
		strutil_seterr(err, errlen, "no configuration file given");
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.path = path;
	c.fp = fopen(path, "re");
	if (!c.fp) {
		strutil_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(c.fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		strutil_seterr(err, errlen, "%s: %s", path, strerror(EISDIR));
		fclose(c.fp);
		return -1;
	}
	/* Debian's inih sizes its line buffer (a VLA) by this run-time setting, 200 by default:
	 * raise it once so a value of CONFIG_STR_MAX - 1 characters fits on a line. */
	if (ini_max_line < CONFIG_LINE_MAX + 3)
		ini_max_line = CONFIG_LINE_MAX + 3;
	rc = ini_parse_stream(read_line, &c, on_key, &c);
	fclose(c.fp);
	if (c.read_errno) {
		strutil_seterr(err, errlen, "%s: %s", path, strerror(c.read_errno));
		return -1;
	}
	if (rc > 0 && (!c.err_line || rc < c.err_line)) {
		/* inih found a line it cannot parse before any error of ours. */
		strutil_seterr(err, errlen, "%s:%d: syntax error (expected \"key = value\" or "
			       "\"[section]\")", path, rc);
		return -1;
	}
	if (c.err_line) {
		strutil_seterr(err, errlen, "%s:%d: %s", path, c.err_line, c.msg);
		return -1;
	}
	if (rc != 0) {
		strutil_seterr(err, errlen, "%s: cannot parse (inih error %d)", path, rc);
		return -1;
	}
	/* public_url is a base the programs append paths to. */
	{
		size_t n = strlen(cfg->public_url);

		while (n > 0 && cfg->public_url[n - 1] == '/')
			cfg->public_url[--n] = '\0';
	}
	return 0;
}

const char *config_path(const char *arg)
{
	const char *env;

	if (arg && *arg)
		return arg;
	env = getenv("CALLPIPE_CONF");
	return env && *env ? env : NULL;
}

/* A base URL the programs build on: SCHEME_A or SCHEME_B ("http"/"https" for public_url,
 * "ws"/"wss" for stream_url), a host, an optional :port and path; nothing a signature or
 * TwiML attribute would mangle. KEY names the setting in the message. */
static int check_url(const char *key, const char *url, const char *scheme_a,
		     const char *scheme_b, const char *example, char *err, size_t errlen)
{
	const char *host, *end, *colon, *p;
	size_t la = strlen(scheme_a), lb = strlen(scheme_b);

	if (strncmp(url, scheme_b, lb) == 0 && strncmp(url + lb, "://", 3) == 0)
		host = url + lb + 3;
	else if (strncmp(url, scheme_a, la) == 0 && strncmp(url + la, "://", 3) == 0)
		host = url + la + 3;
	else {
		strutil_seterr(err, errlen, "%s \"%.200s\" must start with %s:// or %s:// (%s)",
			       key, url, scheme_a, scheme_b, example);
		return -1;
	}
	for (p = url; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#' ||
		    *p == '"' || *p == '<' || *p == '>' || *p == '\\') {
			strutil_seterr(err, errlen, "%s \"%.200s\": character '%c' is not "
				       "allowed (no spaces, query or fragment)", key, url,
				       (unsigned char)*p > ' ' ? *p : '?');
			return -1;
		}
	}
	end = host + strcspn(host, "/");
	if (memchr(host, '@', (size_t)(end - host))) {
		strutil_seterr(err, errlen, "%s \"%.200s\": user information is not allowed",
			       key, url);
		return -1;
	}
	colon = *host == '[' ? memchr(host, ']', (size_t)(end - host)) : host;
	if (!colon) {
		strutil_seterr(err, errlen, "%s \"%.200s\": unterminated IPv6 address", key, url);
		return -1;
	}
	colon = memchr(colon, ':', (size_t)(end - colon));
	if ((colon ? colon : end) == host) {
		strutil_seterr(err, errlen, "%s \"%.200s\" has no host name", key, url);
		return -1;
	}
	if (colon) {
		size_t plen = (size_t)(end - colon - 1);
		long port = 0;

		for (p = colon + 1; p < end && *p >= '0' && *p <= '9'; p++)
			port = port * 10 + (*p - '0');
		if (plen == 0 || plen > 5 || p != end || port < 1 || port > 65535) {
			strutil_seterr(err, errlen, "%s \"%.200s\": bad port (1 .. 65535)", key,
				       url);
			return -1;
		}
	}
	return 0;
}

int config_check(const struct config *cfg, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (cfg->validate && cfg->auth_token[0] == '\0') {
		strutil_seterr(err, errlen, "[twilio] validate = yes but auth_token is empty: set "
			       "auth_token to your Twilio auth token, or set validate = no for "
			       "local development (requests are then not authenticated)");
		return -1;
	}
	if (check_url("[twilio] public_url", cfg->public_url, "http", "https", "the URL Twilio "
		      "is given, e.g. https://voice.example.com", err, errlen) < 0)
		return -1;
	/* The Stream url Twilio dials, and the URL its upgrade signature covers. */
	if (cfg->stream_url[0] &&
	    check_url("[twilio] stream_url", cfg->stream_url, "ws", "wss", "the Stream url "
		      "Twilio dials, e.g. wss://media.example.com:8443/ws/twilio-media", err,
		      errlen) < 0)
		return -1;
	if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
		strutil_seterr(err, errlen, "[ws] %s is set but %s is empty: give both (PEM "
			       "certificate chain and its private key) to serve wss://, or neither",
			       cfg->tls_cert[0] ? "tls_cert" : "tls_key",
			       cfg->tls_cert[0] ? "tls_key" : "tls_cert");
		return -1;
	}
	return 0;
}
