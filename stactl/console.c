#include "console.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
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

static volatile sig_atomic_t console_interrupted;

static void console_sigint(int sig)
{
	console_interrupted = 1;
}

/* The signal mask outside readline. Inside it SIGINT is blocked and let
 * through only while waiting for a key (ppoll), so a ^C that comes before
 * the wait cuts it short instead of being noticed after the next key. */
static sigset_t console_mask;

static int console_getc(FILE *in)
{
	struct pollfd pfd = { .fd = fileno(in), .events = POLLIN };
	unsigned char ch;

	while (!console_interrupted) {
		int r = ppoll(&pfd, 1, NULL, &console_mask);
		if (r < 0 && errno != EINTR)
			return EOF;
		if (r <= 0)
			continue;
		ssize_t n = read(pfd.fd, &ch, 1);
		if (n == 1)
			return ch;
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			return EOF;
	}
	return EOF;
}

/* readline, with ^C ending it early (console_interrupted set). */
static char *console_readline(void)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	console_interrupted = 0;
	sigprocmask(SIG_BLOCK, &block, &console_mask);
	char *line = readline("sta> ");
	sigprocmask(SIG_SETMASK, &console_mask, NULL);
	return line;
}

/* $HOME/.stactl_history, or NULL without a HOME. */
static char *history_path(void)
{
	const char *home = getenv("HOME");

	return home && home[0] ? xasprintf("%s/.stactl_history", home) : NULL;
}

int console_run(struct stactl_session *s)
{
	char *hist = history_path();
	struct sigaction sa = { .sa_handler = console_sigint }, old;

	/* Ctrl-C at the prompt drops the line instead of leaving; no
	 * SA_RESTART, so it cuts the read short. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	s->console = true;
	rl_readline_name = "stactl";
	rl_getc_function = console_getc;
	rl_attempted_completion_function = console_complete;
	using_history();
	stifle_history(HISTORY_LINES);
	if (hist)
		read_history(hist);
	printf("stactl %s (stad at %s). Type 'help' for the commands, 'quit' to leave.\n",
	       STA_VERSION, s->socket_path);
	for (;;) {
		char **words;
		const char *err;
		char *line = console_readline();
		if (console_interrupted) {
			printf("\n");
			free(line);
			continue;
		}
		if (!line) {
			printf("\n");
			break;
		}
		int n = console_split(line, &words, &err);
		if (n > 0)
			add_history(line);
		free(line);
		if (n < 0) {
			fprintf(stderr, "stactl: %s\n", err);
			continue;
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
		if (quit)
			break;
	}
	sigaction(SIGINT, &old, NULL);
	if (hist)
		write_history(hist);
	free(hist);
	return ST_OK;
}
