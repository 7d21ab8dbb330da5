/* post: `callpipe-sim post` sends one webhook request exactly as Twilio would (form body,
 * X-Twilio-Signature over the public URL) and prints the response; `sign` prints the signature. */
#include "sim.h"
#include "webhook.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

/* A request body read from --body-file; big enough to probe any server's body limit
 * ([fcgi] max_body tops out at 16 MiB) and still bounded. */
#define POST_BODY_FILE_MAX (64u * 1024 * 1024)

const char sim_help_post[] =
"usage: callpipe-sim post URL [NAME=VALUE...] [options]\n"
"       callpipe-sim sign URL [NAME=VALUE...] --auth-token T [options]\n"
"  --auth-token T      sign with this auth token\n"
"  --public-url BASE   sign over BASE + URL's path and query instead of URL\n"
"  --signature SIG     send SIG as X-Twilio-Signature instead of computing it\n"
"  --no-signature      send no X-Twilio-Signature header\n"
"  --method M          GET or POST (default POST)\n"
"  --content-type CT   the Content-Type header\n"
"  --body-file F       send F as the body instead of pairs ('-': stdin)\n"
"  --body S            send the string S as the body, already encoded\n"
"  --header 'N: V'     add a request header (repeatable, up to 32)\n"
"  --timeout S         give up after S seconds (default 15)\n"
"  -v, --verbose       print the signed URL and the signature on stderr\n"
"  -h, --help          this text\n"
"See callpipe-sim(1) for the output and the exit status.\n";

struct post_opts {
	const char *url;
	const char *token;
	const char *public_base;
	const char *signature;
	int no_signature;
	const char *method;
	const char *content_type;
	const char *body_file;
	const char *body;              /* --body STRING: the raw body, as --body-file */
	long timeout_ms;
	int verbose;
	const char *extra[SIM_HTTP_EXTRA_MAX];
	int nextra;
	struct twsig_param *pairs;
	size_t npairs;
};

/* What would go on the wire: the URL sent, the URL signed, the body and the signature. */
struct post_plan {
	char send_url[TWSIG_URL_MAX];
	char signed_url[TWSIG_URL_MAX];
	char *body;
	size_t body_len;
	const char *content_type;
	char sig[TWSIG_LEN + 1];
	int have_sig;              /* 1: computed into sig */
};

static void free_pairs(struct post_opts *o)
{
	size_t i;

	for (i = 0; i < o->npairs; i++)
		free((char *)o->pairs[i].name);
	free(o->pairs);
	o->pairs = NULL;
	o->npairs = 0;
}

/* "NAME=VALUE" into a pair; the name is copied (the value points into ARG). */
static int add_pair(struct post_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct twsig_param *p;
	char *name;

	if (!eq || eq == arg) {
		fprintf(stderr, "callpipe-sim: '%s' is not NAME=VALUE\n", arg);
		return -1;
	}
	p = realloc(o->pairs, (o->npairs + 1) * sizeof(*p));
	if (!p)
		return -1;
	o->pairs = p;
	name = strndup(arg, (size_t)(eq - arg));
	if (!name)
		return -1;
	p[o->npairs].name = name;
	p[o->npairs].value = eq + 1;
	o->npairs++;
	return 0;
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf, *p;

	*out = NULL;
	*len = 0;
	if (!f) {
		fprintf(stderr, "callpipe-sim: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(cap);
	while (buf) {
		size_t k = fread(buf + n, 1, cap - n - 1, f);

		n += k;
		if (n > POST_BODY_FILE_MAX) {
			fprintf(stderr, "callpipe-sim: %s: larger than %u bytes\n", path,
				POST_BODY_FILE_MAX);
			free(buf);
			buf = NULL;
			break;
		}
		if (k == 0)
			break;
		if (n + 1 == cap) {
			p = realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (buf && ferror(f)) {
		fprintf(stderr, "callpipe-sim: %s: %s\n", path, strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		return -1;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int starts_with_ci(const char *s, const char *prefix)
{
	return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Work out the request from the options; 0, or -1 after printing why (exit status 1). */
static int make_plan(const struct post_opts *o, struct post_plan *pl)
{
	char err[256], url[TWSIG_URL_MAX];
	const struct twsig_param *sp = NULL;
	struct form *parsed = NULL;
	struct twsig_param *fp = NULL;
	size_t nsp = 0, i;
	int get = strcmp(o->method, "GET") == 0;
	int ret = -1;

	memset(pl, 0, sizeof(*pl));
	if (snprintf(url, sizeof(url), "%s", o->url) >= (int)sizeof(url)) {
		fprintf(stderr, "callpipe-sim: URL longer than %zu characters\n", sizeof(url) - 1);
		return -1;
	}
	if (get) {
		/* GET: the pairs travel in the query string, which is part of the signed URL;
		 * nothing is appended to the string to sign (docs/PROTOCOL.md §3.2). */
		char *q = form_encode(o->pairs, o->npairs);
		size_t ul = strlen(url);

		if (!q)
			return -1;
		if (o->npairs && snprintf(url + ul, sizeof(url) - ul, "%s%s",
					  strchr(url, '?') ? "&" : "?", q) >= (int)(sizeof(url) - ul)) {
			fprintf(stderr, "callpipe-sim: URL with parameters too long\n");
			free(q);
			return -1;
		}
		free(q);
		pl->content_type = o->content_type;
	} else if (o->body_file || o->body) {
		if (o->body) {
			pl->body = strdup(o->body);
			if (!pl->body)
				return -1;
			pl->body_len = strlen(o->body);
		} else if (read_file(o->body_file, &pl->body, &pl->body_len)) {
			return -1;
		}
		pl->content_type = o->content_type ? o->content_type
			: "application/x-www-form-urlencoded";
		if (starts_with_ci(pl->content_type, "application/json")) {
			/* JSON bodies: Twilio adds bodySHA256 to the query and signs the URL
			 * with no parameters (docs/PROTOCOL.md §3.5). */
			char hex[65];
			size_t ul = strlen(url);

			sim_sha256_hex(pl->body, pl->body_len, hex);
			if (snprintf(url + ul, sizeof(url) - ul, "%sbodySHA256=%s",
				     strchr(url, '?') ? "&" : "?", hex) >= (int)(sizeof(url) - ul)) {
				fprintf(stderr, "callpipe-sim: URL too long\n");
				goto out;
			}
		} else if (starts_with_ci(pl->content_type, "application/x-www-form-urlencoded")) {
			parsed = form_parse(pl->body, pl->body_len, err, sizeof(err));
			if (!parsed) {
				/* Still send it: a test may want to see the server refuse it. */
				fprintf(stderr, "callpipe-sim: warning: the body is not a valid form "
					"(%s); signing the URL alone\n", err);
			} else {
				nsp = form_count(parsed);
				fp = calloc(nsp ? nsp : 1, sizeof(*fp));
				if (!fp)
					goto out;
				for (i = 0; i < nsp; i++) {
					fp[i].name = form_at(parsed, i)->name;
					fp[i].value = form_at(parsed, i)->value;
				}
				sp = fp;
			}
		}
	} else {
		pl->body = form_encode(o->pairs, o->npairs);
		if (!pl->body)
			goto out;
		pl->body_len = strlen(pl->body);
		pl->content_type = o->content_type ? o->content_type
			: "application/x-www-form-urlencoded";
		sp = o->pairs;
		nsp = o->npairs;
	}
	strcpy(pl->send_url, url);
	if (sim_public_url(url, o->public_base, pl->signed_url, sizeof(pl->signed_url),
			   err, sizeof(err))) {
		fprintf(stderr, "callpipe-sim: %s\n", err);
		goto out;
	}
	if (o->token && !o->no_signature && !o->signature) {
		if (twsig_compute(o->token, pl->signed_url, sp, nsp, pl->sig)) {
			fprintf(stderr, "callpipe-sim: cannot compute the signature\n");
			goto out;
		}
		pl->have_sig = 1;
	}
	ret = 0;
out:
	free(fp);
	form_free(parsed);
	if (ret) {
		free(pl->body);
		pl->body = NULL;
	}
	return ret;
}

/* Parse post/sign options; returns 0, or an exit status (>0) to return, or -1 for --help. */
static int parse_opts(int argc, char **argv, struct post_opts *o, int is_sign)
{
	static const struct option lo[] = {
		{ "auth-token", required_argument, NULL, 't' },
		{ "public-url", required_argument, NULL, 'p' },
		{ "signature", required_argument, NULL, 's' },
		{ "no-signature", no_argument, NULL, 'N' },
		{ "method", required_argument, NULL, 'm' },
		{ "content-type", required_argument, NULL, 'c' },
		{ "body-file", required_argument, NULL, 'b' },
		{ "body", required_argument, NULL, 'B' },
		{ "header", required_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, i;

	memset(o, 0, sizeof(*o));
	o->method = "POST";
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 't': o->token = optarg; break;
		case 'p': o->public_base = optarg; break;
		case 's': o->signature = optarg; break;
		case 'N': o->no_signature = 1; break;
		case 'c': o->content_type = optarg; break;
		case 'b': o->body_file = optarg; break;
		case 'B': o->body = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'h': return -1;
		case 'm':
			if (strcmp(optarg, "GET") && strcmp(optarg, "POST")) {
				fprintf(stderr, "callpipe-sim: --method is GET or POST\n");
				return SIM_EXIT_USAGE;
			}
			o->method = optarg;
			break;
		case 'H':
			if (o->nextra >= SIM_HTTP_EXTRA_MAX - 1 || !strchr(optarg, ':')) {
				fprintf(stderr, "callpipe-sim: --header 'Name: value' (at most %d)\n",
					SIM_HTTP_EXTRA_MAX - 1);
				return SIM_EXIT_USAGE;
			}
			o->extra[o->nextra++] = optarg;
			break;
		case 'T': {
			char *end;
			double s = strtod(optarg, &end);

			if (*end || !(s > 0 && s <= 3600)) {
				fprintf(stderr, "callpipe-sim: --timeout is seconds, 0 < S <= 3600\n");
				return SIM_EXIT_USAGE;
			}
			o->timeout_ms = (long)(s * 1000);
			break;
		}
		default:
			return SIM_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "callpipe-sim: %s needs a URL (try --help)\n", argv[0]);
		return SIM_EXIT_USAGE;
	}
	o->url = argv[optind++];
	for (i = optind; i < argc; i++)
		if (add_pair(o, argv[i]))
			return SIM_EXIT_USAGE;
	if ((o->body_file || o->body) && (o->npairs || strcmp(o->method, "GET") == 0 ||
					    (o->body_file && o->body))) {
		fprintf(stderr, "callpipe-sim: --body or --body-file (one of them) goes with POST "
			"and no NAME=VALUE pairs\n");
		return SIM_EXIT_USAGE;
	}
	if (o->signature && o->no_signature) {
		fprintf(stderr, "callpipe-sim: --signature and --no-signature contradict\n");
		return SIM_EXIT_USAGE;
	}
	if (is_sign && !o->token) {
		fprintf(stderr, "callpipe-sim: sign needs --auth-token\n");
		return SIM_EXIT_USAGE;
	}
	if (sim_url_split(o->url, NULL, 0, NULL, 0, NULL, NULL, 0)) {
		fprintf(stderr, "callpipe-sim: not a URL (scheme://host[:port]/path): %s\n", o->url);
		return SIM_EXIT_USAGE;
	}
	return 0;
}

int sim_cmd_sign(int argc, char **argv)
{
	struct post_opts o;
	struct post_plan pl;
	int rc = parse_opts(argc, argv, &o, 1);

	if (rc) {
		free_pairs(&o);
		if (rc < 0) {
			fputs(sim_help_post, stdout);
			return 0;
		}
		return rc;
	}
	o.signature = NULL;
	o.no_signature = 0;
	if (make_plan(&o, &pl)) {
		free_pairs(&o);
		return SIM_EXIT_FAIL;
	}
	if (o.verbose)
		fprintf(stderr, "# signed-url: %s\n", pl.signed_url);
	printf("%s\n", pl.sig);
	free(pl.body);
	free_pairs(&o);
	return 0;
}

int sim_cmd_post(int argc, char **argv)
{
	struct sim_http_request req;
	struct sim_http_response resp;
	struct post_opts o;
	struct post_plan pl;
	char err[512];
	int rc = parse_opts(argc, argv, &o, 0), i;
	const char *h, *nl;

	if (rc) {
		free_pairs(&o);
		if (rc < 0) {
			fputs(sim_help_post, stdout);
			return 0;
		}
		return rc;
	}
	if (make_plan(&o, &pl)) {
		free_pairs(&o);
		return SIM_EXIT_FAIL;
	}
	memset(&req, 0, sizeof(req));
	req.method = o.method;
	req.url = pl.send_url;
	req.content_type = pl.content_type;
	req.body = pl.body;
	req.body_len = pl.body_len;
	req.signature = o.no_signature ? NULL : o.signature ? o.signature
		: pl.have_sig ? pl.sig : NULL;
	for (i = 0; i < o.nextra; i++)
		req.extra[i] = o.extra[i];
	req.timeout_ms = o.timeout_ms;
	if (o.verbose) {
		fprintf(stderr, "# %s %s\n", req.method, req.url);
		fprintf(stderr, "# signed-url: %s\n", pl.signed_url);
		fprintf(stderr, "# signature: %s\n", req.signature ? req.signature : "(none)");
	}
	rc = sim_http_send(&req, &resp, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "callpipe-sim: %s %s: %s\n", req.method, req.url, err);
		rc = SIM_EXIT_TRANSPORT;
	} else {
		printf("HTTP %ld\n", resp.status);
		for (h = resp.headers; *h; h = nl + 1) {
			nl = strchr(h, '\n');
			if (!nl)
				break;
			printf("< %.*s\n", (int)(nl - h), h);
		}
		printf("\n");
		fwrite(resp.body, 1, resp.body_len, stdout);
		fflush(stdout);
		rc = SIM_EXIT_OK;
	}
	sim_http_response_free(&resp);
	free(pl.body);
	free_pairs(&o);
	return rc;
}
