#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "render.h"
#include "xmalloc.h"

#define HISTORY_LINES 1000

void console_free_words(char **words)
{
	if (!words)
		return;
	for (char **w = words; *w; w++)
		free(*w);
	free(words);
}

int console_split(const char *line, char ***words, const char **err)
{
	char **out = xcalloc(CONSOLE_MAX_WORDS + 1, sizeof *out);
	struct sta_buf cur = STA_BUF_INIT;
	bool in_word = false;
	char quote = 0;
	int n = 0;

	*err = NULL;
	for (const char *p = line;; p++) {
		char ch = *p;
		if (ch == '\0' && quote) {
			*err = "unterminated quote";
			break;
		}
		if (quote && ch == quote) {
			quote = 0;
			continue;
		}
		if (!quote && (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\0')) {
			if (in_word) {
				if (n == CONSOLE_MAX_WORDS) {
					*err = "too many words";
					break;
				}
				out[n++] = xstrndup(buf_cstr(&cur), cur.len);
				buf_clear(&cur);
				in_word = false;
			}
			if (ch == '\0')
				break;
			continue;
		}
		in_word = true;
		if (!quote && (ch == '\'' || ch == '"')) {
			quote = ch;
			continue;
		}
		if (ch == '\\' && quote != '\'') {
			if (p[1] == '\0') {
				*err = "backslash at the end of the line";
				break;
			}
			ch = *++p;
		}
		buf_append_byte(&cur, (uint8_t)ch);
	}
	buf_free(&cur);
	if (*err) {
		console_free_words(out);
		return -1;
	}
	*words = out;
	return n;
}

/* Completes the verb (first word) only; arguments are names stad knows. */
static char *verb_generator(const char *text, int state)
{
	static size_t i;
	size_t len = strlen(text);
	const char *v;

	if (state == 0)
		i = 0;
	while ((v = commands_verb(i++)))
		if (strncmp(v, text, len) == 0)
			return xstrdup(v);
	return NULL;
}

static char **console_complete(const char *text, int start, int end)
{
	if (start != 0)
		return NULL;
	return rl_completion_matches(text, verb_generator);
}

/* SIGINT at the prompt: the handler writes a byte here and the loop drops
 * the half-typed line. Not a flag checked after readline(): libedit retries
 * a read cut short by a signal, so readline() did not return on every ^C. */
static int console_sigpipe[2] = { -1, -1 };

static void console_sigint(int sig)
{
	int e = errno;
	ssize_t w = write(console_sigpipe[1], "", 1);

	(void)w;
	errno = e;
}

static char *console_line;
static bool console_line_done;

static void console_on_line(char *line)
{
	console_line = line;
	console_line_done = true;
}

enum prompt_result { PROMPT_LINE, PROMPT_EOF, PROMPT_INTERRUPTED };

/* Reads one line at the prompt (heap, in *line) while watching for ^C. */
static enum prompt_result console_prompt(char **line)
{
	struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
	                         { .fd = console_sigpipe[0], .events = POLLIN } };
	char drain[64];

	console_line = NULL;
	console_line_done = false;
	rl_callback_handler_install("sta> ", console_on_line);
	while (!console_line_done) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents & POLLIN) {
			while (read(console_sigpipe[0], drain, sizeof drain) > 0)
				;
			rl_callback_handler_remove();
			return PROMPT_INTERRUPTED;
		}
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
			rl_callback_read_char();
	}
	rl_callback_handler_remove();
	*line = console_line;
	return console_line_done && console_line ? PROMPT_LINE : PROMPT_EOF;
}

/* $HOME/.stactl_history, or NULL without a HOME. */
static char *history_path(void)
{
	const char *home = getenv("HOME");

	return home && home[0] ? xasprintf("%s/.stactl_history", home) : NULL;
}

/* Runs one typed line; false when it was quit or exit. */
static bool console_line_run(struct stactl_session *s, char *line)
{
	char **words;
	const char *err;
	int n = console_split(line, &words, &err);

	if (n > 0)
		add_history(line);
	free(line);
	if (n < 0) {
		fprintf(stderr, "stactl: %s\n", err);
		return true;
	}
	bool quit = n > 0 && (strcmp(words[0], "quit") == 0 || strcmp(words[0], "exit") == 0);
	if (n == 1 && strcmp(words[0], "help") == 0) {
		commands_list(stdout);
		printf("  %-31s %s\n", "quit, exit", "leave the console (also Ctrl-D)");
	} else if (n > 0 && !quit) {
		commands_run(s, n, words);
	}
	console_free_words(words);
	fflush(stdout);
	return !quit;
}

int console_run(struct stactl_session *s)
{
	char *hist = history_path();
	struct sigaction sa = { .sa_handler = console_sigint }, old;

	if (pipe2(console_sigpipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		fprintf(stderr, "stactl: cannot start the console: %s\n", strerror(errno));
		free(hist);
		return ST_FAILED;
	}
	/* Ctrl-C at the prompt drops the line instead of leaving. */
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, &old);
	rl_catch_signals = 0;
	s->console = true;
	rl_readline_name = "stactl";
	rl_attempted_completion_function = console_complete;
	using_history();
	stifle_history(HISTORY_LINES);
	if (hist)
		read_history(hist);
	printf("stactl %s (stad at %s). Type 'help' for the commands, 'quit' to leave.\n",
	       STA_VERSION, s->socket_path);
	for (;;) {
		char *line = NULL;
		enum prompt_result r = console_prompt(&line);
		if (r == PROMPT_LINE && !console_line_run(s, line))
			break;
		if (r != PROMPT_LINE)
			printf("\n");
		if (r == PROMPT_EOF)
			break;
	}
	sigaction(SIGINT, &old, NULL);
	close(console_sigpipe[0]);
	close(console_sigpipe[1]);
	console_sigpipe[0] = console_sigpipe[1] = -1;
	if (hist)
		write_history(hist);
	free(hist);
	return ST_OK;
}
