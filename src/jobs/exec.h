/* Runs one script on a server over SSH and streams what it prints.
 *
 * The script goes to `bash -s` on stdin (never on a command line, so it is in
 * no process list), under `setsid -w`, so it and everything it starts form one
 * process group that cancel and timeout kill (TERM, then KILL after 10 s)
 * through a second channel: SSH signal requests are refused for root logins.
 * After the script, the caller's input source (if any) streams into the same
 * stdin: bash reads its script from a pipe byte by byte, so the command that
 * reads stdin (a restore tool, best `exec`ed on its own line) gets exactly the
 * bytes after the script.
 *
 * stdout and stderr reach the output callback separately and in the order the
 * server sent them. The host key is checked before anything is sent: a pinned
 * fingerprint that differs runs nothing. Every call is synchronous and slow
 * (network): never call it on an HTTP polling thread. */
#ifndef PIORA_JOBS_EXEC_H
#define PIORA_JOBS_EXEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The outcome of a connection or a run; jobs_exec_code() names it with
 * SPEC 10's machine codes. */
typedef enum jobs_exec_result {
    JOBS_EXEC_OK = 0,           /* the script ran to its end (see exit_code) */
    JOBS_EXEC_UNREACHABLE,      /* no TCP/SSH connection in 10 s, or it went silent */
    JOBS_EXEC_AUTH_FAILED,      /* the server refused every key offered */
    JOBS_EXEC_HOST_KEY_MISMATCH,/* the host key is not the pinned one: nothing ran */
    JOBS_EXEC_TIMEOUT,          /* the caller's deadline passed: group killed */
    JOBS_EXEC_CANCELLED,        /* the caller cancelled: group killed */
    JOBS_EXEC_INPUT_FAILED,     /* the input source reported an error: group killed */
    JOBS_EXEC_INTERNAL          /* out of memory, a bad key, a libssh bug */
} jobs_exec_result;

/* "unreachable", "auth_failed", ...; NULL for JOBS_EXEC_OK. */
const char *jobs_exec_code(jobs_exec_result r);

typedef enum jobs_stream { JOBS_STDOUT = 1, JOBS_STDERR = 2 } jobs_stream;

/* Receives output as it arrives. Returning false stops the run as cancelled
 * (e.g. a backup store that cannot write). */
typedef bool (*jobs_output_fn)(void *ctx, jobs_stream s, const char *data, size_t len);
/* Fills buf with up to cap input bytes: returns the count, 0 at the end of
 * the input, -1 on an error. Called only when the channel can take data. */
typedef ssize_t (*jobs_input_fn)(void *ctx, char *buf, size_t cap);
/* Polled about every 200 ms: true asks for cancel. */
typedef bool (*jobs_cancel_fn)(void *ctx);

#define JOBS_FINGERPRINT_MAX 128 /* "SHA256:" + 43 base64 characters, with room */
#define JOBS_EXEC_MAX_KEYS 4

typedef struct jobs_target {
    const char *host;
    unsigned port;
    const char *user;
    /* "SHA256:..." to pin, or NULL to trust on first use (the caller records
     * jobs_exec_out.fingerprint). */
    const char *host_key_fingerprint;
    /* OpenSSH private keys (the text of an id_ed25519 file), in memory,
     * tried in order: the team's current key, then the previous one. */
    const char *keys[JOBS_EXEC_MAX_KEYS];
    size_t nkeys;
} jobs_target;

typedef struct jobs_exec_req {
    const char *script; /* bash; its last line should end with '\n' */
    size_t script_len;
    jobs_input_fn input; /* NULL: stdin ends after the script */
    void *input_ctx;
    jobs_output_fn output; /* NULL: output dropped */
    void *output_ctx;
    jobs_cancel_fn cancelled; /* NULL: never */
    void *cancel_ctx;
    int64_t timeout_s; /* the run's own bound from the start of the script; 0: none */
} jobs_exec_req;

typedef struct jobs_exec_out {
    char fingerprint[JOBS_FINGERPRINT_MAX]; /* the key the server showed, "" if none */
    int key_index;  /* which of target.keys authenticated, -1 if none */
    int exit_code;  /* the script's exit status, -1 when there is none */
    char detail[256]; /* one line for a person (never a secret) */
} jobs_exec_out;

/* Connects, checks the host key, authenticates, and with req runs the script.
 * With req NULL it stops after authentication and runs nothing: the server
 * check. Fills *out in every case. */
jobs_exec_result jobs_exec_run(const jobs_target *t, const jobs_exec_req *req, jobs_exec_out *out);

/* The limits the per-server gate holds, exported for tests and docs. */
#define JOBS_HANDSHAKES_PER_SERVER 4 /* sshd's MaxStartups starts refusing at 10 */
#define JOBS_CONNECT_TIMEOUT_S 10
#define JOBS_SILENCE_S 30  /* a connection silent this long is dead */
#define JOBS_KILL_GRACE_S 10 /* TERM, then KILL after this */

#endif
