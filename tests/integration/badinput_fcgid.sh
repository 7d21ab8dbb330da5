# badinput_fcgid: the bad-input matrix through Apache + mod_fcgid (apache-conf/callpipe.conf).
# The cases themselves live in badinput.inc, shared with badinput_lighttpd.sh.
VARIANT=fcgid
source "$(dirname "$0")/badinput.inc"
