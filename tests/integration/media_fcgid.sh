# media_fcgid: callpipe-ws through make run's Apache (apache-conf/callpipe.conf, mod_fcgid), driven by callpipe-sim.
# The checks themselves live in media.inc, shared by both front ends.
VARIANT=fcgid
source "$(dirname "$0")/media.inc"
