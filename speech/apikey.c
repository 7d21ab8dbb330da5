/* apikey: one rule for where an HTTP engine's API key comes from and how it is sent, shared by
 * tts_http and asr_http. */
#include "apikey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int apikey_append_bearer(struct curl_slist **list, const char *key, const char *env_name)
{
	struct curl_slist *l;
	size_t len;
	char *line;

	if ((!key || !key[0]) && env_name && env_name[0])
		key = getenv(env_name);
	if (!key || !key[0])
		return 0;
	len = strlen(key) + sizeof("Authorization: Bearer ");
	line = malloc(len);
	if (!line)
		return -1;
	snprintf(line, len, "Authorization: Bearer %s", key);
	l = curl_slist_append(*list, line);
	memset(line, 0, len);
	free(line);
	if (!l)
		return -1;
	*list = l;
	return 0;
}
