/* recorder: a call's recordings (<CallSid>.in.wav, <CallSid>.out.wav), 8 kHz µ-law WAV via
 * libsndfile, written by one writer thread from a bounded queue so the event loop never waits.
 *
 * Loop side: one struct recorder per side of a call, used by one thread (the loop). Bytes are
 * placed at a position in samples from the stream's start; a gap becomes silence, so the two
 * files of a call stay time-aligned even when the queue drops a chunk or the agent is silent.
 *
 * The outbound side follows a play-cursor model of Twilio's buffer: a frame written to the
 * socket at time T starts playing at max(cursor, T) and moves the cursor on by its length.
 * Frames are held until their play time has come (only then has the caller heard them); a
 * clear written at T drops the held samples whose time is after T (Twilio flushes them too),
 * and the stream's end drops those not yet played. Frames call_flush_media() drops from our
 * own queue never reach the socket and so never reach the file. */
#ifndef CALLPIPE_RECORDER_H
#define CALLPIPE_RECORDER_H

#include <stddef.h>
#include <stdint.h>

struct calllog_file;

#define RECORDER_RATE 8000
/* The writer's queue, all calls together: past it a chunk is dropped (silence in the file,
 * counted). 16 MiB is about a second of both sides of 1000 calls: it fills only when the
 * disk stalls. */
#define RECORDER_QUEUE_BYTES (16u * 1024 * 1024)
/* Bytes gathered per side before a chunk is queued (0.5 s): 2 writer wake-ups a second per
 * side instead of 50. */
#define RECORDER_CHUNK 4000
/* At most this much outbound audio is held waiting for its play time (60 s, [agent]
 * lead_ms's maximum); past it the oldest is taken as played. */
#define RECORDER_HOLD_MAX (60 * RECORDER_RATE)

/* Start the writer thread (signals blocked in it). 0 or -1. Without it recorder_new()
 * returns NULL: recordings are off. */
int recorder_start(void);
/* Write everything queued (closing every file and logging its line), stop the thread. */
void recorder_stop(void);
/* Chunks dropped because the queue was full, since the start. */
unsigned long long recorder_dropped(void);

/* Where the writer's call-log lines go: LOG gets a reference (released after the last line);
 * LINE writes a formatted line (logq_write in callpipe-ws: thread-safe, queued); NULL means
 * calllog_file_write from the writer thread. */
struct recorder_log {
	struct calllog_file *log;
	void (*line)(struct calllog_file *f, const char *line, size_t len);
};

struct recorder;
/* Record SIDE ("in" or "out") of call CALLSID into DIR/CALLSID.SIDE.wav. Nothing touches
 * the file system here: the writer creates the file (0640, O_EXCL|O_NOFOLLOW: an existing
 * file or a symlink is never written) at its first chunk. T0_US is the stream's start on
 * the clock the times below use. NULL when the writer is not running or memory is short. */
struct recorder *recorder_new(const char *dir, const char *callsid, const char *side,
			      int64_t t0_us, const struct recorder_log *log);
/* Inbound: N bytes of µ-law, right after what came before. */
void recorder_in(struct recorder *r, const uint8_t *ulaw, size_t n);
/* Outbound: N bytes of µ-law written to the socket at NOW_US (held until played). */
void recorder_out_written(struct recorder *r, int64_t now_us, const uint8_t *ulaw, size_t n);
/* Outbound: a clear written at NOW_US: held samples not yet played are dropped. */
void recorder_out_clear(struct recorder *r, int64_t now_us);
/* Outbound: commit what has played by NOW_US (called on every inbound frame). */
void recorder_out_tick(struct recorder *r, int64_t now_us);
/* The side's length so far, in samples (for padding the other side at the end). */
uint64_t recorder_samples(const struct recorder *r);
/* End of the stream at NOW_US: unplayed held audio dropped, the file padded with silence to
 * PAD_TO samples or the side's own length (dropped chunks included), then closed by the
 * writer, which logs
 *   recording side=in file=… seconds=… bytes=… status=ok|stopped [reason=…] [dropped_ms=…]
 * R is the writer's from here on. */
void recorder_close(struct recorder *r, int64_t now_us, uint64_t pad_to);

#endif
