/* fcgi_io: the libfcgi glue: a FastCGI request (or a CGI run's environment and stdin) into
 * struct request, the body read within [fcgi] max_body, and struct response back out. */
#ifndef CALLPIPE_FCGI_IO_H
#define CALLPIPE_FCGI_IO_H

#include <fcgiapp.h>

#include "config.h"

/* Serve one request FCGX_Accept_r accepted: read it, route it, write the answer and flush
 * it. The caller still calls FCGX_Finish_r. 0, or -1 when the answer could not be
 * written (the web server went away; nothing to do but carry on). */
int fcgi_io_serve(const struct config *cfg, FCGX_Request *fr);

/* Serve the one request of a plain CGI run (RFC 3875): the environment, exactly
 * CONTENT_LENGTH bytes of stdin, the answer on stdout. 0, or -1 when stdout failed. */
int fcgi_io_serve_cgi(const struct config *cfg);

#endif
