/* tls: callpipe-ws serving wss:// itself ([ws] tls_cert, tls_key): the certificate and key
 * checked with libssl before lws sees them, and the lws context settings (TLS 1.2+ only). */
#ifndef CALLPIPE_WSTLS_H
#define CALLPIPE_WSTLS_H

#include <stddef.h>

struct lws_context;
struct lws_context_creation_info;

/* Load CERT (a PEM chain, leaf first) and KEY (an unencrypted PEM private key) the way the
 * server will, and say precisely what is wrong: a file that cannot be read (strerror), one
 * that is not PEM, an encrypted key, a key that is not the certificate's (OpenSSL's reason
 * after the path). 0, or -1 with ERR filled. WARN gets "" or a line worth printing (an
 * expired or not yet valid certificate, a key file others can read). */
int wstls_check(const char *cert, const char *key, char *err, size_t errlen, char *warn,
		size_t warnlen);

/* Set INFO to serve TLS with CERT and KEY (the strings must outlive the context): TLS 1.2
 * and 1.3 only, forward-secret AEAD ciphers, ALPN http/1.1 (Twilio's WebSocket client
 * speaks HTTP/1.1; lws would otherwise offer h2 to curl and browsers). */
void wstls_setup(struct lws_context_creation_info *info, const char *cert, const char *key);

/* SIGHUP: check CERT and KEY again and, when they are good, make new connections use them
 * (open ones keep the session they have). 0, or -1 with ERR filled (the old pair stays). */
int wstls_reload(struct lws_context *ctx, const char *cert, const char *key, char *err,
		 size_t errlen);

/* A short description for the banner: the certificate's subject and expiry. */
void wstls_describe(const char *cert, char *out, size_t cap);

#endif
