# webhooks_fcgid: the webhook routes through Apache + mod_fcgid (apache-conf/callpipe.conf with CALLPIPE_FCGID).
# The checks themselves live in webhooks.inc, shared by the front ends.
VARIANT=fcgid
source "$(dirname "$0")/webhooks.inc"
