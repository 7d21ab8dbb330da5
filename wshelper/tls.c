/* tls: [ws] tls_cert / tls_key for a callpipe-ws that serves wss:// itself: libssl checks of
 * both files (lws 4.1.6 says only "problem getting cert"), lws settings, SIGHUP reload. */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* TLS 1.2 suites: ECDHE (forward secrecy) with an AEAD cipher only. TLS 1.3's own suites
 * (OpenSSL's default list) are all AEAD with forward secrecy already. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* OpenSSL's first queued error as text ("error:0480006C:PEM routines::no start line"), or
 * FALLBACK when it queued none; the queue is emptied either way. */
static const char *ssl_reason(char *buf, size_t cap, const char *fallback)
{
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (!e)
		return fallback;
	ERR_error_string_n(e, buf, cap);
	return buf;
}

/* A passphrase prompt on the terminal would hang a daemon: refuse instead, and remember
 * that one was asked for. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)u = 1;
	return -1;
}

static int readable(const char *what, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct stat st;

	if (!f) {
		snprintf(err, errlen, "[ws] %s %s: cannot read: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "[ws] %s %s: not a regular file", what, path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static void time_text(const ASN1_TIME *t, char *out, size_t cap)
{
	struct tm tm;

	if (t && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(out, cap, "(unknown)");
}

int wstls_check(const char *cert, const char *key, char *err, size_t errlen, char *warn,
		size_t warnlen)
{
	SSL_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *x;
	FILE *f;
	struct stat st;
	char why[256];
	int asked = 0, rv = -1;

	warn[0] = '\0';
	ERR_clear_error();
	if (readable("tls_cert", cert, err, errlen) < 0 || readable("tls_key", key, err, errlen) < 0)
		return -1;
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "TLS: cannot create an OpenSSL context: %s",
			 ssl_reason(why, sizeof(why), "no reason given"));
		return -1;
	}
	/* What lws 4.1.6 calls on ssl_cert_filepath: the leaf, then any chain after it. */
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "[ws] tls_cert %s: not a usable PEM certificate (OpenSSL: %s)",
			 cert, ssl_reason(why, sizeof(why), "no reason given"));
		goto out;
	}
	f = fopen(key, "re");
	if (!f) {
		snprintf(err, errlen, "[ws] tls_key %s: cannot read: %s", key, strerror(errno));
		goto out;
	}
	pkey = PEM_read_PrivateKey(f, NULL, no_passphrase, &asked);
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH))
		snprintf(warn, warnlen, "[ws] tls_key %s can be read by every user (mode %04o): "
			 "chmod 0640 or 0600 it", key, (unsigned)(st.st_mode & 07777));
	fclose(f);
	if (!pkey) {
		if (asked)
			snprintf(err, errlen, "[ws] tls_key %s: the key is encrypted (it needs a "
				 "passphrase); give callpipe-ws an unencrypted key readable only by "
				 "its user", key);
		else
			snprintf(err, errlen, "[ws] tls_key %s: not a PEM private key (OpenSSL: %s)",
				 key, ssl_reason(why, sizeof(why), "no reason given"));
		goto out;
	}
	ERR_clear_error();
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "[ws] tls_key %s does not belong to [ws] tls_cert %s (OpenSSL: "
			 "%s)", key, cert, ssl_reason(why, sizeof(why), "key values mismatch"));
		goto out;
	}
	/* Twilio refuses an expired certificate (the stream fails, the caller hears
	 * silence); starting anyway lets a renewal plus SIGHUP fix it without a restart. */
	x = SSL_CTX_get0_certificate(ctx);
	if (x && !warn[0]) {
		char when[64];

		if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
			time_text(X509_get0_notAfter(x), when, sizeof(when));
			snprintf(warn, warnlen, "[ws] tls_cert %s expired on %s: Twilio will "
				 "refuse it", cert, when);
		} else if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
			time_text(X509_get0_notBefore(x), when, sizeof(when));
			snprintf(warn, warnlen, "[ws] tls_cert %s is not valid before %s", cert,
				 when);
		}
	}
	rv = 0;
out:
	EVP_PKEY_free(pkey);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rv;
}

void wstls_setup(struct lws_context_creation_info *info, const char *cert, const char *key)
{
	info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info->ssl_cert_filepath = cert;
	info->ssl_private_key_filepath = key;
	info->ssl_cipher_list = TLS12_CIPHERS;
	/* SSL_OP_NO_SSLv2 is 0 in OpenSSL 3 but says what is meant on older ones. */
	info->ssl_options_set = (long)(SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
				       SSL_OP_NO_TLSv1_1 | SSL_OP_NO_COMPRESSION |
				       SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	info->alpn = "http/1.1";
}

int wstls_reload(struct lws_context *ctx, const char *cert, const char *key, char *err,
		 size_t errlen)
{
	char warn[256];

	if (wstls_check(cert, key, err, errlen, warn, sizeof(warn)) < 0)
		return -1;
	if (warn[0])
		fprintf(stderr, "callpipe-ws: warning: %s\n", warn);
	/* lws 4.1.6 reloads every vhost whose paths these are, from the files, into the
	 * vhost's SSL_CTX (lib/tls/tls-server.c); it always returns 0. */
	return lws_tls_cert_updated(ctx, cert, key, NULL, 0, NULL, 0) ? -1 : 0;
}

void wstls_describe(const char *cert, char *out, size_t cap)
{
	FILE *f = fopen(cert, "re");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	char subject[256] = "?", until[64];

	if (f)
		fclose(f);
	if (x) {
		X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
		time_text(X509_get0_notAfter(x), until, sizeof(until));
		snprintf(out, cap, "cert %s (%s, valid until %s)", cert, subject, until);
		X509_free(x);
	} else {
		snprintf(out, cap, "cert %s", cert);
	}
	ERR_clear_error();
}
