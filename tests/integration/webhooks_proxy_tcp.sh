# webhooks_proxy_tcp: the webhook routes through Apache + mod_proxy_fcgi over TCP to
# `callpipe-fcgi --listen` (CALLPIPE_FCGI_PROXY). The checks live in webhooks.inc.
VARIANT=proxy
source "$(dirname "$0")/webhooks.inc"
