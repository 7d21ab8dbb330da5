/* route_turn: /webhook/turn, agent mode's default brain: the TwiML for one turn rendered
 * from turn_<TurnEvent>.xml, with the same per-number override as incoming_call. */
#include <stdio.h>
#include <string.h>

#include "route.h"

/* docs/AGENT.md "Turns": the events callpipe-ws posts. A template name is built from the
 * event, so only these four ever reach the file system. */
static const char *const turn_events[] = { "start", "speech", "dtmf", "timeout" };

static int known_event(const char *event)
{
	for (size_t i = 0; i < sizeof(turn_events) / sizeof(turn_events[0]); i++) {
		if (strcmp(event, turn_events[i]) == 0)
			return 1;
	}
	return 0;
}

/* An empty field is one that does not apply to this event (docs/AGENT.md: always present);
 * it is left out of the log line, as an absent parameter is. */
static const char *nonempty(const char *v)
{
	return v && *v ? v : NULL;
}

void route_turn(struct route_ctx *rc, struct response *resp)
{
	const char *event = route_param(rc, "TurnEvent");
	char stem[32], name[64];
	const char *kv[] = {
		"index", nonempty(route_param(rc, "TurnIndex")),
		"event", event,
		"digits", nonempty(route_param(rc, "Digits")),
		"speech", nonempty(route_param(rc, "SpeechResult")),
		"sig", rc->sig,
		NULL
	};

	if (!event || !*event) {
		route_fail(rc, resp, 400, "missing TurnEvent (want start, speech, dtmf or timeout)",
			   NULL);
		return;
	}
	if (!known_event(event)) {
		const char *ekv[] = { "turn_event", event, NULL };

		route_fail(rc, resp, 400, "unknown TurnEvent (want start, speech, dtmf or timeout)",
			   ekv);
		return;
	}
	snprintf(stem, sizeof(stem), "turn_%s", event);
	if (route_render(rc, resp, stem, name, sizeof(name)) == 0)
		route_log(rc, "turn", kv);
}
