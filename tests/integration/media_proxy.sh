# media_proxy: callpipe-ws through make run's Apache with the shipped default front end
# (mod_proxy_fcgi to a socket-activated callpipe-fcgi on a unix socket), driven by callpipe-sim.
# The checks themselves live in media.inc, shared by the front ends.
VARIANT=unix
source "$(dirname "$0")/media.inc"
