/* test_config: defaults, every key read from a file, and a table of bad files, each with the
 * exact "PATH:LINE: message" it must give; then config_check and config_path. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

static char dir[] = "/tmp/test_config.XXXXXX";
static char path[256];

static void write_file(const char *text, size_t len)
{
	FILE *fp = fopen(path, "w");

	fwrite(text, 1, len, fp);
	fclose(fp);
}

static void test_defaults(void)
{
	struct config c;

	memset(&c, 0x55, sizeof(c));
	config_defaults(&c);
	CHECK_STR(c.public_url, "http://127.0.0.1:8080");
	CHECK_STR(c.auth_token, "");
	CHECK(c.validate == 1);
	CHECK(c.stream_token_seconds == 300);
	CHECK_STR(c.log_dir, "/var/log/callpipe");
	{
		struct stat st;   /* the site override wins when this machine has one */
		int site = stat("/etc/callpipe/twiml-templates", &st) == 0 && S_ISDIR(st.st_mode);

		CHECK_STR(c.templates_dir, site ? "/etc/callpipe/twiml-templates"
						: CALLPIPE_DATADIR "/twiml-templates");
	}
	CHECK_STR(c.media_dir, CALLPIPE_DATADIR "/media");
	CHECK(c.max_body == 65536);
	CHECK(c.threads == 8);
	CHECK_STR(c.fcgi_listen, "");
	CHECK_STR(c.ws_listen, "127.0.0.1:8081");
	CHECK_STR(c.mode, "echo");
	CHECK(c.max_message == 65536);
	CHECK(c.idle_seconds == 30);
	CHECK(c.echo_mark_every == 0);
	CHECK(c.drain_seconds == 10);
	CHECK(c.max_calls == 4096);
	CHECK(c.max_queue_bytes == 1048576);
	CHECK(c.event_loop == CONFIG_EVLOOP_POLL);
	CHECK(c.max_memory == 268435456);
	CHECK(c.start_seconds == 5);
}

/* [asr]: defaults, every key read, and the refusals. */
static void test_asr(void)
{
	static const char text[] =
		"[asr]\n"
		"engine = http\n"
		"model_dir = /opt/models/en\n"
		"hmm = /opt/models/en/am\n"
		"dict = /opt/models/en/words.dict\n"
		"lm = /opt/models/en/lm.bin\n"
		"grammar_dir = /etc/callpipe/grammars\n"
		"decoders = 64\n"
		"max_seconds = 600\n"
		"url = http://127.0.0.1:9/v1/audio/transcriptions\n"
		"model = gpt-4o-transcribe\n"
		"api_key = sk-x\n"
		"api_key_env = MY_KEY\n"
		"command = /usr/local/bin/stt\n"
		"timeout_ms = 100\n";
	static const struct {
		const char *text, *err;
	} bad[] = {
		{"[asr]\nengine = vosk\n",
		 "2: [asr] engine: \"vosk\" is not an engine (pocketsphinx, http or exec)"},
		{"[asr]\ndecoders = 0\n", "2: [asr] decoders: 0 is out of range (1 .. 64)"},
		{"[asr]\nmax_seconds = 601\n", "2: [asr] max_seconds: 601 is out of range (1 .. 600)"},
		{"[asr]\ntimeout_ms = 99\n", "2: [asr] timeout_ms: 99 is out of range (100 .. 600000)"},
		{"[asr]\nmodel_dir =\n", "2: [asr] model_dir: must not be empty"},
		{"[asr]\nvoice = x\n", "2: unknown key \"voice\" in [asr]"},
	};
	struct config c;
	char err[512];

	config_defaults(&c);
	CHECK_STR(c.asr_engine, "pocketsphinx");
	CHECK_STR(c.asr_model_dir, "/usr/share/pocketsphinx/model/en-us");
	CHECK_STR(c.asr_hmm, "");
	CHECK_STR(c.asr_dict, "");
	CHECK_STR(c.asr_lm, "");
	CHECK_STR(c.asr_grammar_dir, CALLPIPE_DATADIR "/grammars");
	CHECK(c.asr_decoders == 4);
	CHECK(c.asr_max_seconds == 60);
	CHECK_STR(c.asr_url, "https://api.openai.com/v1/audio/transcriptions");
	CHECK_STR(c.asr_model, "whisper-1");
	CHECK_STR(c.asr_api_key, "");
	CHECK_STR(c.asr_api_key_env, "OPENAI_API_KEY");
	CHECK_STR(c.asr_command, "");
	CHECK(c.asr_timeout_ms == 10000);

	write_file(text, sizeof(text) - 1);
	err[0] = '\0';
	CHECK(config_load(&c, path, err, sizeof(err)) == 0);
	if (err[0])
		printf("#   error: %s\n", err);
	CHECK_STR(c.asr_engine, "http");
	CHECK_STR(c.asr_model_dir, "/opt/models/en");
	CHECK_STR(c.asr_hmm, "/opt/models/en/am");
	CHECK_STR(c.asr_dict, "/opt/models/en/words.dict");
	CHECK_STR(c.asr_lm, "/opt/models/en/lm.bin");
	CHECK_STR(c.asr_grammar_dir, "/etc/callpipe/grammars");
	CHECK(c.asr_decoders == 64);
	CHECK(c.asr_max_seconds == 600);
	CHECK_STR(c.asr_url, "http://127.0.0.1:9/v1/audio/transcriptions");
	CHECK_STR(c.asr_model, "gpt-4o-transcribe");
	CHECK_STR(c.asr_api_key, "sk-x");
	CHECK_STR(c.asr_api_key_env, "MY_KEY");
	CHECK_STR(c.asr_command, "/usr/local/bin/stt");
	CHECK(c.asr_timeout_ms == 100);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(bad[i].text, strlen(bad[i].text));
		err[0] = '\0';
		CHECK_MSG(config_load(&c, path, err, sizeof(err)) == -1 && strstr(err, bad[i].err),
			  bad[i].err);
		if (!strstr(err, bad[i].err))
			printf("#   got: %s\n", err);
	}
}

static void test_full_file(void)
{
	static const char text[] =
		"; callpipe.conf used by the unit test\n"
		"# both comment styles\n"
		"\n"
		"[twilio]\n"
		"public_url = https://voice.example.com/base//\n"
		"auth_token = abc123   ; inline comment\n"
		"validate = No\n"
		"stream_token_seconds = 45\n"
		"[log]\n"
		"  dir = /srv/calls\n"
		"[fcgi]\n"
		"templates=/etc/callpipe/templates\r\n"
		"max_body = 1024\n"
		"threads = 256\n"
		"listen = 127.0.0.1:9000\n"
		"[ws]\n"
		"\tlisten = 0.0.0.0:9001\n"
		"mode = agent-2_x\n"
		"max_message = 16777216\n"
		"idle_seconds = 86400\n"
		"echo_mark_every = 50\n"
		"drain_seconds = 0\n"
		"max_calls = 1\n"
		"max_queue_bytes = 4096\n"
		"event_loop = libev\n"
		"max_memory = 1048576\n"
		"start_seconds = 3600\n"
		"[agent]\n"
		"turn_url = https://app.example.com/turn\n"
		"connect_to = 127.0.0.1:443\n"
		"lead_ms = 500\n"
		"speech_timeout_auto_ms = 450\n"
		"vad_margin_db = 10\n"
		"vad_echo_margin_db = 20\n"
		"vad_min_level_db = 35\n"
		"vad_min_speech_ms = 200\n"
		"vad_preroll_ms = 0\n"
		"error_text = Oops.\n"
		"[tts]\n"
		"engine = http\n"
		"speed = 1.25\n"
		"cache_bytes = 0\n"
		"[twilio]\n"
		"validate = on\n";   /* a section may come back; the last value wins */
	struct config c;
	char err[512];

	write_file(text, sizeof(text) - 1);
	CHECK(config_load(&c, path, err, sizeof(err)) == 0);
	if (err[0])
		printf("#   error: %s\n", err);
	CHECK_STR(c.public_url, "https://voice.example.com/base");
	CHECK_STR(c.auth_token, "abc123");
	CHECK(c.stream_token_seconds == 45);
	CHECK(c.validate == 1);
	CHECK_STR(c.log_dir, "/srv/calls");
	CHECK_STR(c.templates_dir, "/etc/callpipe/templates");
	CHECK(c.max_body == 1024);
	CHECK(c.threads == 256);
	CHECK_STR(c.fcgi_listen, "127.0.0.1:9000");
	CHECK_STR(c.ws_listen, "0.0.0.0:9001");
	CHECK_STR(c.mode, "agent-2_x");
	CHECK(c.max_message == 16777216);
	CHECK(c.idle_seconds == 86400);
	CHECK(c.echo_mark_every == 50);
	CHECK(c.drain_seconds == 0);
	CHECK(c.max_calls == 1);
	CHECK(c.max_queue_bytes == 4096);
	CHECK(c.event_loop == CONFIG_EVLOOP_LIBEV);
	CHECK(c.max_memory == 1048576);
	CHECK(c.start_seconds == 3600);
	CHECK_STR(c.turn_url, "https://app.example.com/turn");
	CHECK_STR(c.turn_connect_to, "127.0.0.1:443");
	CHECK(c.lead_ms == 500);
	CHECK(c.speech_timeout_auto_ms == 450);
	CHECK(c.vad_margin_db == 10);
	CHECK(c.vad_echo_margin_db == 20);
	CHECK(c.vad_min_level_db == 35);
	CHECK(c.vad_min_speech_ms == 200);
	CHECK(c.vad_preroll_ms == 0);
	CHECK_STR(c.error_text, "Oops.");
	CHECK_STR(c.tts_engine, "http");
	CHECK(c.tts_speed > 1.249 && c.tts_speed < 1.251);
	CHECK(c.tts_cache_bytes == 0);

	/* An empty file gives the defaults. */
	write_file("", 0);
	CHECK(config_load(&c, path, err, sizeof(err)) == 0);
	CHECK_STR(c.mode, "echo");
	CHECK(c.validate == 1);
}

static void test_booleans(void)
{
	static const struct {
		const char *v;
		int want;
	} b[] = {
		{"yes", 1}, {"no", 0}, {"true", 1}, {"false", 0}, {"on", 1}, {"off", 0},
		{"1", 1}, {"0", 0}, {"YES", 1}, {"False", 0}, {"oN", 1},
	};
	size_t i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		char text[64], err[512], msg[64];
		struct config c;

		snprintf(text, sizeof(text), "[twilio]\nvalidate = %s\n", b[i].v);
		write_file(text, strlen(text));
		snprintf(msg, sizeof(msg), "validate = %s is %d", b[i].v, b[i].want);
		CHECK_MSG(config_load(&c, path, err, sizeof(err)) == 0 && c.validate == b[i].want,
			  msg);
	}
}

/* Bad files: the message after "PATH:" must be exactly this. */
static const struct {
	const char *text;
	const char *msg;
} bad[] = {
	{"[twilio]\npublic_url = x\n[weird]\nkey = 1\n",
	 "3: unknown section [weird] (known: [twilio] [log] [fcgi] [ws] [agent] [tts] [asr])"},
	{"[Twilio]\n", "1: unknown section [Twilio] (known: [twilio] [log] [fcgi] [ws] [agent] [tts] [asr])"},
	{"[twilio]\nauthtoken = x\n", "2: unknown key \"authtoken\" in [twilio]"},
	{"[log]\nlisten = x\n", "2: unknown key \"listen\" in [log]"},
	{"dir = /x\n", "1: key \"dir\" before any section (start with [twilio], [log], [fcgi] or [ws])"},
	{"[twilio]\nvalidate = maybe\n",
	 "2: [twilio] validate: \"maybe\" is not a boolean (use yes/no, true/false, on/off or 1/0)"},
	{"[twilio]\nvalidate =\n",
	 "2: [twilio] validate: \"\" is not a boolean (use yes/no, true/false, on/off or 1/0)"},
	{"[fcgi]\nthreads = 8x\n", "2: [fcgi] threads: \"8x\" is not a whole number"},
	{"[fcgi]\nthreads = 1.5\n", "2: [fcgi] threads: \"1.5\" is not a whole number"},
	{"[fcgi]\nthreads = +3\n", "2: [fcgi] threads: \"+3\" is not a whole number"},
	{"[fcgi]\nthreads = 0x10\n", "2: [fcgi] threads: \"0x10\" is not a whole number"},
	{"[fcgi]\nthreads =\n", "2: [fcgi] threads: \"\" is not a whole number"},
	{"[fcgi]\nthreads = 0\n", "2: [fcgi] threads: 0 is out of range (1 .. 256)"},
	{"[twilio]\nstream_token_seconds = 9\n",
	 "2: [twilio] stream_token_seconds: 9 is out of range (10 .. 86400)"},
	{"[twilio]\nstream_token_seconds = 86401\n",
	 "2: [twilio] stream_token_seconds: 86401 is out of range (10 .. 86400)"},
	{"[fcgi]\nthreads = 257\n", "2: [fcgi] threads: 257 is out of range (1 .. 256)"},
	{"[fcgi]\nthreads = -1\n", "2: [fcgi] threads: -1 is out of range (1 .. 256)"},
	{"[fcgi]\nthreads = 99999999999999999999999\n",
	 "2: [fcgi] threads: 99999999999999999999999 is out of range (1 .. 256)"},
	{"[fcgi]\nmax_body = 1023\n", "2: [fcgi] max_body: 1023 is out of range (1024 .. 16777216)"},
	{"[ws]\nmax_message = 16777217\n",
	 "2: [ws] max_message: 16777217 is out of range (1024 .. 16777216)"},
	{"[ws]\nidle_seconds = 0\n", "2: [ws] idle_seconds: 0 is out of range (1 .. 86400)"},
	{"[ws]\necho_mark_every = -5\n",
	 "2: [ws] echo_mark_every: -5 is out of range (0 .. 1000000)"},
	{"[ws]\ndrain_seconds = 3601\n", "2: [ws] drain_seconds: 3601 is out of range (0 .. 3600)"},
	{"[ws]\nmax_calls = 1000001\n", "2: [ws] max_calls: 1000001 is out of range (1 .. 1000000)"},
	{"[ws]\nmax_queue_bytes = 100\n",
	 "2: [ws] max_queue_bytes: 100 is out of range (4096 .. 268435456)"},
	{"[ws]\nmax_memory = 1048575\n",
	 "2: [ws] max_memory: 1048575 is out of range (1048576 .. 68719476736)"},
	{"[ws]\nstart_seconds = 0\n", "2: [ws] start_seconds: 0 is out of range (1 .. 3600)"},
	{"[ws]\nmode = Echo\n",
	 "2: [ws] mode: \"Echo\" is not a mode name (lower-case letters, digits, '_' and '-')"},
	{"[ws]\nmode = ../x\n",
	 "2: [ws] mode: \"../x\" is not a mode name (lower-case letters, digits, '_' and '-')"},
	{"[ws]\nmode =\n", "2: [ws] mode: must not be empty"},
	{"[tts]\nengine = festival\n",
	 "2: [tts] engine: \"festival\" is not an engine (espeak, http or exec)"},
	{"[tts]\nspeed = 5\n", "2: [tts] speed: 5 is out of range (0.25 .. 4.00)"},
	{"[tts]\nspeed = fast\n", "2: [tts] speed: \"fast\" is not a number"},
	{"[agent]\nlead_ms = 50\n", "2: [agent] lead_ms: 50 is out of range (100 .. 60000)"},
	{"[agent]\nspeech_timeout_auto_ms = 50\n",
	 "2: [agent] speech_timeout_auto_ms: 50 is out of range (100 .. 5000)"},
	{"[agent]\nvad_min_speech_ms = 501\n",
	 "2: [agent] vad_min_speech_ms: 501 is out of range (20 .. 500)"},
	{"[ws]\nevent_loop = epoll\n",
	 "2: [ws] event_loop: \"epoll\" is not an event loop (poll or libev)"},
	{"[ws]\nevent_loop = LIBEV\n",
	 "2: [ws] event_loop: \"LIBEV\" is not an event loop (poll or libev)"},
	{"[ws]\nmode = abcdefghijabcdefghijabcdefghij12\n",
	 "2: [ws] mode: value too long (32 characters, at most 31)"},
	{"[log]\ndir =\n", "2: [log] dir: must not be empty"},
	{"[twilio]\npublic_url =\n", "2: [twilio] public_url: must not be empty"},
	{"[twilio]\njust some words\n",
	 "2: syntax error (expected \"key = value\" or \"[section]\")"},
	{"[twilio\n", "1: syntax error (expected \"key = value\" or \"[section]\")"},
	/* The first error wins, whoever finds it. */
	{"[twilio]\nnonsense\nbogus = 1\n",
	 "2: syntax error (expected \"key = value\" or \"[section]\")"},
	{"[twilio]\nbogus = 1\nnonsense\n", "2: unknown key \"bogus\" in [twilio]"},
	/* An indented line is a key of its own, never the continuation of the one above. */
	{"[twilio]\nauth_token = a\n  extra = b\n", "3: unknown key \"extra\" in [twilio]"},
};

static void test_bad_files(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512], want[600];
		struct config c;

		write_file(bad[i].text, strlen(bad[i].text));
		snprintf(want, sizeof(want), "%s:%s", path, bad[i].msg);
		CHECK_MSG(config_load(&c, path, err, sizeof(err)) == -1, bad[i].msg);
		CHECK_STR(err, want);
	}
}

static void test_lengths(void)
{
	char *text = malloc(4096), err[512], want[600];
	struct config c;
	int n;

	/* CONFIG_STR_MAX - 1 characters fit; one more is "value too long". */
	n = snprintf(text, 4096, "[log]\ndir = /%0*d\n", CONFIG_STR_MAX - 2, 0);
	write_file(text, (size_t)n);
	CHECK(config_load(&c, path, err, sizeof(err)) == 0 &&
	      strlen(c.log_dir) == CONFIG_STR_MAX - 1);
	n = snprintf(text, 4096, "[log]\ndir = /%0*d\n", CONFIG_STR_MAX - 1, 0);
	write_file(text, (size_t)n);
	CHECK(config_load(&c, path, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s:2: [log] dir: value too long (512 characters, at most 511)",
		 path);
	CHECK_STR(err, want);
	/* A line too long to be read whole is refused, and the next line keeps its number. */
	n = snprintf(text, 4096, "[log]\n; %02000d\nbogus = 1\n", 0);
	write_file(text, (size_t)n);
	CHECK(config_load(&c, path, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s:2: line too long (over 1024 characters)", path);
	CHECK_STR(err, want);
	write_file("[log]\ndir = /a\0b\n", 17);
	CHECK(config_load(&c, path, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	CHECK_STR(err, want);
	free(text);
}

static void test_open_errors(void)
{
	char err[512], want[600], missing[300];
	struct config c;

	snprintf(missing, sizeof(missing), "%s/missing.conf", dir);
	CHECK(config_load(&c, missing, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", missing);
	CHECK_STR(err, want);
	CHECK(config_load(&c, dir, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s: Is a directory", dir);
	CHECK_STR(err, want);
	/* A failed load still leaves the defaults, never garbage. */
	CHECK_STR(c.mode, "echo");
}

static void test_check(void)
{
	static const struct {
		const char *url;
		int ok;
	} urls[] = {
		{"https://voice.example.com", 1},
		{"http://127.0.0.1:8080", 1},
		{"https://voice.example.com:8443/callpipe", 1},
		{"https://[::1]:8443", 1},
		{"https://h", 1},
		{"ftp://voice.example.com", 0},
		{"voice.example.com", 0},
		{"https://", 0},
		{"https://:8080", 0},
		{"https:///path", 0},
		{"https://h:0", 0},
		{"https://h:65536", 0},
		{"https://h:", 0},
		{"https://h:80x", 0},
		{"https://h/a b", 0},
		{"https://h/?q=1", 0},
		{"https://h/#frag", 0},
		{"https://user@h", 0},
		{"https://[::1", 0},
	};
	struct config c;
	char err[512];
	size_t i;

	config_defaults(&c);
	CHECK(config_check(&c, err, sizeof(err)) == -1);
	CHECK_STR(err, "[twilio] validate = yes but auth_token is empty: set auth_token to your "
		  "Twilio auth token, or set validate = no for local development (requests are "
		  "then not authenticated)");
	c.validate = 0;
	CHECK(config_check(&c, err, sizeof(err)) == 0);
	c.validate = 1;
	snprintf(c.auth_token, sizeof(c.auth_token), "secret");
	CHECK(config_check(&c, err, sizeof(err)) == 0);
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		char msg[128];

		snprintf(c.public_url, sizeof(c.public_url), "%s", urls[i].url);
		snprintf(msg, sizeof(msg), "public_url %s %s", urls[i].url,
			 urls[i].ok ? "accepted" : "refused");
		CHECK_MSG((config_check(&c, err, sizeof(err)) == 0) == urls[i].ok, msg);
		if (!urls[i].ok)
			CHECK_MSG(strncmp(err, "[twilio] public_url", 19) == 0,
				  "the message names [twilio] public_url");
	}
	/* The trailing slash is gone after loading, so "https://h/" checks as "https://h". */
	write_file("[twilio]\npublic_url = https://h/\nvalidate = no\n", 46);
	CHECK(config_load(&c, path, err, sizeof(err)) == 0 && strcmp(c.public_url, "https://h") == 0);
	CHECK(config_check(&c, err, sizeof(err)) == 0);
	/* "https:///" loses its slashes and then has no host. */
	write_file("[twilio]\npublic_url = https:///\nvalidate = no\n", 46);
	CHECK(config_load(&c, path, err, sizeof(err)) == 0);
	CHECK(config_check(&c, err, sizeof(err)) == -1);
}

/* [agent] record: default no; each value; anything else refused with the line. */
/* [twilio] stream_url (ws:// or wss://, no query) and the [ws] tls_cert / tls_key pair. */
static void test_check_stream_tls(void)
{
	static const struct { const char *url; int ok; } urls[] = {
		{"wss://media.example.com:8443/ws/twilio-media", 1},
		{"ws://127.0.0.1:8081/ws/twilio-media", 1},
		{"wss://[::1]:8443/ws/twilio-media/", 1},
		{"https://media.example.com/ws/twilio-media", 0},
		{"wss://media.example.com/ws/twilio-media?x=1", 0},
		{"wss://media.example.com/ws/twilio-media#f", 0},
		{"wss://:8443/ws/twilio-media", 0},
		{"wss://h:99999/ws/twilio-media", 0},
		{"wssx://h/ws/twilio-media", 0},
		{"wss://u@h/ws/twilio-media", 0},
	};
	struct config c;
	char err[512], msg[160];
	size_t i;

	config_defaults(&c);
	c.validate = 0;
	CHECK(c.stream_url[0] == '\0' && c.tls_cert[0] == '\0' && c.tls_key[0] == '\0');
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		snprintf(c.stream_url, sizeof(c.stream_url), "%s", urls[i].url);
		snprintf(msg, sizeof(msg), "stream_url %s %s", urls[i].url,
			 urls[i].ok ? "accepted" : "refused");
		CHECK_MSG((config_check(&c, err, sizeof(err)) == 0) == urls[i].ok, msg);
		if (!urls[i].ok)
			CHECK_MSG(strncmp(err, "[twilio] stream_url \"", 21) == 0,
				  "the message names [twilio] stream_url");
	}
	c.stream_url[0] = '\0';
	snprintf(c.tls_cert, sizeof(c.tls_cert), "/etc/ssl/cert.pem");
	CHECK(config_check(&c, err, sizeof(err)) == -1);
	CHECK_STR(err, "[ws] tls_cert is set but tls_key is empty: give both (PEM certificate "
		  "chain and its private key) to serve wss://, or neither");
	snprintf(c.tls_key, sizeof(c.tls_key), "/etc/ssl/key.pem");
	CHECK(config_check(&c, err, sizeof(err)) == 0);
	c.tls_cert[0] = '\0';
	CHECK(config_check(&c, err, sizeof(err)) == -1);
	CHECK(strncmp(err, "[ws] tls_key is set but tls_cert is empty", 41) == 0);
	/* both are read from the file */
	write_file("[twilio]\nstream_url = wss://m.example.com:8443/ws/twilio-media\n"
		   "[ws]\ntls_cert = /c.pem\ntls_key = /k.pem\n", 103);
	CHECK(config_load(&c, path, err, sizeof(err)) == 0);
	CHECK_STR(c.stream_url, "wss://m.example.com:8443/ws/twilio-media");
	CHECK_STR(c.tls_cert, "/c.pem");
	CHECK_STR(c.tls_key, "/k.pem");
}

static void test_record(void)
{
	static const struct { const char *text, *name; int want; } ok[] = {
		{"[agent]\nrecord = no\n", "record = no", CONFIG_RECORD_NO},
		{"[agent]\nrecord = inbound\n", "record = inbound", CONFIG_RECORD_INBOUND},
		{"[agent]\nrecord = both\n", "record = both", CONFIG_RECORD_BOTH},
	};
	char err[512], want[600];
	struct config c;
	size_t i;

	memset(&c, 0x55, sizeof(c));
	config_defaults(&c);
	CHECK(c.record == CONFIG_RECORD_NO);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		write_file(ok[i].text, strlen(ok[i].text));
		c.record = -1;
		CHECK_MSG(config_load(&c, path, err, sizeof(err)) == 0 && c.record == ok[i].want,
			  ok[i].name);
	}
	write_file("[agent]\nrecord = yes\n", strlen("[agent]\nrecord = yes\n"));
	snprintf(want, sizeof(want), "%s:2: [agent] record: \"yes\" is not a recording choice "
		 "(no, inbound or both)", path);
	CHECK(config_load(&c, path, err, sizeof(err)) == -1);
	CHECK_STR(err, want);
}

static void test_path(void)
{
	unsetenv("CALLPIPE_CONF");
	CHECK(config_path(NULL) == NULL);
	CHECK_STR(config_path("/etc/x.conf"), "/etc/x.conf");
	setenv("CALLPIPE_CONF", "", 1);
	CHECK(config_path(NULL) == NULL);
	setenv("CALLPIPE_CONF", "/etc/callpipe.conf", 1);
	CHECK_STR(config_path(NULL), "/etc/callpipe.conf");
	CHECK_STR(config_path("/a.conf"), "/a.conf");   /* -c wins over the environment */
	unsetenv("CALLPIPE_CONF");
}

/* The templates directory: the site's /etc directory when it exists (and is a directory),
 * else the shipped one; [fcgi] templates, when set, wins over both. */
static void test_templates_precedence(void)
{
	char site[300], shipped[300], out[CONFIG_STR_MAX];
	struct config c;
	char err[512];
	static const char text[] = "[fcgi]\ntemplates = /srv/tmpl\n";
	static const char nokey[] = "[fcgi]\nthreads = 2\n";
	FILE *fp;

	snprintf(site, sizeof(site), "%s/site-templates", dir);
	snprintf(shipped, sizeof(shipped), "%s/shipped-templates", dir);
	config_default_templates(out, sizeof(out), site, shipped);
	CHECK_STR(out, shipped);                       /* no site directory */
	fp = fopen(site, "w");                         /* a file of that name is not one */
	if (fp)
		fclose(fp);
	config_default_templates(out, sizeof(out), site, shipped);
	CHECK_STR(out, shipped);
	unlink(site);
	CHECK(mkdir(site, 0755) == 0);
	config_default_templates(out, sizeof(out), site, shipped);
	CHECK_STR(out, site);                          /* the site directory wins */
	rmdir(site);
	/* a file without the key keeps the default; with it, the key wins */
	write_file(nokey, sizeof(nokey) - 1);
	CHECK(config_load(&c, path, err, sizeof(err)) == 0);
	config_default_templates(out, sizeof(out), CONFIG_SITE_TEMPLATES, CONFIG_SHIPPED_TEMPLATES);
	CHECK_STR(c.templates_dir, out);
	write_file(text, sizeof(text) - 1);
	CHECK(config_load(&c, path, err, sizeof(err)) == 0);
	CHECK_STR(c.templates_dir, "/srv/tmpl");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/callpipe.conf", dir);
	test_defaults();
	test_full_file();
	test_asr();
	test_booleans();
	test_bad_files();
	test_lengths();
	test_open_errors();
	test_check();
	test_check_stream_tls();
	test_record();
	test_path();
	test_templates_precedence();
	unlink(path);
	rmdir(dir);
	return check_done();
}
