/* test_sim_report: load threads' totals merged into one report: counters summed, histograms
 * merged, errors combined by code with the first message kept, call 0's facts from thread 0. */
#include <string.h>

#include "check.h"
#include "../../tools/sim/report.h"

static void test_merge(void)
{
	struct sim_totals a, b, all;

	sim_totals_init(&a);
	sim_totals_init(&b);
	sim_totals_init(&all);
	a.calls = 3; a.connected = 3; a.completed = 2; a.frames_sent = 300; a.frames_lost = 1;
	a.max_concurrent = 3; a.http_status = 101; a.closed_by = SIM_CLOSED_CLIENT;
	a.first_echo_ms = 4.5;
	snprintf(a.subprotocol, sizeof(a.subprotocol), "audio.twilio.com");
	sim_hist_add(a.latency, 1000);
	sim_hist_add(a.tick_lag, 100);
	sim_totals_error(&a, 31920, "first of thread 0");
	b.calls = 2; b.connected = 1; b.completed = 1; b.frames_sent = 100; b.out_of_order = 2;
	b.max_concurrent = 2; b.handshake_failures = 1; b.http_status = 403;
	b.closed_by = SIM_CLOSED_SERVER; b.first_echo_ms = 2.0;
	snprintf(b.handshake_error, sizeof(b.handshake_error), "HTTP 403");
	sim_hist_add(b.latency, 3000);
	sim_hist_add(b.latency, 5000);
	sim_hist_add(b.due_latency, 7000);
	sim_totals_error(&b, 31920, "first of thread 1");
	sim_totals_error(&b, 31951, "bad message");

	sim_totals_merge(&all, &a);
	sim_totals_merge(&all, &b);
	CHECK(all.calls == 5 && all.connected == 4 && all.completed == 3);
	CHECK(all.frames_sent == 400 && all.frames_lost == 1 && all.out_of_order == 2);
	CHECK(all.handshake_failures == 1 && all.max_concurrent == 5);
	CHECK(sim_hist_count(all.latency) == 3 && sim_hist_max(all.latency) == 5000);
	CHECK(sim_hist_count(all.tick_lag) == 1 && sim_hist_count(all.due_latency) == 1);
	/* the first thread's call 0 stands; a failure message comes from whoever had one */
	CHECK(all.http_status == 101 && all.closed_by == SIM_CLOSED_CLIENT);
	CHECK_STR(all.subprotocol, "audio.twilio.com");
	CHECK_STR(all.handshake_error, "HTTP 403");
	CHECK(all.first_echo_ms == 2.0);
	/* errors by code: counts added, the first message kept */
	CHECK(all.nerrors == 2);
	CHECK(all.errors[0].code == 31920 && all.errors[0].count == 2);
	CHECK_STR(all.errors[0].first, "first of thread 0");
	CHECK(all.errors[1].code == 31951 && all.errors[1].count == 1);
	CHECK(sim_totals_error_count(&all) == 3);
	sim_totals_free(&a);
	sim_totals_free(&b);
	sim_totals_free(&all);
}

int main(void)
{
	test_merge();
	return check_done();
}
