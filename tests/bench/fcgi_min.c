/* fcgi_min: the least a FastCGI responder can do (read the request, answer a fixed TwiML), for
 * scripts/bench to put behind the same mod_proxy_fcgi as callpipe-fcgi. Built by the bench only. */
#include <stdlib.h>

#include <fcgiapp.h>

static const char twiml[] =
	"Status: 200 OK\r\nContent-Type: text/xml\r\n\r\n"
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Connect>"
	"<Stream url=\"wss://voice.example.test/ws/twilio-media\"/></Connect></Response>\n";

int main(void)
{
	FCGX_Request req;
	char buf[4096];
	/* Socket activation (systemd-socket-activate, as scripts/stack starts it): descriptor
	 * 3; else the web server's socket on stdin. */
	int fd = getenv("LISTEN_FDS") ? 3 : 0;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, fd, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		/* The body, as a real handler reads it (and as the web server expects). */
		while (FCGX_GetStr(buf, sizeof(buf), req.in) > 0)
			;
		FCGX_PutStr(twiml, (int)sizeof(twiml) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
