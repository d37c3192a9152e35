/* stactl's verbs, one function each, shared by the command line and the
 * interactive console. */
#ifndef STACTL_COMMANDS_H
#define STACTL_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "client.h"

/* One run of stactl: its options and its connection to stad. */
struct stactl_session {
	const char *socket_path;
	bool json;    /* --json given before the verb */
	bool console; /* inside the sta> console: keep the connection */
	struct ctl_client client;
};

void stactl_session_init(struct stactl_session *s, const char *socket_path, bool json);
void stactl_session_end(struct stactl_session *s);

/* Connects if needed, sends frame (a request, freed here) and waits for
 * OK: the reply is then s->client.doc. Errors are printed (output.h). */
int stactl_call(struct stactl_session *s, struct sta_buf *frame, bool json);

/* Runs argv[0] (a verb) with its arguments; returns an enum stactl_status.
 * Errors are printed to stderr as "stactl: ...", or with --json to stdout
 * as a JSON object (output.h). */
int commands_run(struct stactl_session *s, int argc, char **argv);
/* Prints the verb list (for --help and the console's help). */
void commands_list(FILE *f);
/* Prints the help of one verb; false when there is no such verb. */
bool commands_help_verb(FILE *f, const char *verb);
/* The i-th verb name, NULL past the end (for completion). */
const char *commands_verb(size_t i);

#endif
