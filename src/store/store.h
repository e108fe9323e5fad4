/* The one storage interface. Handlers and the CLI call these functions and
 * never see SQL or JSON: every function takes and returns typed records,
 * and core/ renders them (core/objects.c, core/usage.c) once for every
 * backend. Each backend (store/sqlite/ now, store/postgres/ later) builds
 * its statements with store/sql/ and binds every value.
 *
 * The functions themselves are declared once, in store/store_fns.h (their
 * doc comments are there); this header holds the record types and the
 * connection functions that do not go through a backend's table.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/grant.h"
#include "auth/scopes.h"
#include "auth/sshkey.h"
#include "auth/token.h"
#include "schema/model.h"
#include "schema/row.h"
#include "store/change.h" /* change detection: generations per kind of write */
#include "util/err.h"

typedef struct store store_t;

#define EMAIL_MAX 254
#define TEAM_NAME_MAX 64
#define TOKEN_NAME_MAX 100
#define TOKEN_NOTE_MAX 500 /* bytes of a token's note (issue 13) */
#define ADDR_MAX 64 /* textual client address */

/* ---- connections ------------------------------------------------------ */

/* url: a SQLite file path (created on first open) or a postgres:// or
 * postgresql:// URL (any URI libpq reads). Runs pending migrations. On
 * failure returns NULL and, if msg is given, writes a one-line reason. */
store_t *store_open(const char *url, char *msg, size_t msglen);
/* As store_open(), but never makes a new database (SPEC 7: only serve and
 * user add do): a PostgreSQL database whose schema was never migrated is
 * refused with a message saying so. A SQLite file is opened as by
 * store_open() (cli/ refuses a missing file before, naming its path). */
store_t *store_open_existing(const char *url, char *msg, size_t msglen);
void store_close(store_t *s);

/* The calling thread's connection to the URL given to store_thread_init(),
 * opened on first use and closed by store_thread_release() or at exit.
 * Returns NULL (and logs) when it cannot be opened. */
void store_thread_init(const char *url);
store_t *store_thread(void);
void store_thread_release(void);

/* Whether the store at url is reached over the network (postgres://), so
 * that any call may wait on a round trip (milliseconds, or seconds while
 * the database is unreachable): then the HTTP polling threads hand every
 * step that needs the store to a pool (http/pipeline.c). SQLite is local:
 * false, unless the process was started with PIORA_TEST_STORE_REMOTE=1
 * (tests and bench/offload.sh only; with PIORA_TEST_STORE_DELAY_MS=N every
 * store function then also sleeps N ms first, 0-10000). */
bool store_is_remote(const char *url);

/* change_poll() for a thread that must not wait on the network (an HTTP
 * polling thread): true when this process's generations are now as
 * current as change_poll() on a connection would leave them, without a
 * round trip; false when only a connection that may wait can tell (the
 * caller then trusts no cache here and hands the request on). SQLite:
 * change_poll() on the thread's connection (a local file, never delayed).
 * PostgreSQL: what the backend registered with store_set_change_nowait()
 * (a listener that keeps the generations current), false until it does. */
bool store_change_poll_nowait(void);
/* Cluster mode: a serving process's change-feed listener (PostgreSQL: one
 * LISTEN connection in its own thread, store/postgres/pg_listen.c), which
 * lets hot tokens stay cached while every node still honours a revocation
 * at once. A no-op for SQLite. Never waits for the database: false only
 * when the listener cannot be started at all (msg says why). The CLI does
 * not call it: its connections read the feed from the database. */
bool store_feed_start(const char *url, char *msg, size_t msglen);
/* Stops the listener and withdraws this node from the revocation acks. */
void store_feed_stop(void);

/* The listener as /metrics shows it; all zero without one (SQLite). */
typedef struct store_feed_stats {
    bool running;
    bool healthy;        /* confirmed within the health window (500 ms) */
    uint64_t reconnects; /* connections re-established after the first */
    uint64_t notifies;   /* change notifications received */
} store_feed_stats;
void store_feed_get_stats(store_feed_stats *out);


/* ---- teams and users --------------------------------------------------- */

typedef struct user_rec {
    int64_t id;
    int64_t team_id;
    char email[EMAIL_MAX + 1];
    char team_name[TEAM_NAME_MAX + 1];
    bool is_admin;
    int64_t created_at;
    int64_t disabled_at; /* 0: may sign in (issue 13: offboarding) */
    int64_t removed_at;  /* 0: a member; else removed from the team (and disabled) */
    bool totp_on;        /* two-factor sign-in enrolled */
    bool team_requires_2fa;
} user_rec;

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
    token_grant resources; /* SPEC 11: not limited = every object of the team */
    token_addrs allowed_ips; /* SPEC 11: not limited = from anywhere */
    char note[TOKEN_NOTE_MAX + 1]; /* "": none */
    int64_t regenerated_at; /* 0: the secret was never replaced */
    int64_t hidden_at;      /* 0: listed; else removed from the lists (still found by id/digest) */
} token_rec;

/* Derived from the record and now; the one definition of a token's status.
 * A rule on the record alone, the same for every backend (store_common.c):
 * it stays beside the record rather than in core/ so that the CLI, the
 * dashboard and the token pipeline read one definition. */
token_status token_rec_status(const token_rec *t, int64_t now);
const char *token_status_name(token_status st); /* "active" "expired" "revoked" */

typedef struct token_new {
    int64_t user_id;
    const char *name;
    scope_set scopes;
    int64_t expires_at; /* 0: never */
    uint8_t digest[TOKEN_DIGEST_LEN];
    const char *hint;
    const token_grant *resources;   /* NULL or not limited: every object */
    const token_addrs *allowed_ips; /* NULL or not limited: no address rule */
    const char *note; /* NULL or "": none; core validated it */
} token_new;

typedef struct token_touch {
    int64_t token_id;
    int64_t used_at;
    char addr[ADDR_MAX];
} token_touch;

/* ---- objects: rows are obj_row / obj_values (schema/row.h) ------------- */

/* A list filter: objects whose FK_REF field equals value, and (SPEC 11)
 * only those a resource-limited token reaches. */
typedef struct obj_filter {
    const char *field; /* an FK_REF field of the descriptor, or NULL */
    int64_t value;
    const token_grant *grant; /* NULL or not limited: no limit */
} obj_filter;

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
    const char *detail; /* words for the entry (a failed exchange's reason, ...); may be NULL */
    const char *object_kind; /* "backup", "restore", "database"; NULL: none */
    int64_t object_id;
} audit_new;

#define AUDIT_DETAIL_MAX 1023

/* A database with a backup schedule, as the scheduler reads it. */
#define BACKUP_SCHEDULE_MAX 255
typedef struct backup_sched_row {
    int64_t database_id;
    int64_t team_id;
    int64_t keep;
    char schedule[BACKUP_SCHEDULE_MAX + 1];
} backup_sched_row;

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
    char detail[AUDIT_DETAIL_MAX + 1];
    char object_kind[AUDIT_WORD_MAX + 1]; /* empty: the entry names no object */
    int64_t object_id;
} audit_row;


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
    int64_t auth_at;    /* the last password check: sign-in or re-authentication (sudo) */
    bool mfa_pending;   /* between the password and the second factor: not signed in */
} session_rec;

/* ---- invitations (issue 13) ------------------------------------------- */

typedef struct invite_rec {
    int64_t id;
    int64_t team_id;
    char email[EMAIL_MAX + 1];
    bool is_admin;
    int64_t invited_by; /* the admin's user id, 0 from the CLI */
    int64_t created_at;
    int64_t expires_at;
    char team_name[TEAM_NAME_MAX + 1];
} invite_rec;
/* ---- trusted publishers (SPEC 12, issue 14) ---------------------------- */

#define PUBLISHER_NAME_MAX 64
#define OIDC_URL_MAX 255      /* an issuer URL */
#define OIDC_AUDIENCE_MAX 255
#define OIDC_CLAIMS_MAX 2047  /* the "key=value" lines of claim conditions */
#define OIDC_GLOB_MAX 255
#define OIDC_RESOURCES_MAX 1023
#define OIDC_JTI_MAX 255

typedef struct publisher_new {
    int64_t user_id; /* the admin who registers it: minted tokens act as them, in their team */
    const char *name;
    const char *issuer;
    const char *audience;
    const char *claims;    /* "key=value\n..." (core/publishers.c); may be empty */
    const char *ref_glob;  /* NULL: any ref */
    scope_set scopes;
    const char *resources; /* NULL: every object of the team */
} publisher_new;

typedef struct publisher_rec {
    int64_t id;
    int64_t team_id;
    int64_t user_id;
    char name[PUBLISHER_NAME_MAX + 1];
    char issuer[OIDC_URL_MAX + 1];
    char audience[OIDC_AUDIENCE_MAX + 1];
    char claims[OIDC_CLAIMS_MAX + 1];
    char ref_glob[OIDC_GLOB_MAX + 1]; /* empty: any */
    scope_set scopes;
    char resources[OIDC_RESOURCES_MAX + 1]; /* empty: all */
    int64_t created_at;
    char owner_email[EMAIL_MAX + 1];
} publisher_rec;
/* A team's SSH key pair as stored: the private key sealed with the master
 * key (auth/sshkey.h), never in plain. */
typedef struct sshkey_rec {
    int64_t id;
    int64_t team_id;
    bool is_current;
    char public_key[SSHKEY_PUBLIC_MAX];
    char fingerprint[SSHKEY_FP_MAX];
    uint8_t sealed[SSHKEY_SEALED_MAX];
    size_t sealed_len;
    int64_t created_at;
} sshkey_rec;

/* ---- the job runner (issue 9): deployments as jobs -------------------- */

#define DEPLOY_REF_MAX 255
#define JOB_ERROR_MAX 31 /* "host_key_mismatch" */
#define JOB_OWNER_MAX 32 /* a runner's lease id: hex */

/* Who queued a job (SPEC 10 triggered_by): type "token", "user" or
 * "schedule". */
typedef struct job_trigger {
    const char *type;
    int64_t id;
    const char *name;
} job_trigger;

/* A deployment the runner claimed, with what it needs to run it. */
typedef struct deploy_claim {
    int64_t id;
    int64_t team_id;
    int64_t application_id;
    int64_t server_id;
    char ref[DEPLOY_REF_MAX + 1];
    char repository[513];
    char *script; /* malloc'd (free()); NULL when the application has none */
    char host[46];
    unsigned port;
    char user[33];
    char host_key[64]; /* pinned fingerprint, "" when none */
} deploy_claim;

/* What POST /deployments/{id}/cancel found. */
typedef enum deploy_cancel_outcome {
    DEPLOY_CANCELLED_NOW,   /* it was queued: cancelled at once */
    DEPLOY_CANCEL_ASKED,    /* it is running: its runner stops it */
    DEPLOY_CANCEL_FINISHED  /* it had ended already: nothing changed */
} deploy_cancel_outcome;

/* ---- backup jobs (issue 11): backups and restores run by the runner ---- */

typedef enum bjob_kind { BJOB_BACKUP, BJOB_RESTORE } bjob_kind;

/* A backup or a restore the runner claimed, with what it needs to run it:
 * the database it dumps (a restore: the target it replaces) and that
 * database's server. */
typedef struct bjob_claim {
    bjob_kind kind;
    int64_t id;          /* the backup's or the restore's */
    int64_t team_id;
    int64_t server_id;
    int64_t backup_id;   /* the backup written or restored */
    int64_t database_id; /* dumped, or the restore's target */
    char engine[16];
    char name[65];        /* that database's name */
    char db_host[256];    /* "" : the local socket */
    int64_t db_port;      /* 0: the engine's default */
    char db_user[64];     /* "" : the server's ssh_user */
    char source_name[65]; /* a restore: the name of the database backed up */
    char sha256[65];      /* a restore: the backup's recorded SHA-256 */
    char host[46];        /* the server's address, port, user, pinned key */
    unsigned port;
    char user[33];
    char host_key[64];
    bool scheduled;       /* a backup queued by its database's schedule */
} bjob_claim;

/* Every store function: ret store_<name>(params), from store_fns.h. */
#define STORE_FN(ret, name, params, args) ret store_##name params;
#include "store/store_fns.h"

#endif
