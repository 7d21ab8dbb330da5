# webhooks_lighttpd: the webhook routes through lighttpd + mod_fastcgi (lighttpd-conf/callpipe.conf).
# The checks themselves live in webhooks.inc, shared by the front ends.
VARIANT=lighttpd
source "$(dirname "$0")/webhooks.inc"
