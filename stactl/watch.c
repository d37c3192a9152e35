#include "watch.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "ctl_msg.h"
#include "ctl_proto.h"
#include "output.h"
#include "render.h"

/* A terminal redraws at most 5 times a second; a log gets a line every
 * few seconds. */
#define TTY_REDRAW_MS 200
#define PIPE_LINE_MS 5000
#define WATCH_POLL_MS 100

static volatile sig_atomic_t watch_interrupted;

static void watch_sigint(int sig)
{
	watch_interrupted = 1;
}

struct watch {
	bool tty, json, drawn, pending;
	int64_t last_draw;
	struct progress p;
};

static void watch_draw(struct watch *w, bool final)
{
	int64_t now = client_now_ms();
	int64_t pace = w->tty ? TTY_REDRAW_MS : PIPE_LINE_MS;

	if (w->json || !w->pending || (!final && w->drawn && now - w->last_draw < pace))
		return;
	struct sta_buf line = STA_BUF_INIT;
	/* Asked each time: the terminal may have been resized. Two more
	 * columns stay free for the "^C" a terminal echoes. */
	size_t width = out_width();
	render_progress(&line, &w->p, w->tty && width > 20 ? width - 2 : width);
	if (w->tty)
		printf("\r%s\x1b[K%s", buf_cstr(&line), final ? "\n" : "");
	else
		printf("%s\n", buf_cstr(&line));
	fflush(stdout);
	buf_free(&line);
	w->last_draw = now;
	w->drawn = true;
	w->pending = false;
}

/* Ends a half-drawn terminal line before another message. */
static void watch_break_line(struct watch *w)
{
	if (w->tty && w->drawn && !w->json)
		printf("\n");
	w->drawn = false;
}

/* Handles one EVENT: ST_OK when the download is complete, ST_FAILED when
 * it failed, CLIENT_AGAIN to keep watching. */
static int watch_event(struct stactl_session *s, struct watch *w)
{
	struct ctl_torrent ev;
	char why[128];

	if (!ctl_event_decode(&s->client.doc, &ev, why, sizeof why))
		return out_fail(w->json, ST_PROTOCOL, NULL, "protocol error from stad: %s", why);
	if (w->json)
		out_json(&s->client);
	if (ev.error.p && ev.error.len > 0) {
		struct sta_buf b = STA_BUF_INIT;
		render_str(&b, ev.error);
		watch_break_line(w);
		out_fail(w->json, ST_FAILED, NULL, "download failed: %s", buf_cstr(&b));
		buf_free(&b);
		ctl_torrent_free(&ev);
		return ST_FAILED;
	}
	w->p = (struct progress){ .size = ev.size, .done = ev.done, .rate = ev.down_rate,
		                  .peers = ev.peers, .eta = ev.eta, .note = progress_note(&ev) };
	w->pending = true;
	bool complete = ev.complete == 1;
	ctl_torrent_free(&ev);
	watch_draw(w, complete);
	return complete ? ST_OK : CLIENT_AGAIN;
}

static int watch_error(struct stactl_session *s, struct watch *w)
{
	struct ctl_error e;
	char why[128];
	struct sta_buf msg = STA_BUF_INIT, code = STA_BUF_INIT;

	watch_break_line(w);
	if (!ctl_error_decode(&s->client.doc, &e, why, sizeof why))
		return out_fail(w->json, ST_PROTOCOL, NULL, "protocol error from stad: %s", why);
	render_str(&msg, e.message);
	render_str(&code, e.code);
	int r = out_fail(w->json, ST_FAILED, buf_cstr(&code), "%s", buf_cstr(&msg));
	buf_free(&msg);
	buf_free(&code);
	return r;
}

static int watch_loop(struct stactl_session *s, struct watch *w)
{
	for (;;) {
		uint16_t type = 0;
		if (watch_interrupted)
			return ST_INTERRUPTED;
		int r = client_read(&s->client, &type, WATCH_POLL_MS);
		if (r == CLIENT_AGAIN) {
			watch_draw(w, false);
			continue;
		}
		if (r != ST_OK) {
			watch_break_line(w);
			return out_client_fail(w->json, r, &s->client);
		}
		if (type == CTL_MSG_ERROR)
			return watch_error(s, w);
		if (type != CTL_MSG_EVENT) {
			watch_break_line(w);
			return out_fail(w->json, ST_PROTOCOL, NULL,
			                "protocol error from stad: got %s while watching",
			                ctl_msg_name(type));
		}
		r = watch_event(s, w);
		if (r != CLIENT_AGAIN)
			return r;
	}
}

int watch_run(struct stactl_session *s, const char *torrent, bool json)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_torrent_args args = { CTL_UNKNOWN, ctl_str_c(torrent) };
	struct watch w = { .tty = isatty(STDOUT_FILENO), .json = json };
	struct sigaction sa = { .sa_handler = watch_sigint }, old;

	ctl_torrent_args_encode(&b, CTL_MSG_WATCH, &args);
	int r = stactl_call(s, &b, json);
	if (r != ST_OK)
		return r;
	/* No SA_RESTART: the signal cuts poll() short. */
	sigemptyset(&sa.sa_mask);
	watch_interrupted = 0;
	sigaction(SIGINT, &sa, &old);
	r = watch_loop(s, &w);
	sigaction(SIGINT, &old, NULL);
	if (r == ST_OK) {
		if (!json)
			printf("download complete and verified\n");
		return ST_OK;
	}
	/* Events would keep coming on this connection: drop it. */
	client_close(&s->client);
	if (r == ST_INTERRUPTED) {
		watch_break_line(&w);
		out_fail(json, r, NULL, "stopped watching; the download continues in stad "
		         "('stactl status' shows it, 'stactl watch %s' resumes watching)", torrent);
	}
	return r;
}
