# badinput_lighttpd: the bad-input matrix through lighttpd + mod_fastcgi (lighttpd-conf/callpipe.conf).
# The cases themselves live in badinput.inc, shared with badinput_fcgid.sh.
VARIANT=lighttpd
source "$(dirname "$0")/badinput.inc"
