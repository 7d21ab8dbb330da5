/* apikey: the "Authorization: Bearer" header of the OpenAI-compatible HTTP engines (speech
 * and transcription), with the key from the configuration or a named environment variable. */
#ifndef CALLPIPE_APIKEY_H
#define CALLPIPE_APIKEY_H

#include <curl/curl.h>

/* Append "Authorization: Bearer KEY" to *LIST when a key is known: KEY when it is not empty,
 * else the value of the environment variable ENV_NAME (when set and not empty). Read once,
 * when an engine opens: getenv() is not safe against a concurrent setenv(). The copy of the
 * line made on the way is wiped. 0 (also when there is no key), or -1 when memory ran out. */
int apikey_append_bearer(struct curl_slist **list, const char *key, const char *env_name);

#endif
