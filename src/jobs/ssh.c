/* jobs/exec.h over libssh 0.10, in process: the team's private key stays in
 * memory (libssh's export-to-file writes 0644 under umask 022), the host key
 * is compared with the pinned fingerprint before authentication, and every
 * connection is its own (no multiplexing: the peers' top source of SSH
 * breakage). docs/architecture.md, "SSH", says why not the OpenSSH client. */
#include "jobs/exec.h"

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h> /* ssh_send_keepalive: declared there, works for clients */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

#define POLL_MS 200
#define KEEPALIVE_S 10
#define INPUT_CHUNK 32768
#define PGID_MAX_LINE 64
#define GATE_SLOTS 64

const char *jobs_exec_code(jobs_exec_result r) {
    switch (r) {
    case JOBS_EXEC_OK: return NULL;
    case JOBS_EXEC_UNREACHABLE: return "unreachable";
    case JOBS_EXEC_AUTH_FAILED: return "auth_failed";
    case JOBS_EXEC_HOST_KEY_MISMATCH: return "host_key_mismatch";
    case JOBS_EXEC_TIMEOUT: return "timeout";
    case JOBS_EXEC_CANCELLED: return "cancelled";
    case JOBS_EXEC_INPUT_FAILED: return "input_failed";
    case JOBS_EXEC_INTERNAL: return "internal";
    }
    return "internal";
}

/* ---- the per-server handshake gate ----
 * sshd drops new unauthenticated connections past MaxStartups (10:30:100),
 * which looks like an unreachable server: hold handshakes per host:port
 * below it. A small fixed table: a server not in it waits for a free slot. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct { char host[256]; unsigned port; int busy; } slot[GATE_SLOTS];
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{{0}, 0, 0}} };

static int gate_find(const char *host, unsigned port) {
    int free_slot = -1;
    for (int i = 0; i < GATE_SLOTS; i++) {
        if (gate.slot[i].busy > 0 && gate.slot[i].port == port && strcmp(gate.slot[i].host, host) == 0)
            return i;
        if (gate.slot[i].busy == 0 && free_slot < 0) free_slot = i;
    }
    return free_slot;
}

static int gate_enter(const char *host, unsigned port) {
    pthread_mutex_lock(&gate.mu);
    int i;
    for (;;) {
        i = gate_find(host, port);
        if (i >= 0 && gate.slot[i].busy < JOBS_HANDSHAKES_PER_SERVER) break;
        pthread_cond_wait(&gate.cv, &gate.mu);
    }
    if (gate.slot[i].busy == 0) {
        snprintf(gate.slot[i].host, sizeof gate.slot[i].host, "%s", host);
        gate.slot[i].port = port;
    }
    gate.slot[i].busy++;
    pthread_mutex_unlock(&gate.mu);
    return i;
}

static void gate_leave(int i) {
    pthread_mutex_lock(&gate.mu);
    gate.slot[i].busy--;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
}

static void set_detail(jobs_exec_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_detail(jobs_exec_out *out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof out->detail, fmt, ap);
    va_end(ap);
    /* libssh's messages may hold a newline; the detail is one line. */
    for (char *p = out->detail; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
}

/* ---- connect, check the host key, authenticate ---- */

static jobs_exec_result host_key_check(ssh_session s, const jobs_target *t, jobs_exec_out *out) {
    ssh_key key = NULL;
    if (ssh_get_server_publickey(s, &key) != SSH_OK) {
        set_detail(out, "the server sent no host key");
        return JOBS_EXEC_UNREACHABLE;
    }
    unsigned char *hash = NULL;
    size_t hlen = 0;
    int rc = ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen);
    ssh_key_free(key);
    if (rc != 0) return JOBS_EXEC_INTERNAL;
    char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
    ssh_clean_pubkey_hash(&hash);
    if (!fp) return JOBS_EXEC_INTERNAL;
    snprintf(out->fingerprint, sizeof out->fingerprint, "%s", fp);
    ssh_string_free_char(fp);
    if (t->host_key_fingerprint && t->host_key_fingerprint[0] &&
        strcmp(t->host_key_fingerprint, out->fingerprint) != 0) {
        set_detail(out, "the server's host key %s is not the pinned %s", out->fingerprint,
                   t->host_key_fingerprint);
        return JOBS_EXEC_HOST_KEY_MISMATCH;
    }
    return JOBS_EXEC_OK;
}

static jobs_exec_result authenticate(ssh_session s, const jobs_target *t, jobs_exec_out *out) {
    for (size_t i = 0; i < t->nkeys && i < JOBS_EXEC_MAX_KEYS; i++) {
        ssh_key key = NULL;
        if (!t->keys[i] || ssh_pki_import_privkey_base64(t->keys[i], NULL, NULL, NULL, &key) != SSH_OK)
            continue;
        int rc = ssh_userauth_publickey(s, NULL, key);
        ssh_key_free(key);
        if (rc == SSH_AUTH_SUCCESS) {
            out->key_index = (int)i;
            return JOBS_EXEC_OK;
        }
        if (rc == SSH_AUTH_ERROR) {
            set_detail(out, "authentication broke off: %s", ssh_get_error(s));
            return JOBS_EXEC_UNREACHABLE;
        }
    }
    set_detail(out, "the server refused the team's key for user %s", t->user);
    return JOBS_EXEC_AUTH_FAILED;
}

static jobs_exec_result open_session(const jobs_target *t, ssh_session *sp, jobs_exec_out *out) {
    *sp = NULL;
    ssh_session s = ssh_new();
    if (!s) return JOBS_EXEC_INTERNAL;
    long timeout = JOBS_CONNECT_TIMEOUT_S;
    int port = (int)t->port;
    int no = 0;
    /* Nothing from ~/.ssh/config or known_hosts of the account Piora runs
     * as: the server row is the whole truth about where and how to connect. */
    if (ssh_options_set(s, SSH_OPTIONS_HOST, t->host) != 0 ||
        ssh_options_set(s, SSH_OPTIONS_PORT, &port) != 0 ||
        ssh_options_set(s, SSH_OPTIONS_USER, t->user) != 0 ||
        ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != 0 ||
        ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
        ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != 0 ||
        ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0) {
        set_detail(out, "bad connection settings: %s", ssh_get_error(s));
        ssh_free(s);
        return JOBS_EXEC_INTERNAL;
    }
    if (ssh_connect(s) != SSH_OK) {
        set_detail(out, "cannot connect to %s port %u: %s", t->host, t->port, ssh_get_error(s));
        ssh_free(s);
        return JOBS_EXEC_UNREACHABLE;
    }
    jobs_exec_result r = host_key_check(s, t, out);
    if (r == JOBS_EXEC_OK) r = authenticate(s, t, out);
    if (r != JOBS_EXEC_OK) {
        ssh_disconnect(s);
        ssh_free(s);
        return r;
    }
    *sp = s;
    return JOBS_EXEC_OK;
}

/* ---- the run ---- */

typedef struct run_state {
    const jobs_exec_req *req;
    char pgid_line[PGID_MAX_LINE];
    size_t pgid_len;
    long pgid;      /* the remote process group, 0 until its line came */
    bool stop;      /* the output callback asked to stop */
    bool closed;
    bool eof;
    int exit_code;
} run_state;

/* The wrapper's first stdout line is "piora-pgid N": taken off before the
 * caller sees any output. */
static int on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len, int is_stderr,
                   void *userdata) {
    (void)session;
    (void)channel;
    run_state *st = userdata;
    const char *p = data;
    size_t n = len;
    if (!is_stderr && st->pgid == 0) {
        while (n > 0 && st->pgid == 0) {
            char c = *p++;
            n--;
            if (c == '\n') {
                st->pgid_line[st->pgid_len] = '\0';
                long v = 0;
                if (sscanf(st->pgid_line, "piora-pgid %ld", &v) == 1 && v > 1) st->pgid = v;
                else st->pgid = -1; /* not our wrapper: nothing to kill by group */
            } else if (st->pgid_len + 1 < sizeof st->pgid_line) {
                st->pgid_line[st->pgid_len++] = c;
            }
        }
        if (n == 0) return (int)len;
    }
    if (n > 0 && st->req->output && !st->stop &&
        !st->req->output(st->req->output_ctx, is_stderr ? JOBS_STDERR : JOBS_STDOUT, p, n))
        st->stop = true;
    return (int)len;
}

static void on_exit_status(ssh_session session, ssh_channel channel, int status, void *userdata) {
    (void)session;
    (void)channel;
    ((run_state *)userdata)->exit_code = status;
}

static void on_eof(ssh_session session, ssh_channel channel, void *userdata) {
    (void)session;
    (void)channel;
    ((run_state *)userdata)->eof = true;
}

static void on_close(ssh_session session, ssh_channel channel, void *userdata) {
    (void)session;
    (void)channel;
    ((run_state *)userdata)->closed = true;
}

/* bash from a pipe reads its script byte by byte, so what follows the script
 * on stdin stays for the script's commands. `setsid -w` makes the group and
 * hands back bash's exit status. */
static const char WRAPPER[] = "exec setsid -w bash -c 'echo \"piora-pgid $$\"; exec bash -s'";

/* TERM the group, wait up to the grace for it to go, then KILL. Runs on its
 * own channel of the same connection, or a new connection if that is gone. */
static void kill_group(ssh_session s, const jobs_target *t, long pgid) {
    if (pgid <= 1) return;
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "kill -TERM -- -%ld 2>/dev/null; i=0; while [ $i -lt %d ]; do "
             "kill -0 -- -%ld 2>/dev/null || exit 0; sleep 0.2; i=$((i+1)); done; "
             "kill -KILL -- -%ld 2>/dev/null; exit 0",
             pgid, JOBS_KILL_GRACE_S * 5, pgid, pgid);
    ssh_session own = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        ssh_session use = attempt == 0 ? s : own;
        if (attempt == 1) {
            jobs_exec_out scratch;
            memset(&scratch, 0, sizeof scratch);
            jobs_target pinned = *t;
            if (open_session(&pinned, &own, &scratch) != JOBS_EXEC_OK) return;
            use = own;
        }
        if (!use || !ssh_is_connected(use)) continue;
        ssh_channel ch = ssh_channel_new(use);
        if (ch && ssh_channel_open_session(ch) == SSH_OK && ssh_channel_request_exec(ch, cmd) == SSH_OK) {
            char sink[256];
            int64_t until = clock_mono_ns() + (int64_t)(JOBS_KILL_GRACE_S + 5) * 1000000000;
            while (!ssh_channel_is_eof(ch) && clock_mono_ns() < until) {
                int r = ssh_channel_read_timeout(ch, sink, sizeof sink, 0, POLL_MS);
                if (r < 0) break;
            }
            ssh_channel_close(ch);
            ssh_channel_free(ch);
            break;
        }
        if (ch) ssh_channel_free(ch);
    }
    if (own) {
        ssh_disconnect(own);
        ssh_free(own);
    }
}

static jobs_exec_result run_script(ssh_session s, const jobs_target *t, const jobs_exec_req *req,
                                   jobs_exec_out *out) {
    run_state st;
    memset(&st, 0, sizeof st);
    st.req = req;
    st.exit_code = -1;

    struct ssh_counter_struct scount = {0}, rcount = {0};
    ssh_set_counters(s, &scount, &rcount);

    ssh_channel ch = ssh_channel_new(s);
    if (!ch) return JOBS_EXEC_INTERNAL;
    struct ssh_channel_callbacks_struct cb = {
        .userdata = &st,
        .channel_data_function = on_data,
        .channel_eof_function = on_eof,
        .channel_close_function = on_close,
        .channel_exit_status_function = on_exit_status,
    };
    ssh_callbacks_init(&cb);
    ssh_set_channel_callbacks(ch, &cb);
    if (ssh_channel_open_session(ch) != SSH_OK || ssh_channel_request_exec(ch, WRAPPER) != SSH_OK) {
        set_detail(out, "the server refused a session: %s", ssh_get_error(s));
        ssh_channel_free(ch);
        ssh_set_counters(s, NULL, NULL);
        return JOBS_EXEC_UNREACHABLE;
    }

    ssh_event ev = ssh_event_new();
    if (!ev || ssh_event_add_session(ev, s) != SSH_OK) {
        if (ev) ssh_event_free(ev);
        ssh_channel_free(ch);
        ssh_set_counters(s, NULL, NULL);
        return JOBS_EXEC_INTERNAL;
    }

    int64_t start = clock_mono_ns();
    int64_t deadline = req->timeout_s > 0 ? start + req->timeout_s * 1000000000 : 0;
    int64_t last_heard = start, last_ping = start;
    uint64_t seen_packets = rcount.in_packets;
    size_t script_sent = 0;
    bool input_done = req->input == NULL, eof_sent = false;
    char *chunk = malloc(INPUT_CHUNK);
    jobs_exec_result r = JOBS_EXEC_OK;
    if (!chunk) r = JOBS_EXEC_INTERNAL;
    size_t chunk_len = 0, chunk_off = 0;

    while (r == JOBS_EXEC_OK && !st.closed) {
        /* stdin: the script, then the caller's input, within the window so a
         * write never waits for the server. */
        while (!eof_sent && !st.closed) {
            uint32_t win = ssh_channel_window_size(ch);
            if (win == 0) break;
            const char *src;
            size_t n;
            if (script_sent < req->script_len) {
                src = req->script + script_sent;
                n = req->script_len - script_sent;
            } else if (!input_done) {
                if (chunk_off == chunk_len) {
                    ssize_t got = req->input(req->input_ctx, chunk, INPUT_CHUNK);
                    if (got < 0) { r = JOBS_EXEC_INPUT_FAILED; break; }
                    if (got == 0) { input_done = true; continue; }
                    chunk_len = (size_t)got;
                    chunk_off = 0;
                }
                src = chunk + chunk_off;
                n = chunk_len - chunk_off;
            } else {
                ssh_channel_send_eof(ch);
                eof_sent = true;
                break;
            }
            if (n > win) n = win;
            int w = ssh_channel_write(ch, src, (uint32_t)n);
            if (w < 0) { r = JOBS_EXEC_UNREACHABLE; break; }
            if (script_sent < req->script_len) script_sent += (size_t)w;
            else chunk_off += (size_t)w;
            if ((size_t)w < n) break;
        }
        if (r != JOBS_EXEC_OK) break;

        if (ssh_event_dopoll(ev, POLL_MS) == SSH_ERROR && !st.closed) {
            set_detail(out, "the connection broke: %s", ssh_get_error(s));
            r = JOBS_EXEC_UNREACHABLE;
            break;
        }
        int64_t now = clock_mono_ns();
        if (rcount.in_packets != seen_packets) {
            seen_packets = rcount.in_packets;
            last_heard = now;
        }
        if (now - last_ping >= (int64_t)KEEPALIVE_S * 1000000000) {
            ssh_send_keepalive(s);
            last_ping = now;
        }
        if (now - last_heard >= (int64_t)JOBS_SILENCE_S * 1000000000) {
            set_detail(out, "the server went silent for %d s", JOBS_SILENCE_S);
            r = JOBS_EXEC_UNREACHABLE;
        } else if (st.stop || (req->cancelled && req->cancelled(req->cancel_ctx))) {
            set_detail(out, "cancelled");
            r = JOBS_EXEC_CANCELLED;
        } else if (deadline && now >= deadline) {
            set_detail(out, "the run passed its %lld s limit", (long long)req->timeout_s);
            r = JOBS_EXEC_TIMEOUT;
        }
        if (st.eof && st.exit_code >= 0 && !st.closed) {
            /* Some servers send exit-status and EOF but close late. */
            ssh_channel_close(ch);
        }
    }
    free(chunk);
    ssh_event_remove_session(ev, s);
    ssh_event_free(ev);
    ssh_set_counters(s, NULL, NULL);

    if (r == JOBS_EXEC_CANCELLED || r == JOBS_EXEC_TIMEOUT || r == JOBS_EXEC_INPUT_FAILED ||
        r == JOBS_EXEC_UNREACHABLE) {
        kill_group(s, t, st.pgid);
    } else if (r == JOBS_EXEC_OK) {
        out->exit_code = st.exit_code;
        if (st.exit_code < 0) set_detail(out, "the script ended without an exit status (killed by a signal?)");
    }
    ssh_channel_close(ch);
    ssh_channel_free(ch);
    return r;
}

jobs_exec_result jobs_exec_run(const jobs_target *t, const jobs_exec_req *req, jobs_exec_out *out) {
    memset(out, 0, sizeof *out);
    out->key_index = -1;
    out->exit_code = -1;
    if (!t || !t->host || !t->user || t->port == 0 || t->port > 65535) return JOBS_EXEC_INTERNAL;
    int slot = gate_enter(t->host, t->port);
    ssh_session s = NULL;
    jobs_exec_result r = open_session(t, &s, out);
    gate_leave(slot);
    if (r != JOBS_EXEC_OK) return r;
    if (req) r = run_script(s, t, req, out);
    ssh_disconnect(s);
    ssh_free(s);
    return r;
}
