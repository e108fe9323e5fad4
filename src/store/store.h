/* The one storage interface. Handlers and the CLI call these functions and
 * never see SQL; each backend (store/sqlite.c now, store/postgres.c later)
 * builds its own statements, with bound parameters only.
 *
 * Connections: a store_t is one connection and is used by one thread at a
 * time. The server opens one per worker thread (store_thread()); the CLI
 * opens one with store_open(). Migrations run forward on open.
 *
 * Every object belongs to a team; every object function takes the caller's
 * team id and answers PIORA_ENOTFOUND for another team's objects, exactly as
 * for missing ones. */
#ifndef PIORA_STORE_STORE_H
#define PIORA_STORE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/scopes.h"
#include "auth/token.h"
#include "core/model.h"
#include "util/err.h"

typedef struct store store_t;

#define EMAIL_MAX 254
#define TEAM_NAME_MAX 64
#define TOKEN_NAME_MAX 100
#define ADDR_MAX 64 /* textual client address */

/* ---- connections ------------------------------------------------------ */

/* url: a SQLite file path (created on first open) or, later, postgres://.
 * Runs pending migrations. On failure returns NULL and, if msg is given,
 * writes a one-line reason. */
store_t *store_open(const char *url, char *msg, size_t msglen);
void store_close(store_t *s);

/* The calling thread's connection to the URL given to store_thread_init(),
 * opened on first use and closed by store_thread_release() or at exit.
 * Returns NULL (and logs) when it cannot be opened. */
void store_thread_init(const char *url);
store_t *store_thread(void);
void store_thread_release(void);

/* Has any *other* connection (another thread, another process such as the
 * CLI, or later another node) committed a change since this connection last
 * asked? The first call on a connection answers true. Caches of database
 * state (tokens, list pages) are trusted only while this answers false.
 * SQLite: PRAGMA data_version. Cheap enough to call on every request. */
piora_err store_changed(store_t *s, bool *changed);

/* A process-wide counter that every committed write through any store_t of
 * this process increments after its commit (the backends call
 * store_generation_bump()). With store_changed() for writes by others, it
 * tells in-memory caches when to drop what they hold. */
uint64_t store_generation(void);
void store_generation_bump(void);

/* Serving threads ask store_changed() at most once per STORE_POLL_NS: it
 * costs a read transaction, a handful of fcntl() calls, and was ~20% of a
 * rejected request when asked every time. So a change that must be seen at
 * once by every process (a revocation) is not reported done until every
 * serving thread is due to ask again: store_change_barrier() sleeps that
 * long (~1.5 ms) after the commit. Both sides use CLOCK_MONOTONIC, which
 * all processes on a machine share. */
#define STORE_POLL_NS 1000000
void store_change_barrier(void);

/* Answers PIORA_OK when the database answers a trivial query (readiness). */
piora_err store_ping(store_t *s);

/* The schema version after migrations (the highest applied number). */
int store_schema_version(store_t *s);

/* ---- teams and users --------------------------------------------------- */

typedef struct user_rec {
    int64_t id;
    int64_t team_id;
    char email[EMAIL_MAX + 1];
    char team_name[TEAM_NAME_MAX + 1];
    bool is_admin;
    int64_t created_at;
} user_rec;

/* Creates the user, and the team named team_name if it does not exist yet
 * (else the user joins it). ECONFLICT when the email is taken. Emails are
 * compared case-insensitively (stored lower-cased by the caller). */
piora_err store_user_create(store_t *s, const char *email, const char *team_name, bool is_admin,
                            const char *password_hash, user_rec *out);
piora_err store_user_by_email(store_t *s, const char *email, user_rec *out);
piora_err store_user_by_id(store_t *s, int64_t id, user_rec *out);
/* The Argon2id string of the user's password. */
piora_err store_user_password_hash(store_t *s, int64_t user_id, char *out, size_t outlen);
piora_err store_user_set_password(store_t *s, int64_t user_id, const char *password_hash);
/* All users ordered by id; *out is malloc'd (free()), *n its length. */
piora_err store_user_list(store_t *s, user_rec **out, size_t *n);
piora_err store_user_count(store_t *s, int64_t *n);

/* ---- tokens ------------------------------------------------------------- */

typedef enum token_status { TOKEN_ACTIVE, TOKEN_EXPIRED, TOKEN_REVOKED } token_status;

typedef struct token_rec {
    int64_t id;
    int64_t user_id;
    int64_t team_id;
    char name[TOKEN_NAME_MAX + 1];
    char hint[TOKEN_HINT_MAX];
    scope_set scopes;
    int64_t created_at;
    int64_t updated_at;
    int64_t last_used_at; /* 0: never */
    char last_used_addr[ADDR_MAX];
    int64_t expires_at;   /* 0: never */
    int64_t revoked_at;   /* 0: not revoked */
    char owner_email[EMAIL_MAX + 1];
} token_rec;

/* Derived from the record and now; the one definition of a token's status. */
token_status token_rec_status(const token_rec *t, int64_t now);
const char *token_status_name(token_status st); /* "active" "expired" "revoked" */

typedef struct token_new {
    int64_t user_id;
    const char *name;
    scope_set scopes;
    int64_t expires_at; /* 0: never */
    uint8_t digest[TOKEN_DIGEST_LEN];
    const char *hint;
} token_new;

/* team_id is the user's team. *out receives the stored record. */
piora_err store_token_insert(store_t *s, const token_new *t, token_rec *out);

/* The token whose current secret has this digest. A secret replaced by a
 * regeneration is still found, with revoked_at set to the time it was
 * replaced, so that it answers "revoked" rather than "invalid".
 * ENOTFOUND when no token ever had this digest. */
piora_err store_token_by_digest(store_t *s, const uint8_t digest[TOKEN_DIGEST_LEN],
                                token_rec *out);
piora_err store_token_by_id(store_t *s, int64_t id, token_rec *out);

/* Tokens of one user (user_id > 0) or of everyone (user_id == 0), ordered by
 * id; *out is malloc'd. */
piora_err store_token_list(store_t *s, int64_t user_id, token_rec **out, size_t *n);

/* Sets revoked_at = now unless already revoked (then OK, unchanged).
 * ENOTFOUND when there is no such token. */
piora_err store_token_revoke(store_t *s, int64_t id, int64_t now);

/* Replaces the secret of an active or expired, not revoked token: new
 * digest and hint, the old digest kept as revoked (see by_digest).
 * ENOTFOUND if missing, ECONFLICT if revoked. */
piora_err store_token_regenerate(store_t *s, int64_t id, const uint8_t digest[TOKEN_DIGEST_LEN],
                                 const char *hint, int64_t new_expires_at, int64_t now,
                                 token_rec *out);

typedef struct token_touch {
    int64_t token_id;
    int64_t used_at;
    char addr[ADDR_MAX];
} token_touch;

/* Writes a batch of last-used times in one transaction; a row's time only
 * moves forward. */
piora_err store_token_touch(store_t *s, const token_touch *v, size_t n);

/* ---- resources (servers, applications, databases, deployments, backups) --

 * Objects travel as jansson objects holding the descriptor's fields plus
 * "id", "created_at" and "updated_at" (times as RFC 3339 strings, FK_TIME
 * fields likewise or null). Returned objects are new references. */

typedef struct obj_filter {
    const char *field; /* an FK_REF field of the descriptor, or NULL */
    int64_t value;
} obj_filter;

/* One page, ordered by id; *items is a new JSON array, *total the number of
 * objects matching the filter. */
piora_err store_obj_list(store_t *s, const resource_desc *d, int64_t team_id,
                         const obj_filter *f, int64_t offset, int64_t limit, json_t **items,
                         int64_t *total);
piora_err store_obj_get(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                        json_t **obj);
/* values: the output of validate_object (every column to write). FK_REF
 * values must name an object of the same team, else EINVALID. */
piora_err store_obj_create(store_t *s, const resource_desc *d, int64_t team_id,
                           const json_t *values, json_t **obj);
/* values: a subset of the writable columns. ENOTFOUND if missing. */
piora_err store_obj_update(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                           const json_t *values, json_t **obj);
/* ECONFLICT when other objects still refer to it (a server with
 * applications or databases); deployments go with their application,
 * backups (and restores) with their database. */
piora_err store_obj_delete(store_t *s, const resource_desc *d, int64_t team_id, int64_t id);

/* ---- monitoring: the audit log and the usage log (SPEC 6) ------------- */

/* One audit entry as stored; core/audit.c maps its enums to these names.
 * Zero ids and NULL strings are stored as NULL. */
typedef struct audit_new {
    int64_t time;
    const char *action; /* "token.revoked", ... */
    const char *via;    /* "cli", "api", ... */
    int64_t team_id;
    int64_t actor_user_id;
    int64_t token_id;
    const char *token_name; /* the token's name when the entry was written */
    int64_t subject_user_id;
    const char *email;
    const char *addr;
} audit_new;

piora_err store_audit_insert(store_t *s, const audit_new *e);

#define AUDIT_WORD_MAX 31 /* an action or channel name: "token.regenerated" */

/* One audit entry as read back. Absent ids are 0 and absent strings empty. */
typedef struct audit_row {
    int64_t id;
    int64_t time;
    char action[AUDIT_WORD_MAX + 1];
    char via[AUDIT_WORD_MAX + 1];
    int64_t team_id;
    int64_t actor_user_id;
    char actor_email[EMAIL_MAX + 1]; /* the actor's current email, if they still exist */
    int64_t token_id;
    char token_name[TOKEN_NAME_MAX + 1];
    int64_t subject_user_id;
    char email[EMAIL_MAX + 1];
    char addr[ADDR_MAX];
} audit_row;

/* Newest first. team_id 0: every team. email (may be NULL): only entries
 * whose email, actor or subject user has this email (case-insensitive).
 * *rows: a new array of *n entries (free() it), *total: all that match. */
piora_err store_audit_list(store_t *s, int64_t team_id, const char *email, int64_t offset,
                           int64_t limit, audit_row **rows, size_t *n, int64_t *total);

#define USAGE_METHOD_MAX 8
#define USAGE_PATH_MAX 512 /* longer paths are cut (on a character boundary) */
#define USAGE_UA_MAX 256

/* One request of one token, as the usage queue holds it. Strings are valid
 * UTF-8 without control characters (the queue cleans them). */
typedef struct usage_entry {
    int64_t token_id;
    int64_t time;
    int status;
    char method[USAGE_METHOD_MAX];
    char path[USAGE_PATH_MAX];
    char addr[ADDR_MAX];
    char user_agent[USAGE_UA_MAX];
    int64_t count; /* identical requests in this second this row stands for; 0 means 1 */
} usage_entry;

/* Writes a batch in one transaction. */
piora_err store_usage_insert(store_t *s, const usage_entry *v, size_t n);

/* Newest first; since 0 / status 0: no bound. *items: a new JSON array of
 * {time, method, path, status, addr, user_agent, count} (time RFC 3339;
 * count >= 1 identical requests in that second). *total counts rows. */
piora_err store_usage_list(store_t *s, int64_t token_id, int64_t since, int status,
                           int64_t offset, int64_t limit, json_t **items, int64_t *total);

/* Retention: deletes rows older than `before` (0: none), and for each of
 * the n token ids (or every token when token_ids is NULL) all but the
 * newest max_rows rows (max_rows 0: no cap). *deleted (may be NULL) gets
 * the number of rows removed. */
piora_err store_usage_prune(store_t *s, int64_t before, int64_t max_rows,
                            const int64_t *token_ids, size_t n, int64_t *deleted);

/* ---- dashboard sessions and first-run setup (web/) --------------------- */

#define SESSION_DIGEST_LEN 32 /* SHA-256 of the session id / setup secret */
#define CSRF_TOKEN_MAX 64

typedef struct session_rec {
    int64_t id;
    int64_t user_id;
    char csrf[CSRF_TOKEN_MAX + 1];
    int64_t created_at;
    int64_t last_seen_at;
    int64_t expires_at; /* the absolute end; idle expiry is the caller's rule */
} session_rec;

/* Stores a new session under the digest of its id. Session writes do not
 * bump store_generation(): no cache depends on them. */
piora_err store_session_insert(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN],
                               int64_t user_id, const char *csrf, int64_t now,
                               int64_t expires_at, const char *addr, session_rec *out);
/* ENOTFOUND when no session has this digest. */
piora_err store_session_by_digest(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN],
                                  session_rec *out);
piora_err store_session_touch(store_t *s, int64_t id, int64_t now);
piora_err store_session_delete(store_t *s, int64_t id);
/* Deletes every session of the user except keep_id (0: all of them). */
piora_err store_session_delete_user(store_t *s, int64_t user_id, int64_t keep_id);
/* Deletes sessions past their absolute end or idle since idle_before. */
piora_err store_session_prune(store_t *s, int64_t now, int64_t idle_before);

/* Replaces any unused setup secret with this one. */
piora_err store_setup_put(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], int64_t now);
/* OK when this secret exists, is unused and no user exists yet; else
 * ENOTFOUND. */
piora_err store_setup_check(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN]);
/* In one transaction: marks the secret used (ENOTFOUND when it is unknown
 * or used, or when a user exists already), creates the team and its first
 * user as an admin. ECONFLICT never happens on an empty database. */
piora_err store_setup_complete(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN],
                               const char *email, const char *team_name,
                               const char *password_hash, int64_t now, user_rec *out);

#endif
