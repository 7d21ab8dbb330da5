# badinput_unix: the bad-input matrix through the shipped default front end, Apache +
# mod_proxy_fcgi to a socket-activated callpipe-fcgi on a unix socket (apache-conf/callpipe.conf).
# The cases themselves live in badinput.inc, shared with badinput_fcgid.sh and badinput_lighttpd.sh.
VARIANT=unix
source "$(dirname "$0")/badinput.inc"
