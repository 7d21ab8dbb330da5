/* route_incoming: /webhook/incoming_call answers TwiML rendered from [fcgi] templates, the
 * per-number override first; the template helpers route_turn and `--check` share. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "route.h"
#include "streamtok.h"
#include "tmpl.h"

/* Names are [A-Za-z0-9_.-]+ (tmpl.h); no Twilio parameter name comes near this. */
#define VAR_NAME_MAX 128
/* E.164 numbers have at most 15 digits; 20 leaves room and keeps file names short. */
#define OVERRIDE_DIGITS_MAX 20

static void join(char *out, size_t cap, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	/* Both fit by construction (ROUTE_URL_MAX > CONFIG_STR_MAX + longest suffix);
	 * cut rather than overflow if that ever changes. */
	if (la >= cap)
		la = cap - 1;
	memcpy(out, a, la);
	if (lb > cap - 1 - la)
		lb = cap - 1 - la;
	memcpy(out + la, b, lb);
	out[la + lb] = '\0';
}

void route_vars_init(struct route_vars *v, const struct config *cfg,
		     const struct form *primary, const struct form *secondary)
{
	const char *pub = cfg->public_url;
	char ws_base[ROUTE_URL_MAX];

	memset(v, 0, sizeof(*v));
	join(v->public_url, sizeof(v->public_url), pub, "");
	/* The media stream must be wss:// (docs/PROTOCOL.md §2.2); ws:// for plain-http
	 * local development. config_check only lets http(s) URLs through. */
	if (strncasecmp(pub, "https://", 8) == 0)
		join(ws_base, sizeof(ws_base), "wss://", pub + 8);
	else if (strncasecmp(pub, "http://", 7) == 0)
		join(ws_base, sizeof(ws_base), "ws://", pub + 7);
	else
		join(ws_base, sizeof(ws_base), pub, "");
	/* [twilio] stream_url: the helper serves wss:// itself on another host:port than the
	 * webhooks (docs/WS.md "Direct TLS"); config_check made it ws(s)://, no query. */
	if (cfg->stream_url[0])
		join(v->stream_url, sizeof(v->stream_url), cfg->stream_url, "");
	else
		join(v->stream_url, sizeof(v->stream_url), ws_base, "/ws/twilio-media");
	join(v->status_callback_url, sizeof(v->status_callback_url), pub, "/webhook/stream_status");
	join(v->call_status_url, sizeof(v->call_status_url), pub, "/webhook/call_status");
	v->primary = primary;
	v->secondary = secondary;
}

int route_vars_token(struct route_vars *v, const struct config *cfg, const char *call_sid,
		     const char *account_sid, time_t now)
{
	v->stream_token[0] = '\0';
	if (!cfg->auth_token[0])
		return 0;
	return streamtok_make(cfg->auth_token, call_sid, account_sid,
			      (long long)now + cfg->stream_token_seconds, v->stream_token,
			      sizeof(v->stream_token));
}

static int name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(name, want, len) == 0;
}

const char *route_vars_lookup(void *ctx, const char *name, size_t len)
{
	const struct route_vars *v = ctx;
	char key[VAR_NAME_MAX + 1];
	const char *val = NULL;

	if (name_is(name, len, "stream_url"))
		return v->stream_url;
	if (name_is(name, len, "status_callback_url"))
		return v->status_callback_url;
	if (name_is(name, len, "call_status_url"))
		return v->call_status_url;
	if (name_is(name, len, "public_url"))
		return v->public_url;
	/* computed, so a request parameter of that name can never stand in for it */
	if (name_is(name, len, "stream_token"))
		return v->stream_token;
	if (len > VAR_NAME_MAX)
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	if (v->primary)
		val = form_get(v->primary, key);
	if (!val && v->secondary)
		val = form_get(v->secondary, key);
	return val;
}

int route_template_read(const char *path, char **text, size_t *len, int *errnum,
			char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd;

	*text = NULL;
	*len = 0;
	*errnum = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*errnum = errno;
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		goto fail;
	}
	if (st.st_size > (off_t)TMPL_OUT_MAX) {
		snprintf(err, errlen, "larger than %u bytes", TMPL_OUT_MAX);
		goto fail;
	}
	/* One byte more than the limit, to notice a file that grew since fstat. */
	buf = malloc(TMPL_OUT_MAX + 2);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, TMPL_OUT_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*errnum = errno;
			snprintf(err, errlen, "cannot read: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > TMPL_OUT_MAX) {
			snprintf(err, errlen, "larger than %u bytes", TMPL_OUT_MAX);
			goto fail;
		}
	}
	close(fd);
	buf[got] = '\0';
	*text = buf;
	*len = got;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

int route_template_override(const char *stem, const char *to, char *out, size_t cap)
{
	char digits[OVERRIDE_DIGITS_MAX + 1];
	size_t n = 0;
	int len;

	if (!to)
		return 0;
	for (const char *p = to; *p; p++) {
		if (*p < '0' || *p > '9')
			continue;
		if (n == OVERRIDE_DIGITS_MAX)
			return 0;
		digits[n++] = *p;
	}
	if (n == 0)
		return 0;
	digits[n] = '\0';
	len = snprintf(out, cap, "%s.%s.xml", stem, digits);
	return len > 0 && (size_t)len < cap;
}

const char *route_incoming_stem(const struct config *cfg)
{
	/* Both programs read one callpipe.conf: in agent mode callpipe-ws talks to the
	 * caller and ends the stream itself, so the call needs the agent's TwiML. */
	return strcmp(cfg->mode, "agent") == 0 ? "incoming_call_agent" : "incoming_call";
}

/* Read the template for this request: <STEM>.<To digits>.xml when it exists, else
 * <STEM>.xml. NAME gets the file name used. 0, or -1 after route_fail (500). */
static int load_template(struct route_ctx *rc, struct response *resp, const char *stem,
			 char *name, size_t cap, char **text, size_t *len)
{
	const char *dir = rc->cfg->templates_dir;
	char path[CONFIG_STR_MAX + 64], err[160];
	int errnum;

	if (route_template_override(stem, route_param(rc, "To"), name, cap)) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (route_template_read(path, text, len, &errnum, err, sizeof(err)) == 0)
			return 0;
		if (errnum != ENOENT) {
			const char *kv[] = { "template", path, "error", err, NULL };

			route_fail(rc, resp, 500, "template cannot be read", kv);
			return -1;
		}
	}
	snprintf(name, cap, "%s.xml", stem);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (route_template_read(path, text, len, &errnum, err, sizeof(err)) == 0)
		return 0;
	{
		const char *kv[] = { "template", path, "error", err, NULL };

		route_fail(rc, resp, 500, "template cannot be read", kv);
	}
	return -1;
}

int route_render(struct route_ctx *rc, struct response *resp, const char *stem, char *name,
		 size_t cap)
{
	struct route_vars vars;
	char err[160];
	char *text = NULL, *out = NULL;
	size_t len;
	long n;
	int rv = -1;

	if (load_template(rc, resp, stem, name, cap, &text, &len) != 0)
		return -1;
	out = malloc(TMPL_OUT_MAX);
	if (!out) {
		route_fail(rc, resp, 500, "out of memory", NULL);
		goto done;
	}
	route_vars_init(&vars, rc->cfg, rc->params, rc->query);
	/* The stream's proof that this CallSid came through a webhook we verified: made from
	 * the signed request's own CallSid and AccountSid (the router checked both first). */
	if (route_vars_token(&vars, rc->cfg, rc->callsid, route_param(rc, "AccountSid"),
			     time(NULL)) != 0) {
		route_fail(rc, resp, 500, "stream token cannot be made (AccountSid too long or "
			   "with a '|'?)", NULL);
		goto done;
	}
	n = tmpl_render(text, len, route_vars_lookup, &vars, out, TMPL_OUT_MAX, err, sizeof(err));
	if (n < 0) {
		char path[CONFIG_STR_MAX + 64];
		const char *kv[] = { "template", path, "error", err, NULL };

		snprintf(path, sizeof(path), "%s/%s", rc->cfg->templates_dir, name);
		route_fail(rc, resp, 500, "template cannot be rendered", kv);
		goto done;
	}
	response_free(resp);
	resp->status = 200;
	resp->content_type = "text/xml";
	resp->body = out;
	resp->body_len = (size_t)n;
	out = NULL;
	rv = 0;
done:
	free(out);
	free(text);
	return rv;
}

void route_incoming_call(struct route_ctx *rc, struct response *resp)
{
	char name[64];
	const char *kv[] = {
		"from", route_param(rc, "From"),
		"to", route_param(rc, "To"),
		"call_status", route_param(rc, "CallStatus"),
		"direction", route_param(rc, "Direction"),
		"sig", rc->sig,
		"template", name,
		NULL
	};

	if (route_render(rc, resp, route_incoming_stem(rc->cfg), name, sizeof(name)) == 0)
		route_log(rc, "incoming_call", kv);
}
