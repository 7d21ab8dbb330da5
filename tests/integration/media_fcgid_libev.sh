# media_fcgid_libev: the media checks of media.inc through Apache (mod_fcgid), with callpipe-ws
# on its libev (epoll) event loop ([ws] event_loop = libev) instead of lws's poll() loop.
VARIANT=fcgid
EVENT_LOOP=libev
source "$(dirname "$0")/media.inc"
