/* test_sim_stream: callpipe-sim's stream engine against a scripted WebSocket server on
 * loopback (a thread speaking raw RFC 6455): echo, marks, clear, faults, --inject, closes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/sha.h>

#include "check.h"
#include "base64.h"
#include "../../tools/sim/callrun.h"
#include "../../tools/sim/inject.h"
#include "../../tools/sim/playout.h"
#include "../../tools/sim/report.h"
#include "../../tools/sim/sim.h"
#include "../../tools/sim/simmsg.h"
#include "../../tools/sim/stream.h"

/* STRICT answers bad input as callpipe-ws must (issue 3): counts it and goes on, closes
 * 1009 over LIMIT bytes and 1008 on a bad callSid; FRAGILE closes 1011 on non-JSON. */
enum scenario { ECHO, FAULTS, MARKS, NOT_FOUND, BAD_SUBPROTOCOL, EARLY_CLOSE, FRAGMENTS,
		STRICT, FRAGILE };
#define LIMIT 4096

struct server {
	int lfd, fd;
	enum scenario sc;
	const char *answer_protocol;   /* Sec-WebSocket-Protocol to answer, NULL: none */
	char offered[128];             /* what the client offered */
	char signature[64];            /* X-Twilio-Signature seen on the upgrade */
	char sid[64];
	int media_seen, marks_back, stops;
	double mark_back_ms[8];        /* when each mark returned, from when it was sent */
	double mark_sent_at;
	/* what came in: messages, frames, messages in several frames, the fewest frames of any
	 * message; bad input STRICT counted; the close code the server sent (0 none) */
	int msgs, frames, multi, min_frames;
	int bad_json, binary, unknown, before_start, wrong_sid, bad_b64, started;
	int closed_with;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, (char *)buf + got, n - got);

		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/* One server frame (unmasked), FIN and OPCODE as given, in one write(): two would meet
 * Nagle and the client's delayed ACK and arrive up to a frame time late. */
static void send_frame(int fd, int fin, int opcode, const void *data, size_t len)
{
	uint8_t *f = malloc(len + 4);
	size_t hl = 2;

	if (!f)
		return;
	f[0] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	if (len < 126) {
		f[1] = (uint8_t)len;
	} else {
		f[1] = 126;
		f[2] = (uint8_t)(len >> 8);
		f[3] = (uint8_t)len;
		hl = 4;
	}
	memcpy(f + hl, data, len);
	if (write(fd, f, hl + len) < 0)
		perror("test server write");
	free(f);
}

static void send_text(int fd, const char *s)
{
	send_frame(fd, 1, 1, s, strlen(s));
}

/* Read one client frame (masked) into BUF; returns the opcode, -1 on EOF. */
static int read_frame(int fd, char *buf, size_t cap, size_t *len, int *fin)
{
	uint8_t h[2], ext[8], mask[4];
	uint64_t n;
	size_t i;

	if (read_full(fd, h, 2))
		return -1;
	n = h[1] & 0x7F;
	if (n == 126) {
		if (read_full(fd, ext, 2))
			return -1;
		n = (uint64_t)ext[0] << 8 | ext[1];
	} else if (n == 127) {
		if (read_full(fd, ext, 8))
			return -1;
		for (n = 0, i = 0; i < 8; i++)
			n = n << 8 | ext[i];
	}
	if (n + 1 > cap || read_full(fd, mask, 4) || read_full(fd, buf, (size_t)n))
		return -1;
	for (i = 0; i < n; i++)
		buf[i] ^= (char)mask[i % 4];
	buf[n] = '\0';
	*len = (size_t)n;
	*fin = h[0] >> 7;
	return h[0] & 0x0F;
}

static void header_value(const char *req, const char *name, char *out, size_t cap)
{
	const char *p = strcasestr(req, name);
	size_t n;

	out[0] = '\0';
	if (!p)
		return;
	p += strlen(name);
	while (*p == ' ')
		p++;
	n = strcspn(p, "\r\n");
	snprintf(out, cap, "%.*s", (int)(n < cap - 1 ? n : cap - 1), p);
}

static int handshake(struct server *s)
{
	char req[4096], key[128], acc_in[200], accept[64], resp[512];
	unsigned char sha[SHA_DIGEST_LENGTH];
	size_t used = 0;

	while (used < sizeof(req) - 1) {
		ssize_t k = read(s->fd, req + used, sizeof(req) - 1 - used);

		if (k <= 0)
			return -1;
		used += (size_t)k;
		req[used] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	header_value(req, "Sec-WebSocket-Protocol:", s->offered, sizeof(s->offered));
	header_value(req, "X-Twilio-Signature:", s->signature, sizeof(s->signature));
	if (s->sc == NOT_FOUND) {
		const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

		return write(s->fd, nf, strlen(nf)) < 0 ? -1 : 1;
	}
	header_value(req, "Sec-WebSocket-Key:", key, sizeof(key));
	snprintf(acc_in, sizeof(acc_in), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	SHA1((const unsigned char *)acc_in, strlen(acc_in), sha);
	base64_encode(sha, sizeof(sha), accept, sizeof(accept));
	snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s%s\r\n", accept,
		 s->answer_protocol ? "Sec-WebSocket-Protocol: " : "",
		 s->answer_protocol ? s->answer_protocol : "", s->answer_protocol ? "\r\n" : "");
	return write(s->fd, resp, strlen(resp)) < 0 ? -1 : 0;
}

static void on_start(struct server *s)
{
	char msg[1024];

	switch (s->sc) {
	case FAULTS:
		send_frame(s->fd, 1, 2, "\x01\x02", 2);                     /* binary: 31950 */
		send_text(s->fd, "this is not json");                         /* 31951 */
		send_text(s->fd, "{\"event\":\"start\",\"streamSid\":\"x\"}");  /* 31951 */
		send_text(s->fd, "{\"event\":\"clear\",\"streamSid\":\"MZ0000\"}"); /* 31951 */
		snprintf(msg, sizeof(msg), "{\"event\":\"media\",\"streamSid\":\"%s\",\"media\":"
			 "{\"payload\":\"UklGRiQAAABXQVZF\"}}", s->sid);               /* RIFF */
		send_text(s->fd, msg);
		break;
	case MARKS: {
		/* 3 frames of audio, then a mark: back after they played (about 60 ms). */
		uint8_t audio[480];
		char b64[700];

		memset(audio, 0x7F, sizeof(audio));
		base64_encode(audio, sizeof(audio), b64, sizeof(b64));
		snprintf(msg, sizeof(msg), "{\"event\":\"media\",\"streamSid\":\"%s\",\"media\":"
			 "{\"payload\":\"%s\"}}", s->sid, b64);
		send_text(s->fd, msg);
		snprintf(msg, sizeof(msg), "{\"event\":\"mark\",\"streamSid\":\"%s\",\"mark\":"
			 "{\"name\":\"after-audio\"}}", s->sid);
		s->mark_sent_at = now_ms();
		send_text(s->fd, msg);
		break;
	}
	case EARLY_CLOSE:
		send_frame(s->fd, 1, 8, "\x03\xe8" "bye", 5);
		break;
	case FRAGMENTS:
		/* One clear in three fragments: text, continuation, final continuation. */
		snprintf(msg, sizeof(msg), "{\"event\":\"clear\",\"streamSid\":\"%s\"}", s->sid);
		send_frame(s->fd, 0, 1, msg, 5);
		send_frame(s->fd, 0, 0, msg + 5, 10);
		send_frame(s->fd, 1, 0, msg + 15, strlen(msg) - 15);
		break;
	default:
		break;
	}
}

static void on_text(struct server *s, const char *text, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(text, len), *ev;
	char msg[1024];

	if (!j)
		return;
	ev = cJSON_GetObjectItem(j, "event");
	if (cJSON_IsString(ev) && strcmp(ev->valuestring, "start") == 0) {
		snprintf(s->sid, sizeof(s->sid), "%s",
			 cJSON_GetObjectItem(j, "streamSid")->valuestring);
		on_start(s);
	} else if (cJSON_IsString(ev) && strcmp(ev->valuestring, "media") == 0) {
		const char *pl = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "media"),
						     "payload")->valuestring;

		if (s->sc == ECHO || s->sc == FRAGMENTS) {
			if (s->sc == ECHO && s->media_seen == 0) {
				snprintf(msg, sizeof(msg), "{\"event\":\"clear\",\"streamSid\":\"%s\"}",
					 s->sid);
				send_text(s->fd, msg);
			}
			snprintf(msg, sizeof(msg), "{\"event\":\"media\",\"streamSid\":\"%s\",\"media\":"
				 "{\"payload\":\"%s\"}}", s->sid, pl);
			send_text(s->fd, msg);
		}
		if (s->sc == MARKS && s->media_seen == 5) {
			/* A mark with nothing buffered comes back at once... */
			snprintf(msg, sizeof(msg), "{\"event\":\"mark\",\"streamSid\":\"%s\",\"mark\":"
				 "{\"name\":\"empty\"}}", s->sid);
			s->mark_sent_at = now_ms();
			send_text(s->fd, msg);
		}
		if (s->sc == MARKS && s->media_seen == 10) {
			/* ...and a clear returns a pending one at once. */
			uint8_t audio[8000];
			char *b64 = malloc(12000), *big = malloc(13000);

			memset(audio, 0x7F, sizeof(audio));
			if (b64 && big) {
				base64_encode(audio, sizeof(audio), b64, 12000);
				snprintf(big, 13000, "{\"event\":\"media\",\"streamSid\":\"%s\","
					 "\"media\":{\"payload\":\"%s\"}}", s->sid, b64);
				send_text(s->fd, big);
				snprintf(msg, sizeof(msg), "{\"event\":\"mark\",\"streamSid\":\"%s\","
					 "\"mark\":{\"name\":\"flushed\"}}", s->sid);
				send_text(s->fd, msg);
				snprintf(msg, sizeof(msg), "{\"event\":\"clear\",\"streamSid\":\"%s\"}",
					 s->sid);
				s->mark_sent_at = now_ms();
				send_text(s->fd, msg);
			}
			free(b64);
			free(big);
		}
		s->media_seen++;
	} else if (cJSON_IsString(ev) && strcmp(ev->valuestring, "mark") == 0) {
		if (s->marks_back < 8)
			s->mark_back_ms[s->marks_back++] = now_ms() - s->mark_sent_at;
	} else if (cJSON_IsString(ev) && strcmp(ev->valuestring, "stop") == 0) {
		s->stops++;
	}
	cJSON_Delete(j);
}

static void close_with(struct server *s, int code, const char *reason)
{
	char f[128];
	size_t n = strlen(reason);

	f[0] = (char)(code >> 8);
	f[1] = (char)(code & 0xFF);
	memcpy(f + 2, reason, n);
	send_frame(s->fd, 1, 8, f, n + 2);
	s->closed_with = code;
}

static int valid_call_sid(const char *v)
{
	return strlen(v) == 34 && strncmp(v, "CA", 2) == 0 &&
	       strspn(v + 2, "0123456789abcdefABCDEF") == 32;
}

static const char *str_at(const cJSON *o, const char *k1, const char *k2)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k1);

	if (k2)
		v = cJSON_GetObjectItemCaseSensitive(v, k2);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* STRICT and FRAGILE: what callpipe-ws does with each message, in small. */
static void on_text_strict(struct server *s, const char *text, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	const char *ev, *sid, *pl;
	uint8_t pcm[4096];
	char msg[1024];

	if (!j) {
		s->bad_json++;
		if (s->sc == FRAGILE)
			close_with(s, 1011, "cannot parse");
		return;
	}
	ev = str_at(j, "event", NULL);
	sid = str_at(j, "streamSid", NULL);
	if (!ev) {
		s->unknown++;
	} else if (strcmp(ev, "start") == 0) {
		const char *call_sid = str_at(j, "start", "callSid");

		if (!call_sid || !valid_call_sid(call_sid)) {
			close_with(s, 1008, "invalid callSid");
		} else {
			snprintf(s->sid, sizeof(s->sid), "%s", sid ? sid : "");
			s->started = 1;
		}
	} else if (strcmp(ev, "media") == 0) {
		pl = str_at(j, "media", "payload");
		if (!s->started)
			s->before_start++;
		else if (!sid || strcmp(sid, s->sid))
			s->wrong_sid++;
		else if (!pl || base64_decode(pl, strlen(pl), pcm, sizeof(pcm)) < 0)
			s->bad_b64++;
		else {
			if (s->media_seen++ == 0) {
				snprintf(msg, sizeof(msg), "{\"event\":\"clear\","
					 "\"streamSid\":\"%s\"}", s->sid);
				send_text(s->fd, msg);
			}
			snprintf(msg, sizeof(msg), "{\"event\":\"media\",\"streamSid\":\"%s\","
				 "\"media\":{\"payload\":\"%s\"}}", s->sid, pl);
			send_text(s->fd, msg);
		}
	} else if (strcmp(ev, "stop") == 0) {
		s->stops++;
	} else if (strcmp(ev, "connected") && strcmp(ev, "dtmf") && strcmp(ev, "mark")) {
		s->unknown++;
	}
	cJSON_Delete(j);
}

static void *serve(void *arg)
{
	struct server *s = arg;
	static char buf[1 << 16], msg[1 << 16];
	size_t len, mlen = 0;
	int op, fin, mop = 0, nframes = 0, one = 1;
	int strict = s->sc == STRICT || s->sc == FRAGILE;

	s->fd = accept(s->lfd, NULL, NULL);
	if (s->fd < 0)
		return NULL;
	/* Small frames right after a big one must not wait for an ACK (Nagle). */
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (handshake(s) == 0) {
		if (s->sc == FAULTS) {
			/* Before start there is no streamSid: this is 31951 too. */
			send_text(s->fd, "{\"event\":\"clear\",\"streamSid\":\"MZ1\"}");
		}
		/* Messages put back together from their frames (RFC 6455 5.4). */
		while ((op = read_frame(s->fd, buf, sizeof(buf), &len, &fin)) >= 0) {
			if (op == 8) {
				if (!s->closed_with)
					send_frame(s->fd, 1, 8, "\x03\xe8", 2);
				break;
			}
			if (op != 0) {
				mop = op;
				mlen = 0;
				nframes = 0;
			}
			nframes++;
			s->frames++;
			if (s->closed_with)
				continue;   /* closing: the rest is read and dropped */
			if (strict && mlen + len > LIMIT) {
				close_with(s, 1009, "message too big");
				continue;
			}
			if (mlen + len < sizeof(msg)) {
				memcpy(msg + mlen, buf, len);
				mlen += len;
			}
			if (!fin)
				continue;
			msg[mlen] = '\0';
			s->msgs++;
			s->multi += nframes > 1;
			if (!s->min_frames || nframes < s->min_frames)
				s->min_frames = nframes;
			if (mop == 2)
				s->binary++;
			else if (strict)
				on_text_strict(s, msg, mlen);
			else
				on_text(s, msg, mlen);
		}
	}
	close(s->fd);
	return NULL;
}

static int listen_any(int *port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&a, &al))
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static unsigned long errors_with(const struct sim_totals *t, int code)
{
	size_t i;

	for (i = 0; i < t->nerrors; i++)
		if (t->errors[i].code == code)
			return t->errors[i].count;
	return 0;
}

/* Run one call of FRAMES frames against a server playing SC, injecting INJECT (a --inject
 * list, NULL none) with a too-big message of 5000 bytes; fills T and S. */
static void run_inject(enum scenario sc, const char *offer, const char *answer, int frames,
		       int fast, const char *inject, struct sim_totals *t, struct server *s)
{
	struct sim_engine_cfg cfg;
	struct sim_engine *e;
	uint8_t *audio = malloc((size_t)frames * SIM_FRAME_BYTES);
	pthread_t th;
	char err[256];
	int port = 0, i;

	memset(s, 0, sizeof(*s));
	s->sc = sc;
	s->answer_protocol = answer;
	s->lfd = listen_any(&port);
	sim_totals_init(t);
	for (i = 0; audio && i < frames * SIM_FRAME_BYTES; i++)
		audio[i] = (uint8_t)(i * 31 + i / 160);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.connect_host, sizeof(cfg.connect_host), "127.0.0.1");
	cfg.connect_port = port;
	snprintf(cfg.host_header, sizeof(cfg.host_header), "voice.example.com");
	snprintf(cfg.path, sizeof(cfg.path), "/ws/twilio-media");
	cfg.subprotocols = offer;
	cfg.signature = "c2lnbmF0dXJlLW9mLXRoZS11cGdyYWRl";
	cfg.audio = audio;
	cfg.audio_len = (size_t)frames * SIM_FRAME_BYTES;
	cfg.fast = fast;
	cfg.drain_seconds = 2;
	cfg.ncalls = 1;
	cfg.hard_stop_seconds = 15;
	cfg.trace = getenv("SIM_TRACE") != NULL;
	cfg.inject.size = 5000;
	if (inject && sim_inject_parse(inject, &cfg.inject, err, sizeof(err)))
		CHECK_MSG(0, err);
	if (s->lfd < 0 || !audio || pthread_create(&th, NULL, serve, s)) {
		CHECK_MSG(0, "test server starts");
		free(audio);
		return;
	}
	e = sim_engine_new(&cfg, t, err, sizeof(err));
	CHECK_MSG(e != NULL, "engine starts");
	if (e && sim_engine_add(e, "CA0123456789abcdef0123456789abcdef",
				"AC0123456789abcdef0123456789abcdef", "{\"From\":\"+1555\"}") == 0)
		sim_engine_run(e);
	sim_engine_free(e);
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(s->lfd);
	free(audio);
}

static void run(enum scenario sc, const char *offer, const char *answer, int frames, int fast,
		struct sim_totals *t, struct server *s)
{
	run_inject(sc, offer, answer, frames, fast, NULL, t, s);
}

/* `callpipe-sim call --stream-url ws://127.0.0.1:PORT/ws/twilio-media ARGS` (ARGS split on
 * spaces) with FRAMES frames of audio against SC, verdict and all; the option parser's
 * status (0 when the call ran). R must be freed with sim_callrun_free when 0. */
static int run_call(enum scenario sc, int frames, const char *args, struct sim_callrun *r,
		    struct server *s)
{
	struct sim_callopts o;
	char line[512], url[128], *argv[32], *save = NULL, *w;
	uint8_t *audio = malloc((size_t)frames * SIM_FRAME_BYTES);
	int argc = 0, port = 0, rc, i;
	pthread_t th;

	memset(s, 0, sizeof(*s));
	s->sc = sc;
	s->answer_protocol = "audio.twilio.com";
	s->lfd = listen_any(&port);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws/twilio-media", port);
	snprintf(line, sizeof(line), "call --stream-url %s %s", url, args);
	for (w = strtok_r(line, " ", &save); w && argc < 31; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	for (i = 0; audio && i < frames * SIM_FRAME_BYTES; i++)
		audio[i] = (uint8_t)(i * 29 + i / 160);
	rc = sim_callopts_parse(argc, argv, &o);
	if (rc == 0 && (s->lfd < 0 || !audio || pthread_create(&th, NULL, serve, s))) {
		CHECK_MSG(0, "test server starts");
		rc = -1;
	} else if (rc == 0) {
		sim_callrun_execute(&o, audio, (size_t)frames * SIM_FRAME_BYTES, r);
		if (getenv("SIM_TRACE"))
			sim_callrun_report(&o, r);
		shutdown(s->lfd, SHUT_RDWR);
		pthread_join(th, NULL);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	sim_callopts_free(&o);
	free(audio);
	return rc;
}

static const struct sim_inject_stat *inj(const struct sim_totals *t, int kind)
{
	static const struct sim_inject_stat none = { .kind = -1 };
	unsigned i;

	for (i = 0; i < t->ninject; i++)
		if (t->inject[i].kind == kind)
			return &t->inject[i];
	return &none;
}

static double secs(void)
{
	return now_ms() / 1000.0;
}

int main(void)
{
	struct sim_callrun r;
	double t0;
	int k;
	struct sim_totals t;
	struct server s;

	/* A whole echo: every byte back in order after one clear, stop sent at the end. */
	run(ECHO, "audio.twilio.com", "audio.twilio.com", 25, 0, &t, &s);
	CHECK_STR(s.offered, "audio.twilio.com");
	CHECK_STR(s.signature, "c2lnbmF0dXJlLW9mLXRoZS11cGdyYWRl");
	CHECK(t.connected == 1 && t.completed == 1 && t.http_status == 101);
	CHECK_STR(t.subprotocol, "audio.twilio.com");
	CHECK(t.frames_sent == 25 && s.media_seen == 25);
	CHECK(t.bytes_matched == 25 * 160 && t.mismatch_at == -1);
	CHECK(t.clears == 1 && t.clears_before_media == 1);
	CHECK(t.nerrors == 0);
	CHECK(s.stops == 1);
	CHECK(sim_hist_count(t.latency) == 25);
	CHECK_MSG(t.stream_seconds >= 0.45, "25 frames take 0.5 s at real-time pace");
	sim_totals_free(&t);

	/* No subprotocol offered and none answered: fine (docs/PROTOCOL.md §4.2). */
	run(ECHO, NULL, NULL, 5, 1, &t, &s);
	CHECK_STR(s.offered, "");
	CHECK(t.connected == 1 && t.subprotocol[0] == '\0' && t.bytes_matched == 5 * 160);
	sim_totals_free(&t);

	/* Each fault reported with the code Twilio would give, the call going on. */
	run(FAULTS, "audio.twilio.com", "audio.twilio.com", 5, 1, &t, &s);
	CHECK(errors_with(&t, SIM_ERR_BINARY) == 1);
	CHECK_MSG(errors_with(&t, SIM_ERR_INVALID) == 5,
		  "before start, not JSON, start event, wrong sid, RIFF payload: five 31951");
	CHECK(t.completed == 1);
	sim_totals_free(&t);

	/* Marks: after their audio has played, at once on an empty buffer, at once on clear. */
	run(MARKS, "audio.twilio.com", "audio.twilio.com", 20, 0, &t, &s);
	CHECK(t.marks_received == 3 && t.marks_returned == 3 && s.marks_back == 3);
	CHECK_MSG(s.mark_back_ms[0] >= 50 && s.mark_back_ms[0] < 1000,
		  "a mark after 60 ms of audio returns after it played");
	printf("#   mark returns: %.1f ms, %.1f ms, %.1f ms\n", s.mark_back_ms[0],
	       s.mark_back_ms[1], s.mark_back_ms[2]);
	CHECK_MSG(s.mark_back_ms[1] < 15, "a mark on an empty buffer returns at once");
	CHECK_MSG(s.mark_back_ms[2] < 15, "clear returns the pending mark at once");
	CHECK(t.marks_flushed == 1 && t.clears == 1);
	sim_totals_free(&t);

	/* Handshake failures: a 404, and a subprotocol answered that was not offered. */
	run(NOT_FOUND, "audio.twilio.com", NULL, 5, 1, &t, &s);
	CHECK(t.connected == 0 && t.handshake_failures == 1 && t.http_status == 404);
	CHECK(errors_with(&t, SIM_ERR_HANDSHAKE) == 1);
	sim_totals_free(&t);
	run(BAD_SUBPROTOCOL, NULL, "audio.twilio.com", 5, 1, &t, &s);
	CHECK_MSG(t.connected == 0 && t.handshake_failures == 1,
		  "a subprotocol answered but never offered fails the connection (RFC 6455)");
	CHECK(strstr(t.handshake_error, "not offered") != NULL);
	sim_totals_free(&t);
	run(BAD_SUBPROTOCOL, "foo,bar", "audio.twilio.com", 5, 1, &t, &s);
	CHECK_STR(s.offered, "foo,bar");
	CHECK(t.connected == 0 && t.handshake_failures == 1);
	sim_totals_free(&t);

	/* The server closing first is seen and reported with its code. */
	run(EARLY_CLOSE, "audio.twilio.com", "audio.twilio.com", 50, 0, &t, &s);
	CHECK(t.connected == 1 && t.server_closed_early == 1 && t.completed == 0);
	CHECK(t.close_code == 1000);
	CHECK_STR(t.close_reason, "bye");
	sim_totals_free(&t);

	/* A message in fragments is put back together. */
	run(FRAGMENTS, "audio.twilio.com", "audio.twilio.com", 5, 1, &t, &s);
	CHECK(t.clears == 1 && t.nerrors == 0 && t.bytes_matched == 5 * 160);
	CHECK_MSG(s.multi == 0 && s.msgs == 8, "without --inject fragmented one frame a message");
	sim_totals_free(&t);

	/* --inject: every kind a server must survive, in 3 fragments a message, at real-time
	 * pace; none of it is audio, so the echo is still exact, and the server saw each. */
	run_inject(STRICT, "audio.twilio.com", "audio.twilio.com", 40, 0,
		   "json,binary,unknown,early-media,stream-sid,base64,fragmented", &t, &s);
	CHECK(t.connected == 1 && t.completed == 1 && t.nerrors == 0);
	CHECK(t.bytes_matched == 40 * 160 && t.mismatch_at == -1 && t.clears == 1);
	CHECK_MSG(s.bad_json == 1 && s.binary == 1 && s.unknown == 1 && s.before_start == 1 &&
		  s.wrong_sid == 1 && s.bad_b64 == 1, "the server got one of each bad message");
	CHECK_MSG(s.msgs == 3 + 40 + 5 + 1 && s.multi == s.msgs && s.min_frames == 3,
		  "connected, early, start, 40 media, 5 mid-call, stop: each in 3 fragments");
	CHECK(s.frames == 3 * s.msgs && s.stops == 1);
	CHECK(t.ninject == 7 && inj(&t, SIM_INJ_FRAGMENTED)->fragments == (unsigned long)s.frames);
	CHECK(inj(&t, SIM_INJ_JSON)->after_frame == SIM_INJECT_FIRST);
	CHECK(inj(&t, SIM_INJ_BINARY)->after_frame == SIM_INJECT_FIRST + SIM_INJECT_GAP);
	CHECK(inj(&t, SIM_INJ_EARLY_MEDIA)->after_frame == 0);
	for (k = 0; k < (int)t.ninject; k++)
		CHECK_MSG(t.inject[k].sent && t.inject[k].outcome == SIM_INJO_KEPT,
			  sim_inject_name(t.inject[k].kind));
	CHECK(t.closed_by == SIM_CLOSED_CLIENT && t.close_after_stop);
	sim_totals_free(&t);

	/* A server that echoes media whatever its streamSid: caught, and kept out of the echo. */
	run_inject(ECHO, "audio.twilio.com", "audio.twilio.com", 20, 1, "stream-sid", &t, &s);
	CHECK(inj(&t, SIM_INJ_STREAM_SID)->outcome == SIM_INJO_ECHOED);
	CHECK(t.bytes_matched == 20 * 160 && t.mismatch_at == -1);
	sim_totals_free(&t);

	/* Too big: the server closes 1009 mid-call and the call ends at once, not at the
	 * end of its 4 s of audio. */
	t0 = secs();
	run_inject(STRICT, "audio.twilio.com", "audio.twilio.com", 200, 0, "too-big", &t, &s);
	CHECK_MSG(secs() - t0 < 1.5, "a server's close ends the call promptly");
	CHECK(s.closed_with == 1009 && t.close_code == 1009);
	CHECK_STR(t.close_reason, "message too big");
	CHECK(t.closed_by == SIM_CLOSED_SERVER && !t.close_after_stop && t.server_closed_early);
	CHECK(inj(&t, SIM_INJ_TOO_BIG)->outcome == SIM_INJO_CLOSED);
	CHECK(inj(&t, SIM_INJ_TOO_BIG)->bytes == 5000 && inj(&t, SIM_INJ_TOO_BIG)->fragments == 1);
	CHECK(t.frames_before_close < 200 && t.bytes_matched >= SIM_INJECT_FIRST * 160);
	sim_totals_free(&t);

	/* The whole `call` verdict: --expect-close passes only on that code from the server. */
	CHECK(run_call(STRICT, 100, "--fast --expect-echo --inject too-big --inject-size 5000 "
		       "--expect-close 1009", &r, &s) == 0);
	CHECK_MSG(!r.failed, r.reason);
	CHECK(r.totals.close_code == 1009 && r.totals.bytes_matched < 100 * 160);
	sim_callrun_free(&r);
	CHECK(run_call(STRICT, 100, "--fast --expect-echo --inject too-big --inject-size 5000",
		       &r, &s) == 0);
	CHECK_MSG(r.failed && strstr(r.reason, "1009 (message too big)"),
		  "without --expect-close the short echo fails, naming the close");
	sim_callrun_free(&r);
	CHECK(run_call(STRICT, 50, "--fast --expect-echo --inject bad-call-sid --expect-close 1008",
		       &r, &s) == 0);
	CHECK_MSG(!r.failed, r.reason);
	CHECK(inj(&r.totals, SIM_INJ_BAD_CALL_SID)->outcome == SIM_INJO_CLOSED);
	sim_callrun_free(&r);
	CHECK(run_call(STRICT, 50, "--fast --expect-echo --inject bad-call-sid --expect-close 1009",
		       &r, &s) == 0);
	CHECK_MSG(r.failed && strstr(r.reason, "with 1009; closed by server: 1008"),
		  "another code than the one expected fails");
	sim_callrun_free(&r);
	CHECK(run_call(STRICT, 20, "--fast --expect-echo --expect-close 1001", &r, &s) == 0);
	CHECK_MSG(r.failed && strstr(r.reason, "closed by client"),
		  "--expect-close fails when the server never closed first");
	sim_callrun_free(&r);
	CHECK(run_call(STRICT, 60, "--fast --expect-echo --inject fragmented,json,base64", &r,
		       &s) == 0);
	CHECK_MSG(!r.failed, r.reason);
	CHECK(s.min_frames == 3 && s.bad_json == 1 && s.bad_b64 == 1);
	sim_callrun_free(&r);
	CHECK(run_call(FRAGILE, 60, "--fast --expect-echo --inject json", &r, &s) == 0);
	CHECK_MSG(r.failed && strstr(r.reason, "injected json: the server closed 1011"),
		  "a server that closes on bad JSON fails, named");
	CHECK(inj(&r.totals, SIM_INJ_JSON)->outcome == SIM_INJO_CLOSED);
	sim_callrun_free(&r);

	/* Bad command lines are usage errors, not failed calls. */
	CHECK(run_call(STRICT, 1, "--inject json,nope", &r, &s) == SIM_EXIT_USAGE);
	CHECK(run_call(STRICT, 1, "--inject json,json", &r, &s) == SIM_EXIT_USAGE);
	CHECK(run_call(STRICT, 1, "--inject json,", &r, &s) == SIM_EXIT_USAGE);
	CHECK(run_call(STRICT, 1, "--expect-close 999", &r, &s) == SIM_EXIT_USAGE);
	CHECK(run_call(STRICT, 1, "--inject-size 10", &r, &s) == SIM_EXIT_USAGE);
	return check_done();
}
