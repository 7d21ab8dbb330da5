# webhooks_proxy: the webhook routes through the shipped default front end: Apache +
# mod_proxy_fcgi to callpipe-fcgi on a unix socket, socket-activated (scripts/stack VARIANT=unix).
# The checks themselves live in webhooks.inc, shared by the front ends; webhooks_proxy_tcp.sh
# runs them through mod_proxy_fcgi over TCP to callpipe-fcgi --listen.
VARIANT=unix
source "$(dirname "$0")/webhooks.inc"
