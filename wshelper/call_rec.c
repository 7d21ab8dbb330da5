/* call_rec: [agent] record at the call level, for every mode: the recorders of a call's two
 * sides made at start, fed from the inbound hook and the writes, closed at teardown. */
#include "call.h"

#include "call_int.h"
#include "config.h"
#include "logq.h"
#include "recorder.h"

void call_rec_start(struct call *c)
{
	int what = c->env->cfg->record;
	struct recorder_log log = { NULL, logq_write };
	int64_t t0 = call_now_us(c->env);

	if (what == CONFIG_RECORD_NO || !c->started)
		return;
	/* the call's log handle (made by its first line, ws_start) carries the recording lines,
	 * written by the recorder's thread through logq_write: queued for logq's thread, which
	 * main.c starts first (were it not running, logq_write would write from the recorder's
	 * thread while the loop writes the same handle) */
	log.log = c->log;
	c->rec_in = recorder_new(c->env->cfg->log_dir, c->call_sid, "in", t0, &log);
	if (what == CONFIG_RECORD_BOTH)
		c->rec_out = recorder_new(c->env->cfg->log_dir, c->call_sid, "out", t0, &log);
}

void call_rec_media(struct call *c, const uint8_t *ulaw, size_t n)
{
	if (c->rec_in)
		recorder_in(c->rec_in, ulaw, n);
	/* inbound frames come every 20 ms: the tick that moves played audio to the file */
	if (c->rec_out)
		recorder_out_tick(c->rec_out, call_now_us(c->env));
}

/* Both files end at the same sample (the longer side's), so they mix and play side by
 * side; the writer closes them and logs their `recording` lines. */
void call_rec_close(struct call *c)
{
	int64_t t = call_now_us(c->env);
	uint64_t n = 0;

	if (c->rec_out) {
		recorder_out_tick(c->rec_out, t);
		n = recorder_samples(c->rec_out);
	}
	if (c->rec_in && recorder_samples(c->rec_in) > n)
		n = recorder_samples(c->rec_in);
	if (c->rec_in)
		recorder_close(c->rec_in, t, n);
	if (c->rec_out)
		recorder_close(c->rec_out, t, n);
	c->rec_in = c->rec_out = NULL;
}
