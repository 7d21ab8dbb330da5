/* sim: the entry points of callpipe-sim's commands (post, sign, call, load), which main.c
 * dispatches to; each takes the arguments after the command name (argv[0] is the command). */
#ifndef CALLPIPE_SIM_H
#define CALLPIPE_SIM_H

/* Exit statuses every command shares (documented in callpipe-sim(1) and docs/SIM.md). */
#define SIM_EXIT_OK 0
#define SIM_EXIT_FAIL 1        /* call/load: the check failed; post: local error */
#define SIM_EXIT_TRANSPORT 2   /* post: no HTTP response at all */
#define SIM_EXIT_USAGE 64      /* bad command line (sysexits EX_USAGE) */

int sim_cmd_post(int argc, char **argv);
int sim_cmd_sign(int argc, char **argv);
int sim_cmd_call(int argc, char **argv);
int sim_cmd_load(int argc, char **argv);

/* The text `callpipe-sim help COMMAND` and `COMMAND --help` print. */
extern const char sim_help_post[];
extern const char sim_help_call[];
extern const char sim_help_load[];

#endif
