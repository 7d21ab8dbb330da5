/* test_ws_upgrade: the upgrade rules of callpipe-ws: the two stream paths, the subprotocol
 * rule of docs/PROTOCOL.md §4.2 (and the lists lws 4.1.6 would drop), the signed URL forms. */
#include <string.h>

#include "check.h"
#include "upgrade.h"

static const struct {
	const char *list;
	enum upgrade_sub want;
	const char *why;
} subs[] = {
	{ NULL, UPGRADE_SUB_NONE, "no header" },
	{ "", UPGRADE_SUB_NONE, "empty header" },
	{ "audio.twilio.com", UPGRADE_SUB_TWILIO, "offered alone" },
	{ "chat, audio.twilio.com", UPGRADE_SUB_TWILIO, "among others, second" },
	{ "audio.twilio.com,chat", UPGRADE_SUB_TWILIO, "among others, first" },
	{ "chat,audio.twilio.com", UPGRADE_SUB_TWILIO, "two headers joined by lws" },
	{ " \tchat ,\taudio.twilio.com  ", UPGRADE_SUB_TWILIO, "optional whitespace" },
	{ "audio.twilio.com,", UPGRADE_SUB_TWILIO, "empty element after it (RFC 7230 #rule)" },
	{ "v1.chat, audio.twilio.com", UPGRADE_SUB_TWILIO, "dotted token that is no number" },
	{ "chat", UPGRADE_SUB_REFUSE, "only unknown" },
	{ "chat, superchat", UPGRADE_SUB_REFUSE, "only unknowns" },
	{ "AUDIO.TWILIO.COM", UPGRADE_SUB_REFUSE, "tokens are case-sensitive" },
	{ "audio.twilio.co", UPGRADE_SUB_REFUSE, "prefix" },
	{ "audio.twilio.comm", UPGRADE_SUB_REFUSE, "longer" },
	{ " ", UPGRADE_SUB_REFUSE, "whitespace only" },
	{ ",audio.twilio.com", UPGRADE_SUB_REFUSE, "empty element first (lws drops it)" },
	{ "chat,,audio.twilio.com", UPGRADE_SUB_REFUSE, "empty element before it" },
	{ "chat audio.twilio.com", UPGRADE_SUB_REFUSE, "space instead of comma" },
	{ "\"audio.twilio.com\"", UPGRADE_SUB_REFUSE, "quoted" },
	{ "a=b, audio.twilio.com", UPGRADE_SUB_REFUSE, "'=' is no token character" },
	{ "audio.twilio.com/1", UPGRADE_SUB_REFUSE, "'/' is no token character" },
	{ "1.2.3, audio.twilio.com", UPGRADE_SUB_REFUSE, "lws reads 1.2.3 as a bad float" },
	{ "9..x, audio.twilio.com", UPGRADE_SUB_REFUSE, "two dots after digits" },
	{ "caf\xc3\xa9, audio.twilio.com", UPGRADE_SUB_REFUSE, "non-ASCII" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, audio.twilio.com",
	  UPGRADE_SUB_REFUSE, "64-character token (lws name buffer is 64 with the NUL)" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, audio.twilio.com",
	  UPGRADE_SUB_TWILIO, "63-character token" },
};

static void test_subprotocol(void)
{
	char why[128], what[256], list[200];
	size_t i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		enum upgrade_sub got = upgrade_subprotocol(subs[i].list, why, sizeof(why));

		snprintf(what, sizeof(what), "subprotocol %s (%s)", subs[i].why, why);
		CHECK_MSG(got == subs[i].want &&
			  (got != UPGRADE_SUB_REFUSE) == (why[0] == '\0'), what);
	}
	CHECK(upgrade_subprotocol("chat", NULL, 0) == UPGRADE_SUB_REFUSE);

	/* lws copies the list into char[128] and needs 127 free: 126 characters is the most */
	for (i = 0; i < 126 - 17; i++)
		list[i] = i % 2 ? ',' : 'x';
	memcpy(list + 126 - 17, ",audio.twilio.com", 17);
	list[126] = '\0';
	CHECK(upgrade_subprotocol(list, why, sizeof(why)) == UPGRADE_SUB_TWILIO);
	list[0] = 'y';
	memmove(list + 1, list, 127);
	CHECK(strlen(list) == 127);
	CHECK(upgrade_subprotocol(list, why, sizeof(why)) == UPGRADE_SUB_REFUSE);
	CHECK(strstr(why, "126") != NULL);
}

static void test_path(void)
{
	CHECK(upgrade_path_ok("/ws/twilio-media"));
	CHECK(upgrade_path_ok("/ws/twilio-media/"));
	CHECK(!upgrade_path_ok("/ws/twilio-media//"));
	CHECK(!upgrade_path_ok("/ws/twilio-medi"));
	CHECK(!upgrade_path_ok("/ws/twilio-media/x"));
	CHECK(!upgrade_path_ok("/WS/twilio-media"));
	CHECK(!upgrade_path_ok("/"));
	CHECK(!upgrade_path_ok(""));
	CHECK(!upgrade_path_ok(NULL));
}

static char urls[UPGRADE_SIG_URLS][TWSIG_URL_MAX];

static void test_sig_urls(void)
{
	CHECK(upgrade_sig_urls("https://voice.example.test", urls) == 4);
	CHECK_STR(urls[0], "wss://voice.example.test/ws/twilio-media");
	CHECK_STR(urls[1], "wss://voice.example.test/ws/twilio-media/");
	CHECK_STR(urls[2], "https://voice.example.test/ws/twilio-media");
	CHECK_STR(urls[3], "https://voice.example.test/ws/twilio-media/");
	CHECK(upgrade_sig_urls("http://127.0.0.1:8080/base/", urls) == 4);
	CHECK_STR(urls[0], "ws://127.0.0.1:8080/base/ws/twilio-media");
	CHECK_STR(urls[3], "http://127.0.0.1:8080/base/ws/twilio-media/");
	CHECK(upgrade_sig_urls("ftp://x", urls) == 0);
	CHECK(upgrade_sig_urls("", urls) == 0);
	CHECK(upgrade_sig_urls(NULL, urls) == 0);
	/* [twilio] stream_url: the URL itself (any path), its '/' form, the https spelling */
	CHECK(upgrade_sig_urls_stream("wss://media.example.test:8443/ws/twilio-media/", urls) == 4);
	CHECK_STR(urls[0], "wss://media.example.test:8443/ws/twilio-media");
	CHECK_STR(urls[1], "wss://media.example.test:8443/ws/twilio-media/");
	CHECK_STR(urls[2], "https://media.example.test:8443/ws/twilio-media");
	CHECK_STR(urls[3], "https://media.example.test:8443/ws/twilio-media/");
	CHECK(upgrade_sig_urls_stream("ws://127.0.0.1:9/x/ws/twilio-media", urls) == 4);
	CHECK_STR(urls[0], "ws://127.0.0.1:9/x/ws/twilio-media");
	CHECK_STR(urls[3], "http://127.0.0.1:9/x/ws/twilio-media/");
	CHECK(upgrade_sig_urls_stream("https://h/ws/twilio-media", urls) == 0);
	CHECK(upgrade_sig_urls_stream(NULL, urls) == 0);
}

static void test_sig_check(void)
{
	size_t n = upgrade_sig_urls("https://voice.example.test", urls);

	/* HMAC-SHA1 keyed "12345", no parameters, computed independently (Python hmac) */
	CHECK(upgrade_sig_check("12345", urls, n, "ynt87vZO1ODv8rUY3YozEc+jab8="));  /* wss */
	CHECK(upgrade_sig_check("12345", urls, n, "tzVl98Fp360g/1zxsxC9pxhiTRE=")); /* https/ */
	CHECK(upgrade_sig_check("12345", urls, n, "gDyWd6MbpxCycFbljoBWRIHoRmk=")); /* :443 */
	CHECK(!upgrade_sig_check("54321", urls, n, "ynt87vZO1ODv8rUY3YozEc+jab8="));
	CHECK(!upgrade_sig_check("12345", urls, n, "ynt87vZO1ODv8rUY3YozEc+jab9="));
	CHECK(!upgrade_sig_check("12345", urls, n, ""));
	CHECK(!upgrade_sig_check("12345", urls, n, NULL));
	CHECK(!upgrade_sig_check("12345", urls, 0, "ynt87vZO1ODv8rUY3YozEc+jab8="));
	/* a direct-TLS helper on another host:port: signed over that URL, not public_url's */
	n = upgrade_sig_urls_stream("wss://media.example.test:8443/ws/twilio-media", urls);
	CHECK(upgrade_sig_check("12345", urls, n, "aKix6HE7gayfzyLW7woPrhA/Kko="));
	CHECK(upgrade_sig_check("12345", urls, n, "F0G0pLp/Ja+k78Lae8c9Nt9ldlI=")); /* https/ */
	CHECK(!upgrade_sig_check("12345", urls, n, "ynt87vZO1ODv8rUY3YozEc+jab8="));
}

int main(void)
{
	test_path();
	test_subprotocol();
	test_sig_urls();
	test_sig_check();
	return check_done();
}
