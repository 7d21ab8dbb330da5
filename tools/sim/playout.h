/* playout: Twilio's outbound audio buffer for one stream: media appended, played 160 bytes
 * per 20 ms tick; marks return once the audio before them has played; clear flushes all. */
#ifndef CALLPIPE_SIM_PLAYOUT_H
#define CALLPIPE_SIM_PLAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* 20 ms of 8 kHz µ-law (docs/PROTOCOL.md §6). */
#define SIM_FRAME_BYTES 160
#define SIM_FRAME_US 20000
/* More than 10 minutes buffered is Twilio error 31931: 600 s * 8000 bytes/s. */
#define SIM_PLAYOUT_MAX_BYTES (600u * 8000)
/* Pending marks are our memory, not Twilio's (it documents no limit): one per 20 ms frame
 * of the 10 minutes the buffer can hold is more than any sane server sends. */
#define SIM_PLAYOUT_MAX_MARKS 30000
/* Mark names longer than this are kept cut (Twilio documents no limit). */
#define SIM_MARK_NAME_MAX 256

struct sim_playout;

/* A buffer that holds at most MAX_BYTES (0: SIM_PLAYOUT_MAX_BYTES); it starts empty and
 * grows as audio arrives, so idle calls cost little. NULL when out of memory. */
struct sim_playout *sim_playout_new(size_t max_bytes);
void sim_playout_free(struct sim_playout *po);

/* Append LEN bytes of µ-law. Returns 0, or -1 when the buffer would pass its limit (the
 * excess is dropped: Twilio's 31931) or memory ran out. */
int sim_playout_media(struct sim_playout *po, const uint8_t *data, size_t len);

/* Queue a mark after the audio buffered now; with nothing buffered it returns at once.
 * -1 when SIM_PLAYOUT_MAX_MARKS are pending (the mark is dropped). */
int sim_playout_mark(struct sim_playout *po, const char *name);

/* Empty the buffer; every pending mark becomes returned (in order). Returns how many bytes
 * were flushed. */
size_t sim_playout_clear(struct sim_playout *po);

/* Play one 20 ms tick: up to 160 bytes leave the buffer into OUT (the rest of OUT is µ-law
 * silence, 0xFF); marks whose audio has now played become returned. Returns the number of
 * buffered bytes played (0 when the buffer was empty). */
size_t sim_playout_tick(struct sim_playout *po, uint8_t out[SIM_FRAME_BYTES]);

/* Take the oldest returned mark's name into NAME (CAP bytes); 1 when there was one, 0 when
 * none is waiting. */
int sim_playout_next_mark(struct sim_playout *po, char *name, size_t cap);

size_t sim_playout_buffered(const struct sim_playout *po);   /* bytes not yet played */
size_t sim_playout_pending_marks(const struct sim_playout *po); /* queued, not yet played */
size_t sim_playout_returned_marks(const struct sim_playout *po); /* ready to send back */

#endif
