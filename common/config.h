/* config: the one INI file (callpipe.conf) every callpipe program reads.
 * Defaults for every key live in config_defaults(); docs/CONFIG.md documents each one. */
#ifndef CALLPIPE_CONFIG_H
#define CALLPIPE_CONFIG_H

#include <stddef.h>

#define CONFIG_STR_MAX 512

/* Where the shipped data lives: $(PREFIX)/share/callpipe, set by the Makefile (so the
 * package, built with PREFIX=/usr, looks in /usr/share/callpipe). */
#ifndef CALLPIPE_DATADIR
#define CALLPIPE_DATADIR "/usr/local/share/callpipe"
#endif
/* The site's own templates: when this directory exists it replaces the shipped ones
 * (unless [fcgi] templates names a directory), so a package upgrade never touches them. */
#define CONFIG_SITE_TEMPLATES "/etc/callpipe/twiml-templates"
#define CONFIG_SHIPPED_TEMPLATES CALLPIPE_DATADIR "/twiml-templates"

struct config {
	/* [twilio] */
	char public_url[CONFIG_STR_MAX];   /* public_url = http://127.0.0.1:8080 (trailing / cut) */
	char auth_token[CONFIG_STR_MAX];   /* auth_token = (empty) */
	int validate;                      /* validate = yes */
	int stream_token_seconds;          /* stream_token_seconds = 300 (10 .. 86400): lifetime
	                                      of the TwiML's callpipe_token (common/streamtok.h) */
	char stream_url[CONFIG_STR_MAX];   /* stream_url = (empty: public_url, https -> wss, +
	                                      /ws/twilio-media); ws(s)://host[:port][/path] */
	/* [log] */
	char log_dir[CONFIG_STR_MAX];      /* dir = /var/log/callpipe */
	/* [fcgi] */
	char templates_dir[CONFIG_STR_MAX];/* templates = (unset: CONFIG_SITE_TEMPLATES when it is a
	                                      directory, else CONFIG_SHIPPED_TEMPLATES) */
	size_t max_body;                   /* max_body = 65536 (bytes, 1 KiB .. 16 MiB) */
	int threads;                       /* threads = 8 (1 .. 256), for --listen */
	char fcgi_listen[CONFIG_STR_MAX];  /* listen = (empty: socket on stdin, or CGI) */
	/* [ws] */
	char ws_listen[CONFIG_STR_MAX];    /* listen = 127.0.0.1:8081 */
	char mode[32];                     /* mode = echo */
	size_t max_message;                /* max_message = 65536 (bytes, 1 KiB .. 16 MiB) */
	int idle_seconds;                  /* idle_seconds = 30 (1 .. 86400) */
	int echo_mark_every;               /* echo_mark_every = 0 (0 = never, .. 1000000) */
	int drain_seconds;                 /* drain_seconds = 10 (0 .. 3600) */
	int max_calls;                     /* max_calls = 4096 (1 .. 1000000) */
	size_t max_queue_bytes;            /* max_queue_bytes = 1048576 (outbound bytes per call,
	                                      4 KiB .. 256 MiB) */
	int event_loop;                    /* event_loop = poll (CONFIG_EVLOOP_*) */
	size_t max_memory;                 /* max_memory = 268435456 (bytes queued out and being
	                                      reassembled, all calls, 1 MiB .. 64 GiB) */
	int start_seconds;                 /* start_seconds = 5 (a stream must send start by
	                                      then, 1 .. 3600) */
	char tls_cert[CONFIG_STR_MAX];     /* tls_cert = (empty: plain ws; PEM chain: serve wss) */
	char tls_key[CONFIG_STR_MAX];      /* tls_key = (empty; PEM key of tls_cert) */
	/* [agent] */
	char turn_url[CONFIG_STR_MAX];     /* turn_url = (empty: {public_url}/webhook/turn) */
	char turn_connect_to[CONFIG_STR_MAX]; /* connect_to = (empty: the URL's own host:port) */
	int turn_timeout_ms;               /* turn_timeout_ms = 10000 (100 .. 600000) */
	size_t max_turn_bytes;             /* max_turn_bytes = 65536 (1 KiB .. 16 MiB) */
	int max_verbs;                     /* max_verbs = 64 (1 .. 10000) */
	int max_say_chars;                 /* max_say_chars = 4096 (16 .. 65536) */
	int max_turn_errors;               /* max_turn_errors = 3 (1 .. 100) */
	int max_timeouts;                  /* max_timeouts = 3 (1 .. 100) */
	char error_text[CONFIG_STR_MAX];   /* error_text = Sorry, something went wrong. */
	char goodbye_text[CONFIG_STR_MAX]; /* goodbye_text = Goodbye. */
	char agent_language[32];           /* language = en-US (Gather and Say default) */
	int gather_timeout;                /* gather_timeout = 5 (seconds, 1 .. 600) */
	int record;                        /* record = no (CONFIG_RECORD_*: every mode's calls,
	                                      speech/recorder.h) */
	char media_dir[CONFIG_STR_MAX];    /* media_dir = CALLPIPE_DATADIR/media */
	char play_cache_dir[CONFIG_STR_MAX]; /* play_cache_dir = /var/cache/callpipe/play */
	size_t play_cache_bytes;           /* play_cache_bytes = 67108864 (0 .. 64 GiB) */
	size_t play_max_bytes;             /* play_max_bytes = 16777216 (1 KiB .. 1 GiB) */
	int workers;                       /* workers = 2 (1 .. 64) */
	int lead_ms;                       /* lead_ms = 1000 (audio sent ahead of play, 100 .. 60000) */
	/* [agent] listening: the VAD (speech/vad.h; docs/AGENT.md "Listening" says why) */
	int speech_timeout_auto_ms;        /* speech_timeout_auto_ms = 300 (100 .. 5000): what
	                                      speechTimeout="auto" waits after speech */
	int vad_margin_db;                 /* vad_margin_db = 12 (1 .. 60) */
	int vad_echo_margin_db;            /* vad_echo_margin_db = 18 (1 .. 60): while agent
	                                      audio plays */
	int vad_min_level_db;              /* vad_min_level_db = 40 (0 .. 90) */
	int vad_min_speech_ms;             /* vad_min_speech_ms = 180 (20 .. 500) */
	int vad_preroll_ms;                /* vad_preroll_ms = 300 (0 .. 500) */
	/* [tts] */
	char tts_engine[16];               /* engine = espeak (espeak | http | exec) */
	char tts_voice[64];                /* voice = (empty: chosen from the language) */
	double tts_speed;                  /* speed = 1.0 (0.25 .. 4.0) */
	char tts_url[CONFIG_STR_MAX];      /* url = https://api.openai.com/v1/audio/speech */
	char tts_model[64];                /* model = tts-1 */
	char tts_api_key[CONFIG_STR_MAX];  /* api_key = (empty) */
	char tts_api_key_env[64];          /* api_key_env = OPENAI_API_KEY */
	char tts_command[CONFIG_STR_MAX];  /* command = (empty; exec engine: sh -c COMMAND) */
	int tts_timeout_ms;                /* timeout_ms = 10000 (100 .. 600000) */
	size_t tts_cache_bytes;            /* cache_bytes = 8388608 (0 .. 1 GiB) */
	/* [asr] (speech/recog.h) */
	char asr_engine[16];               /* engine = pocketsphinx (pocketsphinx | http | exec) */
	char asr_model_dir[CONFIG_STR_MAX];/* model_dir = /usr/share/pocketsphinx/model/en-us */
	char asr_hmm[CONFIG_STR_MAX];      /* hmm = (empty: {model_dir}/en-us) */
	char asr_dict[CONFIG_STR_MAX];     /* dict = (empty: {model_dir}/cmudict-en-us.dict) */
	char asr_lm[CONFIG_STR_MAX];       /* lm = (empty: {model_dir}/en-us.lm.bin) */
	char asr_grammar_dir[CONFIG_STR_MAX]; /* grammar_dir = CALLPIPE_DATADIR/grammars */
	int asr_decoders;                  /* decoders = 4 (1 .. 64) */
	int asr_max_seconds;               /* max_seconds = 60 (audio per utterance, 1 .. 600) */
	char asr_url[CONFIG_STR_MAX];      /* url = https://api.openai.com/v1/audio/transcriptions */
	char asr_model[64];                /* model = whisper-1 */
	char asr_api_key[CONFIG_STR_MAX];  /* api_key = (empty) */
	char asr_api_key_env[64];          /* api_key_env = OPENAI_API_KEY */
	char asr_command[CONFIG_STR_MAX];  /* command = (empty; exec engine: sh -c COMMAND) */
	int asr_timeout_ms;                /* timeout_ms = 10000 (100 .. 600000) */
};

/* [ws] event_loop: lws's own poll() loop, or libev (epoll) as a foreign loop. */
#define CONFIG_EVLOOP_POLL  0
#define CONFIG_EVLOOP_LIBEV 1

/* [agent] record: <CallSid>.in.wav (the caller) and, with both, <CallSid>.out.wav (what
 * was sent, as the caller heard it) next to the call log. */
#define CONFIG_RECORD_NO      0
#define CONFIG_RECORD_INBOUND 1
#define CONFIG_RECORD_BOTH    2

/* Fill every field with its documented default. */
void config_defaults(struct config *cfg);

/* The templates directory when [fcgi] templates is not set: SITE if it is a directory
 * (the administrator's override), else SHIPPED. config_defaults() calls it with
 * CONFIG_SITE_TEMPLATES and CONFIG_SHIPPED_TEMPLATES; tests pass their own paths. */
void config_default_templates(char *out, size_t outlen, const char *site, const char *shipped);

/* config_defaults(), then read PATH over it. Unknown sections or keys, bad values and
 * out-of-range numbers are errors: err gets "PATH:LINE: message". Returns 0 or -1. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* The file to read: ARG when given (-c), else $CALLPIPE_CONF, else NULL (defaults only). */
const char *config_path(const char *arg);

/* Cross-key checks run after loading: validate=yes with an empty auth_token, a public_url
 * that is not http(s)://host[:port][/path], a stream_url that is not ws(s)://host[:port]
 * [/path], tls_cert without tls_key or the reverse. Returns 0 or -1 with err filled. */
int config_check(const struct config *cfg, char *err, size_t errlen);

#endif
