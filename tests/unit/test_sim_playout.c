/* test_sim_playout: callpipe-sim's emulation of Twilio's outbound buffer: real-time play-out
 * in 160-byte ticks, marks returned when their audio has played, clear flushing and returning. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../tools/sim/playout.h"

static void fill(uint8_t *b, size_t n, uint8_t start)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(start + i);
}

static void test_play_in_order(void)
{
	struct sim_playout *po = sim_playout_new(0);
	uint8_t in[400], out[SIM_FRAME_BYTES];

	fill(in, sizeof(in), 0);
	CHECK(sim_playout_media(po, in, sizeof(in)) == 0);
	CHECK(sim_playout_buffered(po) == 400);
	CHECK(sim_playout_tick(po, out) == 160);
	CHECK(memcmp(out, in, 160) == 0);
	CHECK(sim_playout_tick(po, out) == 160);
	CHECK(memcmp(out, in + 160, 160) == 0);
	/* The last 80 bytes, then µ-law silence (0xFF) for the rest of the 20 ms. */
	CHECK(sim_playout_tick(po, out) == 80);
	CHECK(memcmp(out, in + 320, 80) == 0);
	CHECK(out[80] == 0xFF && out[159] == 0xFF);
	CHECK(sim_playout_tick(po, out) == 0);
	CHECK(out[0] == 0xFF);
	CHECK(sim_playout_buffered(po) == 0);
	sim_playout_free(po);
}

static void test_mark_at_once_when_empty(void)
{
	struct sim_playout *po = sim_playout_new(0);
	char name[64];

	/* docs/PROTOCOL.md §4.6: a mark comes back at once if nothing is buffered. */
	CHECK(sim_playout_mark(po, "m0") == 0);
	CHECK(sim_playout_returned_marks(po) == 1);
	CHECK(sim_playout_pending_marks(po) == 0);
	CHECK(sim_playout_next_mark(po, name, sizeof(name)) == 1);
	CHECK_STR(name, "m0");
	CHECK(sim_playout_next_mark(po, name, sizeof(name)) == 0);
	sim_playout_free(po);
}

static void test_mark_after_its_audio(void)
{
	struct sim_playout *po = sim_playout_new(0);
	uint8_t in[320], out[SIM_FRAME_BYTES];
	char name[64];

	fill(in, sizeof(in), 7);
	sim_playout_media(po, in, 320);        /* two frames, then a mark */
	CHECK(sim_playout_mark(po, "after-2") == 0);
	sim_playout_media(po, in, 160);        /* a third frame, then another mark */
	CHECK(sim_playout_mark(po, "after-3") == 0);
	CHECK(sim_playout_pending_marks(po) == 2);
	CHECK(sim_playout_next_mark(po, name, sizeof(name)) == 0);
	sim_playout_tick(po, out);
	CHECK_MSG(sim_playout_returned_marks(po) == 0, "not back after one of two frames");
	sim_playout_tick(po, out);
	CHECK_MSG(sim_playout_returned_marks(po) == 1, "back once its two frames played");
	CHECK(sim_playout_next_mark(po, name, sizeof(name)) == 1);
	CHECK_STR(name, "after-2");
	CHECK(sim_playout_pending_marks(po) == 1);
	sim_playout_tick(po, out);
	CHECK(sim_playout_next_mark(po, name, sizeof(name)) == 1);
	CHECK_STR(name, "after-3");
	sim_playout_free(po);
}

static void test_clear_returns_pending(void)
{
	struct sim_playout *po = sim_playout_new(0);
	uint8_t in[1600], out[SIM_FRAME_BYTES];
	char name[64];

	fill(in, sizeof(in), 1);
	sim_playout_media(po, in, 800);
	sim_playout_mark(po, "a");
	sim_playout_media(po, in, 800);
	sim_playout_mark(po, "b");
	sim_playout_tick(po, out);
	CHECK(sim_playout_pending_marks(po) == 2);
	/* clear empties the buffer and every pending mark comes back, in order. */
	CHECK(sim_playout_clear(po) == 1600 - 160);
	CHECK(sim_playout_buffered(po) == 0);
	CHECK(sim_playout_pending_marks(po) == 0);
	CHECK(sim_playout_returned_marks(po) == 2);
	CHECK(sim_playout_next_mark(po, name, sizeof(name)) == 1);
	CHECK_STR(name, "a");
	CHECK(sim_playout_next_mark(po, name, sizeof(name)) == 1);
	CHECK_STR(name, "b");
	CHECK(sim_playout_tick(po, out) == 0);
	/* Audio after a clear plays normally and later marks wait for it. */
	sim_playout_media(po, in, 160);
	sim_playout_mark(po, "c");
	CHECK(sim_playout_returned_marks(po) == 0);
	CHECK(sim_playout_tick(po, out) == 160);
	CHECK(memcmp(out, in, 160) == 0);
	CHECK(sim_playout_returned_marks(po) == 1);
	CHECK(sim_playout_clear(po) == 0);
	sim_playout_free(po);
}

static void test_limit_31931(void)
{
	struct sim_playout *po = sim_playout_new(1000);
	uint8_t in[600], out[SIM_FRAME_BYTES];

	memset(in, 0x55, sizeof(in));
	CHECK(sim_playout_media(po, in, 600) == 0);
	/* Past the limit: the excess is dropped and the caller is told (Twilio's 31931). */
	CHECK(sim_playout_media(po, in, 600) == -1);
	CHECK(sim_playout_buffered(po) == 1000);
	sim_playout_tick(po, out);
	CHECK(sim_playout_media(po, in, 160) == 0);
	CHECK(sim_playout_buffered(po) == 1000);
	sim_playout_free(po);
	po = sim_playout_new(0);
	CHECK_MSG(po != NULL, "default limit is 10 minutes");
	sim_playout_free(po);
	CHECK(SIM_PLAYOUT_MAX_BYTES == 600u * 8000);
}

/* A long random run against a simple reference: bytes come out in order, whatever the
 * ring's wrap-arounds and growth, and marks never return before their audio. */
static void test_random_against_reference(void)
{
	struct sim_playout *po = sim_playout_new(50000);
	uint8_t *ref = malloc(1 << 22), in[700], out[SIM_FRAME_BYTES];
	size_t head = 0, tail = 0, i, k, bad = 0, marks_bad = 0;
	uint32_t r = 1;
	uint8_t v = 0;

	for (i = 0; i < 20000 && ref; i++) {
		r = r * 1103515245u + 12345u;
		switch ((r >> 16) % 4) {
		case 0:
		case 1: {
			size_t n = 1 + (r >> 8) % sizeof(in);

			if (tail - head + n > 50000)
				break;
			for (k = 0; k < n; k++)
				in[k] = v++;
			sim_playout_media(po, in, n);
			memcpy(ref + tail, in, n);
			tail += n;
			break;
		}
		case 2: {
			size_t n = sim_playout_tick(po, out), want = tail - head < 160 ? tail - head : 160;

			if (n != want || memcmp(out, ref + head, n) != 0)
				bad++;
			head += n;
			break;
		}
		default:
			if ((r >> 20) % 16 == 0) {
				sim_playout_clear(po);
				head = tail;
			} else {
				sim_playout_mark(po, "x");
				if (tail == head && sim_playout_returned_marks(po) == 0)
					marks_bad++;
			}
		}
		if (tail > (1 << 22) - 1000) {
			memmove(ref, ref + head, tail - head);
			tail -= head;
			head = 0;
		}
		while (sim_playout_next_mark(po, NULL, 0))
			;
		if (sim_playout_buffered(po) != tail - head)
			bad++;
	}
	CHECK_MSG(ref && bad == 0, "20000 random operations match the reference buffer");
	CHECK_MSG(marks_bad == 0, "marks queued on an empty buffer return at once");
	free(ref);
	sim_playout_free(po);
}

int main(void)
{
	test_play_in_order();
	test_mark_at_once_when_empty();
	test_mark_after_its_audio();
	test_clear_returns_pending();
	test_limit_31931();
	test_random_against_reference();
	return check_done();
}
