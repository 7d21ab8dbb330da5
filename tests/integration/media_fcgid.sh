# media_fcgid: callpipe-ws through Apache (apache-conf/callpipe.conf with CALLPIPE_FCGID: mod_fcgid), driven by callpipe-sim.
# The checks themselves live in media.inc, shared by the front ends.
VARIANT=fcgid
source "$(dirname "$0")/media.inc"
