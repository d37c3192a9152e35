/* stactl: control client for stad. One verb per run, or an interactive
 * console when started without arguments on a terminal. */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "commands.h"
#include "console.h"
#include "ctl_proto.h"
#include "output.h"

#define DEFAULT_SOCKET "/run/sta/stad.sock"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: stactl [--socket PATH] [--json] COMMAND [ARGS]\n"
	        "       stactl [--socket PATH]   (the sta> console)\n"
	        "       stactl help COMMAND | --help | --version\n"
	        "\n"
	        "Controls stad, the STA peer daemon, over its UNIX socket.\n\n");
	commands_list(f);
	static const char *const options[][2] = {
		{ "-s, --socket PATH",
		  "stad's control socket (default $STA_SOCKET, else " DEFAULT_SOCKET ")" },
		{ "-j, --json", "print stad's replies as JSON lines (progress events too), and errors "
		                "as {\"error\",\"code\",\"exit\"} on stdout" },
		{ "-h, --help", "this help; 'stactl help COMMAND' explains one command" },
		{ "-V, --version", "print the version and the control protocol version" },
	};
	static const char *const statuses[][2] = {
		{ "0", "success" },
		{ "1", "the request failed (stad answered with an error)" },
		{ "2", "usage error" },
		{ "3", "cannot reach stad (not running, wrong socket, connection lost)" },
		{ "4", "protocol or version mismatch between stactl and stad" },
		{ "130", "interrupted (Ctrl-C while watching; the download goes on in stad)" },
	};

	fprintf(f, "\nOptions:\n");
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
		out_help_entry(f, options[i][0], options[i][1], 21);
	fprintf(f, "\nExit status:\n");
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		out_help_entry(f, statuses[i][0], statuses[i][1], 7);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_path = getenv("STA_SOCKET");
	bool json = false;
	struct stactl_session s;
	int opt, r;

	setlocale(LC_CTYPE, "");
	if (!socket_path || !socket_path[0])
		socket_path = DEFAULT_SOCKET;
	/* '+': options end at the verb, which parses its own. Our own message
	 * for an unknown option, which --json turns into JSON. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+s:jhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			socket_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("stactl %s (control protocol version %d)\n", STA_VERSION,
			       CTL_PROTO_VERSION);
			return 0;
		default:
			return out_fail(json, ST_USAGE, NULL, "unknown option '%s'; try 'stactl --help'",
			                argv[optind - 1]);
		}
	}
	if (optind == argc && !isatty(STDIN_FILENO)) {
		usage(stderr);
		return ST_USAGE;
	}
	stactl_session_init(&s, socket_path, json);
	if (optind == argc)
		r = console_run(&s);
	else
		r = commands_run(&s, argc - optind, argv + optind);
	stactl_session_end(&s);
	return r;
}
