# agent_lighttpd: one agent call through lighttpd (the shipped lighttpd-conf/ file): the
# greeting, keys 42#, and the reply heard by a recognizer that is not our code; then the
# caller says "go forward ten meters" (pocketsphinx-testdata) to the shipped phrase menu.
VARIANT=lighttpd
source "$(dirname "$0")/agent.inc"

stack_start "$VARIANT" MODE=agent AUTH_TOKEN=$TOKEN || { finish; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT
SID=CA$(hex32); REC=$RUN_DIR/heard-$SID.wav
out=$(agent_call --call-sid "$SID" --dtmf 42# --record "$REC")
expect_eq "lighttpd: agent call with --dtmf 42#: PASS" "$(jget "$out" .outcome)" pass
expect_eq "lighttpd: greeting and reply both had sound" "$(jget "$out" '[.agent.utterances[] | .sound] | @text')" "[true,true]"
expect_match "lighttpd: pocketsphinx hears \"you pressed four two\"" "$(heard "$REC")" "you pressed four two"
expect_match "lighttpd: the turns were signed and checked by callpipe-fcgi" "$(call_log "$SID")" " fcgi turn index=1 event=dtmf digits=42 .*sig=ok"

SID=CA$(hex32); REC=$RUN_DIR/heard-$SID.wav
out=$(agent_call --call-sid "$SID" --say /usr/share/pocketsphinx/test/data/goforward.raw --record "$REC" --max-seconds 25)
expect_eq "lighttpd: speech to the shipped menu: PASS" "$(jget "$out" .outcome)" pass
expect_match "lighttpd: \"go forward ten meters\" recognized" "$(call_log "$SID")" ' ws asr .* text="go forward ten meters"'
expect_match "lighttpd: pocketsphinx hears \"you said go forward ten meters\"" \
	"$(GRAMMAR=$ROOT/tests/integration/data/agent_speech.gram heard "$REC" "$(jget "$out" '.agent.says[0].reply_start_ms / 1000')")" \
	"you said go forward ten meters"
finish
