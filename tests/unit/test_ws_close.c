/* test_ws_close: the helper's side of the closing handshake, through real lws 4.1.6 and a
 * loopback TCP client: it keeps reading after its close frame until the client's close
 * (RFC 6455 §7.1.1), then ends with FIN, not RST; a client that never answers is dropped;
 * closes lws makes for framing errors are logged as the server's 1002. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "check.h"
#include "config.h"
#include "mode.h"
#include "server.h"

#define SID_MZ "MZ0123456789abcdef0123456789abcdef"
/* What the client has read and not yet parsed: the server sends close frames and echoes of
 * 160-byte media (~370 bytes each), and the client parses after every read. */
#define CBUF 65536

static struct config cfg;
static struct wsserver *srv;
static struct lws_context *ctx;
static int lfd = -1;

struct client {
	int fd;
	unsigned char buf[CBUF];
	size_t len;
	int close_code;        /* the server's close frame: code, or 0 until it came */
	char close_reason[128];
	int end;               /* 0 open, 1 EOF (FIN), 2 reset (RST), 3 other error */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the lws loop (non-blocking polls) for MS milliseconds. */
static void svc(int ms)
{
	int64_t end = now_ms() + ms;

	do {
		lws_service(ctx, -1);
		usleep(200);
	} while (now_ms() < end);
}

/* Read what the server sent: parse whole frames, remember a close frame, note EOF/RST. */
static void client_read(struct client *c)
{
	for (;;) {
		ssize_t n;
		size_t off, plen;

		if (c->end || c->len == sizeof(c->buf))
			return;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n == 0) {
			c->end = 1;
		} else if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->end = errno == ECONNRESET ? 2 : 3;
		} else {
			c->len += (size_t)n;
		}
		while (c->len >= 2) {
			plen = c->buf[1] & 0x7f;
			off = 2;
			if (plen == 126) {
				if (c->len < 4)
					break;
				plen = (size_t)c->buf[2] << 8 | c->buf[3];
				off = 4;
			} else if (plen == 127) {
				break;   /* the server never sends frames that large here */
			}
			if (c->len < off + plen)
				break;
			if ((c->buf[0] & 0x0f) == 8 && !c->close_code) {
				c->close_code = plen >= 2 ? c->buf[off] << 8 | c->buf[off + 1] : 1005;
				snprintf(c->close_reason, sizeof(c->close_reason), "%.*s",
					 plen > 2 ? (int)(plen - 2) : 0, (const char *)c->buf + off + 2);
			}
			memmove(c->buf, c->buf + off + plen, c->len - off - plen);
			c->len -= off + plen;
		}
		if (n <= 0)
			return;
	}
}

/* One masked client frame (RFC 6455 §5.3), written whole while lws runs. 0, or -1 when the
 * connection is gone. */
static int send_frame(struct client *c, int op, const char *data, size_t len)
{
	unsigned char f[1024];
	static const unsigned char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	size_t o = 0, i;

	if (len > sizeof(f) - 8)
		return -1;
	f[o++] = (unsigned char)(0x80 | op);
	if (len < 126) {
		f[o++] = (unsigned char)(0x80 | len);
	} else {
		f[o++] = 0x80 | 126;
		f[o++] = (unsigned char)(len >> 8);
		f[o++] = (unsigned char)len;
	}
	memcpy(f + o, mask, 4);
	o += 4;
	for (i = 0; i < len; i++)
		f[o++] = (unsigned char)data[i] ^ mask[i & 3];
	for (i = 0; i < o;) {
		ssize_t n = send(c->fd, f + i, o - i, MSG_NOSIGNAL);

		if (n > 0) {
			i += (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			svc(1);
			client_read(c);
		} else {
			return -1;
		}
	}
	return 0;
}

static int send_text(struct client *c, const char *text)
{
	return send_frame(c, 1, text, strlen(text));
}

static int send_media(struct client *c, unsigned seq)
{
	char m[512], payload[217];

	memset(payload, 'A', 216);   /* 20 ms: 160 bytes of µ-law are 216 base64 characters */
	payload[216] = '\0';
	snprintf(m, sizeof(m), "{\"event\":\"media\",\"sequenceNumber\":\"%u\",\"media\":"
		 "{\"track\":\"inbound\",\"chunk\":\"%u\",\"timestamp\":\"0\",\"payload\":\"%s\"},"
		 "\"streamSid\":\"" SID_MZ "\"}", seq, seq, payload);
	return send_text(c, m);
}

static int send_start(struct client *c, const char *callsid)
{
	char m[640];

	snprintf(m, sizeof(m), "{\"event\":\"start\",\"sequenceNumber\":\"1\",\"start\":"
		 "{\"accountSid\":\"AC1\",\"streamSid\":\"" SID_MZ "\",\"callSid\":\"%s\","
		 "\"tracks\":[\"inbound\"],\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\","
		 "\"sampleRate\":8000,\"channels\":1},\"customParameters\":{}},\"streamSid\":\""
		 SID_MZ "\"}", callsid);
	return send_text(c, m);
}

/* A loopback TCP connection adopted by lws, upgraded to a stream. 0 or -1. */
static int client_open(struct client *c)
{
	static const char req[] = "GET /ws/twilio-media HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Protocol: audio.twilio.com\r\n\r\n";
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	char head[1024];
	size_t hl = 0;
	int sfd, one = 1;
	int64_t end;

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || getsockname(lfd, (struct sockaddr *)&a, &alen) < 0 ||
	    connect(c->fd, (struct sockaddr *)&a, alen) < 0)
		return -1;
	sfd = accept(lfd, NULL, NULL);
	if (sfd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!lws_adopt_socket(ctx, sfd)) {
		close(sfd);
		return -1;
	}
	if (send(c->fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1)
		return -1;
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	/* the 101 and its headers; the server sends nothing more until start */
	for (end = now_ms() + 2000; now_ms() < end;) {
		ssize_t n;

		svc(1);
		n = recv(c->fd, head + hl, sizeof(head) - 1 - hl, 0);
		if (n > 0)
			hl += (size_t)n;
		head[hl] = '\0';
		if (strstr(head, "\r\n\r\n"))
			return strncmp(head, "HTTP/1.1 101 ", 13) ? -1 : 0;
		if (n == 0 || hl == sizeof(head) - 1)
			return -1;
	}
	return -1;
}

/* Send media (like a caller whose frames are in flight) while lws runs, until the server's
 * close frame arrives or MS pass. */
static void media_until_close(struct client *c, unsigned *seq, int ms)
{
	int64_t end = now_ms() + ms;

	while (!c->close_code && !c->end && now_ms() < end) {
		if (send_media(c, (*seq)++) < 0)
			break;
		svc(2);
		client_read(c);
	}
}

/* Run lws until the client sees the connection end, or MS pass. */
static void until_end(struct client *c, int ms)
{
	int64_t end = now_ms() + ms;

	while (!c->end && now_ms() < end) {
		svc(2);
		client_read(c);
	}
}

static int log_count(const char *callsid, const char *needle)
{
	char path[1024], line[4096];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.log", cfg.log_dir, callsid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " ws ws_done") && strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* 1008 for a bad callSid while the client keeps sending: the helper must wait for the
 * client's close (reading and dropping its media), then close with FIN. lws 4.1.6 killed it
 * right after the close frame, with media unread: RST, and behind Apache a lost close. */
static void test_close_waits_for_peer(void)
{
	struct client c;
	unsigned seq = 2;
	int i;

	CHECK(client_open(&c) == 0);
	CHECK(wsserver_active(srv) == 1);
	send_text(&c, "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
	send_start(&c, "CA../../etc/passwd");
	media_until_close(&c, &seq, 2000);
	CHECK(c.close_code == 1008);
	CHECK_STR(c.close_reason, "invalid callSid");
	/* frames that were in flight when the close frame left */
	for (i = 0; i < 20 && !c.end; i++)
		send_media(&c, seq++);
	svc(300);
	client_read(&c);
	CHECK_MSG(c.end == 0, "after its close frame the helper waits for ours (no FIN, no RST)");
	CHECK(wsserver_active(srv) == 1);
	CHECK(c.len == 0);   /* and sends nothing more */
	send_frame(&c, 8, "\x03\xf0", 2);
	until_end(&c, 2000);
	CHECK_MSG(c.end == 1, "our close answered: the helper ends with FIN, not RST");
	CHECK(wsserver_active(srv) == 0);
	close(c.fd);
}

/* Drain (1001) of a started call whose client never answers but keeps sending: dropped after
 * about 2 s (CLOSE_ACK_US), one ws_done that says 1001 and server. */
static void test_no_answer(void)
{
	static const char sid[] = "CA0123456789abcdef0123456789abcd01";
	struct client c;
	unsigned seq = 2;
	int64_t t0, waited;

	CHECK(client_open(&c) == 0);
	send_start(&c, sid);
	send_media(&c, seq++);
	svc(50);
	client_read(&c);
	wsserver_close_all(srv);
	media_until_close(&c, &seq, 2000);
	CHECK(c.close_code == 1001);
	CHECK_STR(c.close_reason, "server shutting down");
	t0 = now_ms();
	while (!c.end && now_ms() - t0 < 4000) {
		if (send_media(&c, seq++) < 0)
			break;
		svc(20);
		client_read(&c);
	}
	waited = now_ms() - t0;
	until_end(&c, 500);
	printf("# no answer to the close: dropped after %lld ms\n", (long long)waited);
	CHECK_MSG(c.end && waited >= 1800 && waited <= 3000,
		  "a client that never answers the close is dropped after about 2 s");
	CHECK(wsserver_active(srv) == 0);
	CHECK(log_count(sid, "close_code=1001 close_reason=\"server shutting down\" "
			"closed_by=server") == 1);
	CHECK(log_count(sid, "ws_done") == 1);
	close(c.fd);
}

/* The client closes first: the helper answers and ends; ws_done says peer. */
static void test_peer_first(void)
{
	static const char sid[] = "CA0123456789abcdef0123456789abcd02";
	struct client c;

	CHECK(client_open(&c) == 0);
	send_start(&c, sid);
	send_media(&c, 2);
	svc(50);
	send_frame(&c, 8, "\x03\xe8" "bye", 5);
	until_end(&c, 2000);
	CHECK(c.close_code == 1000);   /* lws echoes the client's close */
	CHECK(c.end == 1);
	CHECK(wsserver_active(srv) == 0);
	CHECK(log_count(sid, "close_code=1000 close_reason=bye closed_by=peer") == 1);
	close(c.fd);
}

/* Run lws until the client has the server's close frame, or MS pass. */
static void until_close(struct client *c, int ms)
{
	int64_t end = now_ms() + ms;

	while (!c->close_code && !c->end && now_ms() < end) {
		svc(2);
		client_read(c);
	}
}

/* Framing errors lws 4.1.6 answers by itself with 1002 (and tells no callback why): ws_done
 * says the server closed and names the violation; a peer close code of 5000, which lws
 * would echo, is answered 1002 too. */
static void test_protocol_errors(void)
{
	static const char sid1[] = "CA0123456789abcdef0123456789abcd03";
	static const char sid2[] = "CA0123456789abcdef0123456789abcd04";
	struct client c;

	CHECK(client_open(&c) == 0);
	send_start(&c, sid1);
	svc(50);
	send_frame(&c, 0x40 | 1, "{}", 2);   /* RSV1 set, no extension negotiated */
	until_close(&c, 2000);
	CHECK(c.close_code == 1002);
	send_frame(&c, 8, "\x03\xea", 2);
	/* lws reads nothing more after its parser failed: the connection ends at lws's own 5 s
	 * close timeout, answered or not */
	until_end(&c, 7000);
	CHECK(c.end == 1);
	CHECK(wsserver_active(srv) == 0);
	CHECK(log_count(sid1, "close_code=1002 close_reason=\"protocol error: RSV bits set without "
			"an extension\" closed_by=server") == 1);
	close(c.fd);

	CHECK(client_open(&c) == 0);
	send_start(&c, sid2);
	svc(50);
	send_frame(&c, 8, "\x13\x88", 2);   /* 5000: not a close code (RFC 6455 §7.4) */
	until_end(&c, 2000);
	CHECK(c.close_code == 1002);
	CHECK(wsserver_active(srv) == 0);
	CHECK(log_count(sid2, "close_code=1002 close_reason=\"protocol error: close code 5000 from "
			"the peer\" closed_by=server") == 1);
	close(c.fd);
}

static void cleanup(void)
{
	check_rmdir_flat(cfg.log_dir);
}

int main(void)
{
	char dir[] = "/tmp/test_ws_close.XXXXXX", err[256];
	struct lws_context_creation_info info;
	struct sockaddr_in a;

	config_defaults(&cfg);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(cfg.log_dir, sizeof(cfg.log_dir), "%s", dir);
	cfg.validate = 0;
	srv = wsserver_new(&cfg, &mode_echo, NULL, err, sizeof(err));
	CHECK(srv != NULL);
	if (!srv)
		return check_done();
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;   /* connections come from lws_adopt_socket() */
	info.protocols = wsserver_protocols(srv);
	info.user = srv;
	ctx = lws_create_context(&info);
	CHECK(ctx != NULL);

	/* loopback only: our own listener on an ephemeral port */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 4) == 0);
	if (ctx && lfd >= 0) {
		test_close_waits_for_peer();
		test_no_answer();
		test_peer_first();
		test_protocol_errors();
	}
	if (lfd >= 0)
		close(lfd);
	if (ctx)
		lws_context_destroy(ctx);
	wsserver_free(srv);
	cleanup();
	return check_done();
}
