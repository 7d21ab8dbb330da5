/* transcript: `callpipe-log show` for an agent call, told as a conversation (who said
 * what, and when, from the call's start) from its parsed log lines, one at a time. */
#ifndef CALLPIPE_TRANSCRIPT_H
#define CALLPIPE_TRANSCRIPT_H

#include <stdio.h>

#include "logparse.h"

/* Peer text kept between lines (the turn URL, a turn's digits) is cut to this. */
#define TRANSCRIPT_KEEP_MAX 512

struct transcript {
	FILE *out;
	long long base_ms;		/* the zero of the offsets: the call's first event */
	long long answer_ms;		/* the last turn's answer (-1: none yet) */
	int first_audio;		/* the next say/play is the first of its turn */
	int agent_hangup;		/* the agent hung up (so ws_stop is not the caller) */
	int stopped;			/* ws_stop seen */
	char keys[TRANSCRIPT_KEEP_MAX];	/* keys pressed, not yet printed ("4 2 #") */
	long long keys_ms;		/* when the first of them was pressed */
	long long fcgi_index;		/* the turn the fcgi digits below belong to (-1) */
	char fcgi_digits[64];
	char turn_url[TRANSCRIPT_KEEP_MAX];
	unsigned long turns, turn_errors, barge_ins;
	/* the caller's speech: when it started (-1: none under way), how long it was, and
	 * when the agent had its words (-1: no reply to time against) */
	long long speech_start_ms, speech_ms, asr_ms;
	int asr_seen;			/* the call logs its recognitions (fcgi's copy is not
					   printed again) */
};

/* 1 when LN marks an agent call: a ws "agent" line, or ws_start with mode=agent. */
int transcript_is_agent(const struct logparse_line *ln);

void transcript_init(struct transcript *t, FILE *out, long long base_ms);

/* Print what LN adds to the conversation (nothing for lines that tell nothing new to a
 * reader: ws_connected, the raw ws_dtmf / ws_mark, played marks, unknown events). */
void transcript_add(struct transcript *t, const struct logparse_line *ln);

/* Print what is still held (keys pressed at the very end). */
void transcript_end(struct transcript *t);

/* Print "+S.CC  " (right-aligned) for MS after BASE_MS. */
void transcript_offset(FILE *out, long long ms, long long base_ms);

#endif
