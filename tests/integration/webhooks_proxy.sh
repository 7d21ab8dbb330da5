# webhooks_proxy: the webhook routes through Apache + mod_proxy_fcgi to callpipe-fcgi --listen.
# The checks themselves live in webhooks.inc, shared by the three front ends.
VARIANT=proxy
source "$(dirname "$0")/webhooks.inc"
