# media_lighttpd: callpipe-ws through lighttpd (lighttpd-conf/callpipe.conf), driven by callpipe-sim.
# The checks themselves live in media.inc, shared by both front ends.
VARIANT=lighttpd
source "$(dirname "$0")/media.inc"
