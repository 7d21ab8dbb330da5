/* base64: RFC 4648 standard alphabet with '=' padding, as Twilio's media payloads use.
 * Decoding is strict (bad characters, bad padding, non-zero pad bits are errors). */
#ifndef CALLPIPE_BASE64_H
#define CALLPIPE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode N bytes, without the NUL. */
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)
/* Largest number of bytes LEN characters can decode to. */
#define BASE64_DECODED_MAX(len) (((len) / 4) * 3)

/* Encode; OUT gets a NUL. Returns the length, or -1 when CAP is too small. */
long base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Decode LEN characters; returns the number of bytes, or -1 on invalid input or
 * when CAP is too small. */
long base64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
