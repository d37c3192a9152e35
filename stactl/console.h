/* The interactive sta> console: the same verbs as the command line, with
 * libedit line editing, history and verb completion. */
#ifndef STACTL_CONSOLE_H
#define STACTL_CONSOLE_H

#include "commands.h"

#define CONSOLE_MAX_WORDS 64

/* Splits a line into words: blanks separate them, '...' and "..." quote,
 * a backslash escapes the next character (except inside '...'). Returns the
 * word count and a NULL-terminated array in *words (free with
 * console_free_words), or -1 with *err set (nothing to free) for an
 * unterminated quote, a trailing backslash or too many words. */
int console_split(const char *line, char ***words, const char **err);
void console_free_words(char **words);

/* Reads commands until quit, exit or end of input; returns 0. */
int console_run(struct stactl_session *s);

#endif
