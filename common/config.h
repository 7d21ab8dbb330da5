/* config: the one INI file (callpipe.conf) every callpipe program reads.
 * Defaults for every key live in config_defaults(); docs/CONFIG.md documents each one. */
#ifndef CALLPIPE_CONFIG_H
#define CALLPIPE_CONFIG_H

#include <stddef.h>

#define CONFIG_STR_MAX 512

struct config {
	/* [twilio] */
	char public_url[CONFIG_STR_MAX];   /* public_url = http://127.0.0.1:8080 (trailing / cut) */
	char auth_token[CONFIG_STR_MAX];   /* auth_token = (empty) */
	int validate;                      /* validate = yes */
	/* [log] */
	char log_dir[CONFIG_STR_MAX];      /* dir = /var/log/callpipe */
	/* [fcgi] */
	char templates_dir[CONFIG_STR_MAX];/* templates = /usr/local/share/callpipe/twiml-templates */
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
};

/* [ws] event_loop: lws's own poll() loop, or libev (epoll) as a foreign loop. */
#define CONFIG_EVLOOP_POLL  0
#define CONFIG_EVLOOP_LIBEV 1

/* Fill every field with its documented default. */
void config_defaults(struct config *cfg);

/* config_defaults(), then read PATH over it. Unknown sections or keys, bad values and
 * out-of-range numbers are errors: err gets "PATH:LINE: message". Returns 0 or -1. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* The file to read: ARG when given (-c), else $CALLPIPE_CONF, else NULL (defaults only). */
const char *config_path(const char *arg);

/* Cross-key checks run after loading: validate=yes with an empty auth_token, a public_url
 * that is not http(s)://host[:port][/path]. Returns 0 or -1 with err filled. */
int config_check(const struct config *cfg, char *err, size_t errlen);

#endif
