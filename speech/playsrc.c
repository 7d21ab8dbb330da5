/* playsrc: <Play> sources: paths confined to [agent] media_dir (realpath + prefix check) and
 * http(s) URLs fetched with libcurl into a size-bounded cache named by SHA-256 of the URL. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "audiofile.h"
#include "config.h"
#include "playsrc.h"
#include "strutil.h"

/* Ten minutes of 8 kHz µ-law: the longest <Play> we decode. */
#define PLAY_MAX_OUT ((size_t)8000 * 600)
/* A URL longer than this is not one a TwiML app means (browsers cap near 2 KiB too). */
#define PLAY_URL_MAX 2048
#define PLAY_MAX_REDIRS 3L
#define PLAY_CONNECT_MAX_MS 3000L
/* Files the eviction looks at: a cache directory is flat and ours; past this, stop listing. */
#define PLAY_CACHE_MAX_FILES 100000
/* A temp file this old was left by a worker that died mid-fetch. */
#define PLAY_STALE_TMP_SECONDS 3600

/* SRC as it may appear in an error: at most 96 bytes, control characters and quotes replaced
 * (the text goes into the call log). */
static void show(const char *src, char *out, size_t cap)
{
	size_t i = 0, lim = cap - 1 < 96 ? cap - 1 : 96;

	for (; src[i] && i < lim; i++) {
		unsigned char c = (unsigned char)src[i];
		out[i] = (c < 0x20 || c == 0x7f || c == '"') ? '?' : (char)c;
	}
	if (src[i] && i >= 3)
		memcpy(out + i - 3, "...", 3);
	out[i] = '\0';
}

static int is_url(const char *src)
{
	return strncasecmp(src, "http://", 7) == 0 || strncasecmp(src, "https://", 8) == 0;
}

/* ".." as any component of the relative path P. */
static int has_dotdot(const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += n;
		while (*p == '/')
			p++;
	}
	return 0;
}

static int load_local(const struct config *cfg, const char *src, uint8_t **out, size_t *n,
		      char *err, size_t errlen)
{
	char shown[100], joined[PATH_MAX], base[PATH_MAX], full[PATH_MAX];
	struct stat st;
	size_t blen;

	show(src, shown, sizeof(shown));
	if (src[0] == '\0') {
		strutil_seterr(err, errlen, "empty <Play> source");
		return -1;
	}
	if (src[0] == '/' || has_dotdot(src))
		goto outside;
	if (!realpath(cfg->media_dir, base)) {
		strutil_seterr(err, errlen, "\"%s\": [agent] media_dir %s: %s", shown,
			       cfg->media_dir, strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", base, src) >= sizeof(joined)) {
		strutil_seterr(err, errlen, "\"%s\": path too long", shown);
		return -1;
	}
	/* realpath resolves every symlink, so a link inside media_dir pointing out of it
	 * ends up outside the prefix and is refused like "..". */
	if (!realpath(joined, full)) {
		strutil_seterr(err, errlen, "\"%s\": %s", shown, strerror(errno));
		return -1;
	}
	blen = strlen(base);
	if (!(blen == 1 && base[0] == '/') &&
	    (strncmp(full, base, blen) != 0 || full[blen] != '/'))
		goto outside;
	if (stat(full, &st) < 0 || !S_ISREG(st.st_mode)) {
		strutil_seterr(err, errlen, "\"%s\": not a regular file", shown);
		return -1;
	}
	return audiofile_decode_path(full, PLAY_MAX_OUT, out, n, err, errlen);
outside:
	strutil_seterr(err, errlen, "\"%s\" is outside [agent] media_dir", shown);
	return -1;
}

/* mkdir -p DIR, each directory made 0750. */
static int make_dir(const char *dir, char *err, size_t errlen)
{
	char p[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(p)) {
		strutil_seterr(err, errlen, "[agent] play_cache_dir is empty or too long");
		return -1;
	}
	memcpy(p, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		if (mkdir(p, 0750) == 0) {
			if (chmod(p, 0750) < 0) {   /* exactly 0750, whatever the umask */
				strutil_seterr(err, errlen, "chmod %s: %s", p, strerror(errno));
				return -1;
			}
		} else if (errno != EEXIST) {
			strutil_seterr(err, errlen, "mkdir %s: %s", p, strerror(errno));
			return -1;
		}
		p[i] = c;
	}
	return 0;
}

static int url_hex(const char *url, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(url, strlen(url), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -1;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

struct fetch {
	CURL *curl;
	int fd;
	size_t max;
	size_t got;
	long status;
	int over;
	int write_errno;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nmemb, done = 0;

	if (f->status == 0)
		curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &f->status);
	if (f->status < 200 || f->status >= 300)
		return 0;
	if (n > f->max - f->got) {
		f->over = 1;
		return 0;
	}
	while (done < n) {
		ssize_t w = write(f->fd, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			f->write_errno = w < 0 ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	f->got += n;
	return n;
}

/* GET URL into the open file FD. 0, or -1 with err filled ("HTTP 404", "over N bytes"). */
static int fetch_url(const struct config *cfg, const char *url, const char *shown, int fd,
		     char *err, size_t errlen)
{
	struct fetch f = {.fd = fd, .max = cfg->play_max_bytes};
	char cerr[CURL_ERROR_SIZE] = "";
	long timeout = cfg->tts_timeout_ms;
	long connect = timeout < PLAY_CONNECT_MAX_MS ? timeout : PLAY_CONNECT_MAX_MS;
	CURLcode rc;

	f.curl = curl_easy_init();
	if (!f.curl) {
		strutil_seterr(err, errlen, "\"%s\": out of memory", shown);
		return -1;
	}
	CURL *c = f.curl;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, PLAY_MAX_REDIRS);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->play_max_bytes);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "callpipe-ws");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
	rc = curl_easy_perform(c);
	if (f.status == 0)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f.status);
	curl_easy_cleanup(c);

	if (f.over || rc == CURLE_FILESIZE_EXCEEDED) {
		strutil_seterr(err, errlen, "\"%s\": over %zu bytes", shown, cfg->play_max_bytes);
		return -1;
	}
	if (f.write_errno) {
		strutil_seterr(err, errlen, "\"%s\": writing to [agent] play_cache_dir: %s", shown,
			       strerror(f.write_errno));
		return -1;
	}
	if (f.status != 0 && (f.status < 200 || f.status >= 300) &&
	    (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)) {
		strutil_seterr(err, errlen, "\"%s\": HTTP %ld", shown, f.status);
		return -1;
	}
	if (rc != CURLE_OK) {
		strutil_seterr(err, errlen, "\"%s\": %s%s%s", shown, curl_easy_strerror(rc),
			       cerr[0] ? ": " : "", cerr);
		return -1;
	}
	if (f.status < 200 || f.status >= 300) {
		strutil_seterr(err, errlen, "\"%s\": HTTP %ld", shown, f.status);
		return -1;
	}
	return 0;
}

struct cache_ent {
	char name[72];
	off_t size;
	struct timespec mtime;
};

static int by_mtime(const void *a, const void *b)
{
	const struct cache_ent *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Remove the least recently modified cache files until the directory holds at most LIMIT
 * bytes; temp files of fetches that died long ago go too. Best effort: another worker may
 * be evicting at the same time, so a file already gone is not an error. */
static void evict(const char *dir, size_t limit)
{
	DIR *d = opendir(dir);
	struct cache_ent *ents = NULL;
	size_t n = 0, cap = 0;
	unsigned long long total = 0;
	struct dirent *de;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((de = readdir(d)) && n < PLAY_CACHE_MAX_FILES) {
		struct stat st;
		size_t len = strlen(de->d_name);

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (de->d_name[0] == '.') {
			if (now - st.st_mtime > PLAY_STALE_TMP_SECONDS)
				unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (len >= sizeof(ents[0].name))
			continue;   /* not a name we made */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct cache_ent *ne = realloc(ents, ncap * sizeof(*ne));
			if (!ne)
				break;
			ents = ne;
			cap = ncap;
		}
		memcpy(ents[n].name, de->d_name, len + 1);
		ents[n].size = st.st_size;
		ents[n].mtime = st.st_mtim;
		total += (unsigned long long)st.st_size;
		n++;
	}
	if (total > limit) {
		qsort(ents, n, sizeof(*ents), by_mtime);
		for (size_t i = 0; i < n && total > limit; i++) {
			unlinkat(dirfd(d), ents[i].name, 0);
			total -= (unsigned long long)ents[i].size;
		}
	}
	free(ents);
	closedir(d);
}

static int load_url(const struct config *cfg, const char *url, uint8_t **out, size_t *n,
		    int *cached, char *err, size_t errlen)
{
	char shown[100], hex[65], path[PATH_MAX], tmp[PATH_MAX], derr[256];
	const char *dir = cfg->play_cache_dir;
	struct stat st;
	int fd, r;

	show(url, shown, sizeof(shown));
	if (strlen(url) > PLAY_URL_MAX) {
		strutil_seterr(err, errlen, "\"%s\": URL longer than %d bytes", shown, PLAY_URL_MAX);
		return -1;
	}
	if (url_hex(url, hex) < 0) {
		strutil_seterr(err, errlen, "\"%s\": SHA-256 failed", shown);
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, hex) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, hex) >= sizeof(tmp)) {
		strutil_seterr(err, errlen, "[agent] play_cache_dir is too long");
		return -1;
	}
	if (make_dir(dir, err, errlen) < 0)
		return -1;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		if (audiofile_decode_path(path, PLAY_MAX_OUT, out, n, derr, sizeof(derr)) == 0) {
			utimensat(AT_FDCWD, path, NULL, 0);   /* recently used: evicted last */
			if (cached)
				*cached = 1;
			return 0;
		}
		/* Evicted under us, or damaged: fetch it again. */
		unlink(path);
	}

	fd = mkstemp(tmp);
	if (fd < 0) {
		strutil_seterr(err, errlen, "\"%s\": creating a file in %s: %s", shown, dir,
			       strerror(errno));
		return -1;
	}
	fchmod(fd, 0640);
	r = fetch_url(cfg, url, shown, fd, err, errlen);
	if (close(fd) < 0 && r == 0) {
		strutil_seterr(err, errlen, "\"%s\": writing to %s: %s", shown, dir, strerror(errno));
		r = -1;
	}
	/* Decode before it enters the cache: only a file that plays is kept. */
	if (r == 0 && audiofile_decode_path(tmp, PLAY_MAX_OUT, out, n, derr, sizeof(derr)) < 0) {
		strutil_seterr(err, errlen, "\"%s\": %s", shown, derr);
		r = -1;
	}
	if (r < 0) {
		unlink(tmp);
		return -1;
	}
	/* rename() is atomic: other workers see the whole file or none. */
	if (rename(tmp, path) < 0)
		unlink(tmp);   /* still played; just not cached */
	evict(dir, cfg->play_cache_bytes);
	return 0;
}

int playsrc_load(const struct config *cfg, const char *src, uint8_t **out, size_t *n,
		 int *cached, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	if (cached)
		*cached = 0;
	if (!src) {
		strutil_seterr(err, errlen, "empty <Play> source");
		return -1;
	}
	if (is_url(src))
		return load_url(cfg, src, out, n, cached, err, errlen);
	if (strstr(src, "://")) {   /* file://, ftp://…: a scheme we do not fetch */
		char shown[100];
		show(src, shown, sizeof(shown));
		strutil_seterr(err, errlen, "\"%s\": only http:// and https:// URLs are fetched",
			       shown);
		return -1;
	}
	return load_local(cfg, src, out, n, err, errlen);
}
