/* check: `callpipe-fcgi --check`: the config, and every template rendered with sample
 * values and parsed as XML, problems printed as "file:line: message". */
#ifndef CALLPIPE_FCGI_CHECK_H
#define CALLPIPE_FCGI_CHECK_H

/* Check the config at PATH (NULL: the defaults) and the templates it names. Problems go
 * to stderr as "file:line: message", the one-line OK summary to stdout. Returns the exit
 * status: 0 when all is well, 1 when anything is wrong. */
int fcgi_check_run(const char *path);

#endif
