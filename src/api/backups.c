/* Backups: jobs on a database. Creating one or asking for a restore queues
 * work for the job runner and answers 202 with the pending job. */
#include "api/api.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/audit.h"
#include "core/backupjobs.h"
#include "core/backupstore.h"
#include "core/dumpcmd.h"
#include "core/objects.h"
#include "http/response.h"
#include "util/log.h"
#include "util/num.h"

/* A job list with its one optional ?FIELD=N filter (database_id for
 * backups, backup_id for restores); an id of another team's object simply
 * has nothing visible to this one (an empty list, not an error). */
static void list_filtered(req_t *r, const resource_desc *d, const char *field)
{
    const char *q = req_query(r, field);
    if (!q) {
        api_list(r, d, NULL, "");
        return;
    }
    obj_filter f = {.field = field};
    if (!num_parse_i64(q, 1, INT64_MAX, &f.value)) {
        verrs errs = {0};
        verrs_add(&errs, field, "must be a positive integer");
        /* report bad paging too, in the same answer */
        page_req p;
        paging_parse(req_query(r, "page"), req_query(r, "per_page"), &p, &errs);
        resp_validation(r, &errs);
        return;
    }
    char extra[48];
    snprintf(extra, sizeof extra, "%s=%lld", field, (long long)f.value);
    api_list(r, d, &f, extra);
}

void backups_list(req_t *r) { list_filtered(r, &RES_BACKUPS, "database_id"); }

void backups_get(req_t *r) { api_get(r, &RES_BACKUPS); }

static void note(req_t *r, audit_action action, const char *kind, int64_t id)
{
    actor who = api_actor(r);
    audit_event ev = {.action = action, .team_id = r->who->team_id, .object_kind = kind,
                      .object_id = id};
    audit_record(r->store, &who, &ev);
}

static int64_t id_of(const json_t *obj) { return (int64_t)json_integer_value(json_object_get(obj, "id")); }

void databases_note_schedule(req_t *r, const json_t *values, const json_t *obj, bool create)
{
    const json_t *sched = json_object_get(values, "backup_schedule");
    bool changed = create ? (sched && !json_is_null(sched))
                          : (sched || json_object_get(values, "backup_keep"));
    if (changed)
        note(r, AUDIT_SCHEDULE_CHANGED, "database", id_of(obj));
}

void backups_create(req_t *r)
{
    json_t *values = api_body_values(r, &RES_BACKUPS, true);
    if (!values)
        return;
    json_t *obj = NULL;
    actor who = api_actor(r);
    int64_t db = (int64_t)json_integer_value(json_object_get(values, "database_id"));
    piora_err e = backupjobs_queue_backup(r->store, &who, r->who->team_id, db, &obj);
    if (e == PIORA_ETOOBIG) {
        json_decref(values);
        resp_problem(r, 429, "queue_full",
                     "too many jobs wait for this database's server; try again later", NULL);
        return;
    }
    if (e != PIORA_OK) {
        /* no such database of the team: the 422 on database_id */
        api_store_error(r, e == PIORA_ENOTFOUND ? PIORA_EINVALID : e, &RES_BACKUPS, values);
        json_decref(values);
        return;
    }
    json_decref(values);
    note(r, AUDIT_BACKUP_QUEUED, "backup", id_of(obj));
    api_location(r, RES_BACKUPS.name, obj);
    resp_json(r, 202, obj);
}

piora_err backups_of_database(req_t *r, int64_t db, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    obj_filter f = {.field = "database_id", .value = db};
    size_t cap = 0;
    for (int64_t offset = 0;; offset += 100) {
        json_t *items = NULL;
        int64_t total = 0;
        piora_err e = objects_list(r->store, &RES_BACKUPS, r->who->team_id, &f, offset, 100,
                                   &items, &total);
        if (e != PIORA_OK) {
            free(*ids);
            *ids = NULL;
            *n = 0;
            return e;
        }
        size_t got = json_array_size(items);
        if (*n + got > cap) {
            size_t ncap = cap ? cap * 2 : 128;
            while (ncap < *n + got)
                ncap *= 2;
            int64_t *grown = realloc(*ids, ncap * sizeof **ids);
            if (!grown) {
                json_decref(items);
                free(*ids);
                *ids = NULL;
                *n = 0;
                return PIORA_ENOMEM;
            }
            *ids = grown;
            cap = ncap;
        }
        for (size_t i = 0; i < got; i++)
            (*ids)[(*n)++] = id_of(json_array_get(items, i));
        json_decref(items);
        if (got < 100 || offset + 100 >= total)
            return PIORA_OK;
    }
}

void backups_remove_files(const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char path[BACKUPSTORE_PATH_MAX];
        if (backupstore_path(backupstore_dir(), ids[i], BACKUP_FILE_SUFFIX, path) == PIORA_OK &&
            backupstore_remove(path) != PIORA_OK)
            log_warn("backup %lld: deleted, but its file could not be removed",
                     (long long)ids[i]);
    }
}

/* The row first, then its file: a file no row points at is not a backup
 * (a missing file is no error: a failed backup never had one). */
void backups_delete(req_t *r)
{
    piora_err e = objects_delete(r->store, &RES_BACKUPS, r->who->team_id, r->id);
    if (e != PIORA_OK) {
        api_store_error(r, e, &RES_BACKUPS, NULL);
        return;
    }
    backups_remove_files(&r->id, 1);
    resp_empty(r, 204);
}

/* The restore's target from the optional body {"database_id": N}: the
 * backup's own database by default, else another of the team with the same
 * engine. Answers and returns 0 when the body or the target is refused. */
static int64_t restore_target_or_answer(req_t *r, int64_t own_db, const char *engine)
{
    int64_t target = own_db;
    if (r->body && r->body_len) {
        json_t *body = req_json_body(r);
        if (!body)
            return 0;
        verrs errs = {0};
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v) {
            if (strcmp(k, "database_id") != 0)
                verrs_add(&errs, k, "is not a field of a restore request");
            else if (!json_is_integer(v) || json_integer_value(v) < 1)
                verrs_add(&errs, k, "must be a positive integer id");
            else
                target = (int64_t)json_integer_value(v);
        }
        if (!json_is_object(body))
            verrs_add(&errs, "", "the body must be a JSON object");
        json_decref(body);
        if (errs.n) {
            resp_validation(r, &errs);
            return 0;
        }
    }
    json_t *db = NULL;
    piora_err e = objects_get(r->store, &RES_DATABASES, r->who->team_id, target, &db);
    if (e != PIORA_OK || strcmp(json_string_value(json_object_get(db, "engine")), engine) != 0) {
        json_decref(db);
        if (e != PIORA_OK && e != PIORA_ENOTFOUND) {
            resp_error(r, e, NULL);
            return 0;
        }
        verrs errs = {0};
        verrs_add(&errs, "database_id", "must be a database of your team with engine %s", engine);
        resp_validation(r, &errs);
        return 0;
    }
    json_decref(db);
    return target;
}

/* Queues a restore of a completed backup into its database or another of
 * the same engine and team, and answers the restore job (202, Location).
 * Redis is refused: an RDB file is loaded only by redis-server itself, from
 * its data directory at start (docs/backups.md says how by hand). */
void backups_restore(req_t *r)
{
    json_t *backup = NULL;
    piora_err e = objects_get(r->store, &RES_BACKUPS, r->who->team_id, r->id, &backup);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    const char *status = json_string_value(json_object_get(backup, "status"));
    int64_t own_db = (int64_t)json_integer_value(json_object_get(backup, "database_id"));
    bool completed = status && strcmp(status, "completed") == 0;
    json_decref(backup);
    if (!completed) {
        resp_problem(r, 409, "backup_not_completed",
                     "Only a completed backup can be restored; this one is not.", NULL);
        return;
    }
    json_t *own = NULL;
    e = objects_get(r->store, &RES_DATABASES, r->who->team_id, own_db, &own);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    char engine[16];
    snprintf(engine, sizeof engine, "%s", json_string_value(json_object_get(own, "engine")));
    json_decref(own);
    if (strcmp(engine, "redis") == 0) {
        resp_problem(r, 409, "restore_unsupported",
                     "Redis loads a backup only from its data directory when it starts: download "
                     "the backup and follow docs/backups.md.",
                     NULL);
        return;
    }
    int64_t target = restore_target_or_answer(r, own_db, engine);
    if (!target)
        return;
    json_t *job = NULL;
    actor who = api_actor(r);
    e = backupjobs_queue_restore(r->store, &who, r->who->team_id, r->id, target, &job);
    if (e == PIORA_ETOOBIG) {
        resp_problem(r, 429, "queue_full",
                     "too many jobs wait for the target database's server; try again later",
                     NULL);
        return;
    }
    if (e != PIORA_OK) { /* ENOTFOUND: the backup or the target went away meanwhile */
        api_store_error(r, e, NULL, NULL);
        return;
    }
    note(r, AUDIT_RESTORE_QUEUED, "restore", id_of(job));
    api_location(r, RES_RESTORES.name, job);
    resp_json(r, 202, job);
}

void restores_get(req_t *r) { api_get(r, &RES_RESTORES); }

void restores_list(req_t *r) { list_filtered(r, &RES_RESTORES, "backup_id"); }

static void job_cancel(req_t *r, bjob_kind kind)
{
    actor who = api_actor(r);
    deploy_cancel_outcome how;
    json_t *obj = NULL;
    piora_err e = backupjobs_cancel(r->store, &who, kind, r->who->team_id, r->id, &how, &obj);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    resp_json(r, 200, obj);
}

void backups_cancel(req_t *r) { job_cancel(r, BJOB_BACKUP); }

void restores_cancel(req_t *r) { job_cancel(r, BJOB_RESTORE); }

/* SPEC 10's job log: text/plain from ?offset=N, X-Log-Complete. */
static void job_log(req_t *r, bjob_kind kind)
{
    int64_t offset = 0;
    const char *q = req_query(r, "offset");
    if (q && !num_parse_i64(q, 0, INT64_MAX, &offset)) {
        verrs errs = {0};
        verrs_add(&errs, "offset", "must be a non-negative integer");
        resp_validation(r, &errs);
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    bool complete = false;
    piora_err e = backupjobs_log(r->store, kind, r->who->team_id, r->id, offset, &buf, &len,
                                 &complete);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    resp_header(r, "X-Log-Complete", complete ? "true" : "false");
    resp_header(r, "Cache-Control", "no-store");
    resp_raw(r, 200, "text/plain; charset=utf-8", buf, len);
    free(buf);
}

void backups_log(req_t *r) { job_log(r, BJOB_BACKUP); }

void restores_log(req_t *r) { job_log(r, BJOB_RESTORE); }

/* The stored dump, streamed from its file (bounded memory whatever its size),
 * with the SHA-256 recorded when it was written: Digest (RFC 3230, base64 of
 * the digest) and ETag (its hex). Only a completed backup has a file; one
 * whose file is gone or differs in size from the record answers 410 rather
 * than bytes that are not the backup. */
void backups_download(req_t *r)
{
    json_t *b = NULL;
    piora_err e = objects_get(r->store, &RES_BACKUPS, r->who->team_id, r->id, &b);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    const char *status = json_string_value(json_object_get(b, "status"));
    const char *sha = json_string_value(json_object_get(b, "sha256"));
    json_int_t size = json_integer_value(json_object_get(b, "size_bytes"));
    json_int_t db_id = json_integer_value(json_object_get(b, "database_id"));
    if (!status || strcmp(status, "completed") != 0 || !sha || strlen(sha) != 64) {
        json_decref(b);
        resp_problem(r, 409, "backup_not_completed",
                     "Only a completed backup can be downloaded; this one is not.", NULL);
        return;
    }
    char path[BACKUPSTORE_PATH_MAX];
    int fd = -1;
    struct stat st;
    if (backupstore_path(backupstore_dir(), r->id, BACKUP_FILE_SUFFIX, path) == PIORA_OK)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != (off_t)size) {
        if (fd >= 0)
            close(fd);
        log_error("backup %lld: its stored file is missing or has another size",
                  (long long)r->id);
        json_decref(b);
        resp_problem(r, 410, "backup_file_missing",
                     "The backup's file is no longer in the backup store.", NULL);
        return;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    char digest_b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
                                              sodium_base64_VARIANT_ORIGINAL)];
    char hv[128];
    if (sodium_hex2bin(digest, sizeof digest, sha, 64, NULL, NULL, NULL) != 0) {
        close(fd);
        json_decref(b);
        resp_error(r, PIORA_EINTERNAL, NULL);
        return;
    }
    sodium_bin2base64(digest_b64, sizeof digest_b64, digest, sizeof digest,
                      sodium_base64_VARIANT_ORIGINAL);
    /* the name says what the file is: the engine's usual suffix */
    json_t *db = NULL;
    const char *suffix = "";
    if (objects_get(r->store, &RES_DATABASES, r->who->team_id, db_id, &db) == PIORA_OK)
        suffix = dumpcmd_suffix(json_string_value(json_object_get(db, "engine")));
    snprintf(hv, sizeof hv, "sha-256=%s", digest_b64);
    resp_header(r, "Digest", hv);
    snprintf(hv, sizeof hv, "\"%s\"", sha);
    resp_header(r, "ETag", hv);
    snprintf(hv, sizeof hv, "attachment; filename=\"backup-%lld%s\"", (long long)r->id, suffix);
    resp_header(r, "Content-Disposition", hv);
    resp_header(r, "Cache-Control", "no-store");
    json_decref(db);
    json_decref(b);
    note(r, AUDIT_BACKUP_DOWNLOADED, "backup", r->id);
    resp_file(r, 200, "application/octet-stream", fd, (uint64_t)st.st_size);
}
