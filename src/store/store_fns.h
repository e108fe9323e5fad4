/* Every store function, declared once. Each entry is
 *   STORE_FN(return type, name, (parameters), (arguments))
 * and the includer defines STORE_FN to make of it what it needs:
 *   store.h          the public declaration  ret store_<name>(params);
 *   store_backend.h  the ops member          ret (*<name>)(params);
 *   store_common.c   the forwarder           store_<name>() -> s->ops-><name>()
 *   sqlite/          the backend's functions sq_<name>() and its ops table
 * so adding a function is one entry here plus its implementation in each
 * backend. The first parameter is always the connection `s`. This file has
 * no include guard on purpose and undefines STORE_FN at its end.
 *
 * Rules every backend keeps: bound parameters only; a row of another team
 * answers PIORA_ENOTFOUND exactly as a missing one; strings returned in
 * fixed buffers are cut, never overrun; arrays returned through **out are
 * malloc'd (free() them, obj_rows_free() for objects) and NULL with *n 0 on
 * failure. */

/* ---- connection ---------------------------------------------------------- */

/* Answers PIORA_OK when the database answers a trivial query (readiness). */
STORE_FN(piora_err, ping, (store_t *s), (s))
/* The schema version after migrations (the highest applied number). */
STORE_FN(int, schema_version, (store_t *s), (s))

/* ---- users --------------------------------------------------------------- */

/* Creates the user, and the team named team_name if it does not exist yet
 * (else the user joins it). ECONFLICT when the email is taken. Emails are
 * compared case-insensitively (stored lower-cased by the caller). */
STORE_FN(piora_err, user_create,
         (store_t *s, const char *email, const char *team_name, bool is_admin,
          const char *password_hash, user_rec *out),
         (s, email, team_name, is_admin, password_hash, out))
STORE_FN(piora_err, user_by_email, (store_t *s, const char *email, user_rec *out),
         (s, email, out))
STORE_FN(piora_err, user_by_id, (store_t *s, int64_t id, user_rec *out), (s, id, out))
/* The Argon2id string of the user's password. */
STORE_FN(piora_err, user_password_hash, (store_t *s, int64_t user_id, char *out, size_t outlen),
         (s, user_id, out, outlen))
STORE_FN(piora_err, user_set_password, (store_t *s, int64_t user_id, const char *password_hash),
         (s, user_id, password_hash))
/* All users ordered by id; *out is malloc'd (free()), *n its length. */
STORE_FN(piora_err, user_list, (store_t *s, user_rec **out, size_t *n), (s, out, n))
STORE_FN(piora_err, user_count, (store_t *s, int64_t *n), (s, n))

/* ---- tokens -------------------------------------------------------------- */

/* team_id is the user's team. *out receives the stored record. */
STORE_FN(piora_err, token_insert, (store_t *s, const token_new *t, token_rec *out), (s, t, out))
/* The token whose current secret has this digest. A secret replaced by a
 * regeneration is still found, with revoked_at set to the time it was
 * replaced, so that it answers "revoked" rather than "invalid".
 * ENOTFOUND when no token ever had this digest. */
STORE_FN(piora_err, token_by_digest,
         (store_t *s, const uint8_t digest[TOKEN_DIGEST_LEN], token_rec *out), (s, digest, out))
STORE_FN(piora_err, token_by_id, (store_t *s, int64_t id, token_rec *out), (s, id, out))
/* Tokens of one user (user_id > 0) or of everyone (user_id == 0), ordered by
 * id; *out is malloc'd. */
STORE_FN(piora_err, token_list, (store_t *s, int64_t user_id, token_rec **out, size_t *n),
         (s, user_id, out, n))
/* Sets revoked_at = now unless already revoked (then OK, unchanged).
 * ENOTFOUND when there is no such token. */
STORE_FN(piora_err, token_revoke, (store_t *s, int64_t id, int64_t now), (s, id, now))
/* Replaces the secret of an active or expired, not revoked token: new
 * digest and hint, the old digest kept as revoked (see by_digest).
 * ENOTFOUND if missing, ECONFLICT if revoked. */
STORE_FN(piora_err, token_regenerate,
         (store_t *s, int64_t id, const uint8_t digest[TOKEN_DIGEST_LEN], const char *hint,
          int64_t new_expires_at, int64_t now, token_rec *out),
         (s, id, digest, hint, new_expires_at, now, out))
/* Writes a batch of last-used times in one transaction; a row's time only
 * moves forward. n == 0 is OK and touches nothing. */
STORE_FN(piora_err, token_touch, (store_t *s, const token_touch *v, size_t n), (s, v, n))

/* ---- objects (servers, applications, databases, deployments, backups,
 * restores), driven by their descriptors (schema/model.c) ----------------- */

/* One page ordered by id: *rows (malloc'd, obj_rows_free()) holds *n rows,
 * *total the number of objects matching the filter; both from one
 * snapshot. EINVALID for a negative offset or limit, or a filter the
 * descriptor does not list. */
STORE_FN(piora_err, obj_list,
         (store_t *s, const resource_desc *d, int64_t team_id, const obj_filter *f,
          int64_t offset, int64_t limit, obj_row **rows, size_t *n, int64_t *total),
         (s, d, team_id, f, offset, limit, rows, n, total))
/* *out (obj_row_clear() it) is the object; ENOTFOUND if missing. */
STORE_FN(piora_err, obj_get,
         (store_t *s, const resource_desc *d, int64_t team_id, int64_t id, obj_row *out),
         (s, d, team_id, id, out))
/* values: every column to write (absent ones get the descriptor's default,
 * else NULL). A value of the wrong kind, out of range or not one of an
 * enum's words is EINVALID (core validated it already; the store keeps its
 * own bounds for every caller). FK_REF values must name an object of the
 * same team, else EINVALID. *out is the stored object. */
STORE_FN(piora_err, obj_create,
         (store_t *s, const resource_desc *d, int64_t team_id, const obj_values *values,
          obj_row *out),
         (s, d, team_id, values, out))
/* values: the columns to change (OV_ABSENT ones are kept). ENOTFOUND if
 * missing, then as for create. */
STORE_FN(piora_err, obj_update,
         (store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
          const obj_values *values, obj_row *out),
         (s, d, team_id, id, values, out))
/* ECONFLICT when other objects still refer to it (a server with
 * applications or databases); deployments go with their application,
 * backups (and restores) with their database. */
STORE_FN(piora_err, obj_delete, (store_t *s, const resource_desc *d, int64_t team_id, int64_t id),
         (s, d, team_id, id))

/* ---- token notes, renames and tidy lists (issue 13, sqlite_token_notes.c) */

/* Core validated name and note. A token removed from the lists (hidden)
 * is ENOTFOUND here, as is a missing one. Each moves updated_at, never
 * the secret's age (regenerated_at). */
STORE_FN(piora_err, token_rename, (store_t *s, int64_t id, const char *name, int64_t now),
         (s, id, name, now))
/* note NULL or "": no note. */
STORE_FN(piora_err, token_set_note, (store_t *s, int64_t id, const char *note, int64_t now),
         (s, id, note, now))
/* Removes a revoked or expired (at now) token from token_list; by_id and
 * by_digest still find it, so its secrets answer "revoked" and the audit
 * log keeps its name. ECONFLICT: the token is active (revoke it first).
 * ENOTFOUND: missing or hidden already. */
STORE_FN(piora_err, token_hide, (store_t *s, int64_t id, int64_t now), (s, id, now))

/* ---- token limits (SPEC 11, issue 12): the parent chain of an object ---- */

/* The id of the object's parent in SPEC 11's chain (an application's or a
 * database's server, a deployment's application, a backup's database, a
 * restore's backup: the descriptor's first FK_REF field). ENOTFOUND when
 * the object is missing or another team's; EINVALID for a descriptor
 * without a parent (servers). Lists filter by obj_filter.grant. */
STORE_FN(piora_err, obj_parent,
         (store_t *s, const resource_desc *d, int64_t team_id, int64_t id, int64_t *parent_id),
         (s, d, team_id, id, parent_id))

/* ---- monitor: the audit log and the usage log (SPEC 6) ------------------- */

STORE_FN(piora_err, audit_insert, (store_t *s, const audit_new *e), (s, e))
/* Newest first. team_id 0: every team. email (may be NULL): only entries
 * whose email, actor or subject user has this email (case-insensitive).
 * *rows: a new array of *n entries (free() it), *total: all that match;
 * core/audit.c renders them. */
STORE_FN(piora_err, audit_list,
         (store_t *s, int64_t team_id, const char *email, int64_t offset, int64_t limit,
          audit_row **rows, size_t *n, int64_t *total),
         (s, team_id, email, offset, limit, rows, n, total))
/* Writes a batch in one transaction; n == 0 writes nothing. */
STORE_FN(piora_err, usage_insert, (store_t *s, const usage_entry *v, size_t n), (s, v, n))
/* One token's rows, newest first; since 0 / status 0: no bound. *rows
 * (malloc'd, free()) holds *n entries with count >= 1; *total counts every
 * matching row. */
STORE_FN(piora_err, usage_list,
         (store_t *s, int64_t token_id, int64_t since, int status, int64_t offset, int64_t limit,
          usage_entry **rows, size_t *n, int64_t *total),
         (s, token_id, since, status, offset, limit, rows, n, total))
/* Retention: deletes rows older than `before` (0: none), and for each of
 * the n token ids (or every token when token_ids is NULL) all but the
 * newest max_rows rows (max_rows 0: no cap), counting denied requests
 * (status 401, 403, 429) and the others apart: each keeps its own newest
 * max_rows, so a token's flood of good requests cannot flush the traces of
 * its misuse. *deleted (may be NULL) gets the number of rows removed. */
STORE_FN(piora_err, usage_prune,
         (store_t *s, int64_t before, int64_t max_rows, const int64_t *token_ids, size_t n,
          int64_t *deleted),
         (s, before, max_rows, token_ids, n, deleted))

/* ---- sessions: the dashboard's sessions and first-run setup (web/) ------- */

/* Stores a new session under the digest of its id. Session writes do not
 * are changes of kind CHANGE_SESSIONS only (change.h). */
STORE_FN(piora_err, session_insert,
         (store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], int64_t user_id, const char *csrf,
          int64_t now, int64_t expires_at, const char *addr, session_rec *out),
         (s, digest, user_id, csrf, now, expires_at, addr, out))
/* ENOTFOUND when no session has this digest. */
STORE_FN(piora_err, session_by_digest,
         (store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], session_rec *out),
         (s, digest, out))
STORE_FN(piora_err, session_touch, (store_t *s, int64_t id, int64_t now), (s, id, now))
STORE_FN(piora_err, session_delete, (store_t *s, int64_t id), (s, id))
/* Deletes every session of the user except keep_id (0: all of them). */
STORE_FN(piora_err, session_delete_user, (store_t *s, int64_t user_id, int64_t keep_id),
         (s, user_id, keep_id))
/* Deletes sessions past their absolute end or idle since idle_before. */
STORE_FN(piora_err, session_prune, (store_t *s, int64_t now, int64_t idle_before),
         (s, now, idle_before))
/* Replaces any unused setup secret with this one. */
STORE_FN(piora_err, setup_put, (store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], int64_t now),
         (s, digest, now))
/* OK when this secret exists, is unused and no user exists yet; else
 * ENOTFOUND. */
STORE_FN(piora_err, setup_check, (store_t *s, const uint8_t digest[SESSION_DIGEST_LEN]),
         (s, digest))
/* In one transaction: marks the secret used (ENOTFOUND when it is unknown
 * or used, or when a user exists already), creates the team and its first
 * user as an admin. ECONFLICT never happens on an empty database. */
STORE_FN(piora_err, setup_complete,
         (store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], const char *email,
          const char *team_name, const char *password_hash, int64_t now, user_rec *out),
         (s, digest, email, team_name, password_hash, now, out))

/* ---- team: offboarding, roles and invitations (issue 13) ---------------- */

/* In one transaction: marks the user disabled (and removed when remove),
 * revokes every token of theirs not yet revoked and deletes their
 * sessions; *revoked (may be NULL) gets the number of tokens revoked.
 * ENOTFOUND: no such user, or removed already. ECONFLICT: the user is the
 * team's last admin who may sign in (a team must keep one). Disabling a
 * disabled user again revokes nothing new and is OK. */
STORE_FN(piora_err, user_offboard,
         (store_t *s, int64_t user_id, bool remove, int64_t now, int64_t *revoked),
         (s, user_id, remove, now, revoked))
/* Lets a disabled (not removed) user sign in again; their tokens stay
 * revoked. ENOTFOUND: no such user, or removed. */
STORE_FN(piora_err, user_enable, (store_t *s, int64_t user_id), (s, user_id))
/* Makes the user an admin or a member. ENOTFOUND: no such user, or
 * removed. ECONFLICT: demoting the team's last admin who may sign in. */
STORE_FN(piora_err, user_set_admin, (store_t *s, int64_t user_id, bool is_admin),
         (s, user_id, is_admin))

/* Invitations: a pending one is unused, unrevoked and not expired at now.
 * Creating revokes the email's other pending invitations (the newest link
 * is the one that works). ECONFLICT: a user has this email already. */
STORE_FN(piora_err, invite_create,
         (store_t *s, int64_t team_id, const char *email, bool is_admin, int64_t invited_by,
          const uint8_t digest[SESSION_DIGEST_LEN], int64_t now, int64_t expires_at,
          invite_rec *out),
         (s, team_id, email, is_admin, invited_by, digest, now, expires_at, out))
/* The pending invitation with this digest; ENOTFOUND otherwise. */
STORE_FN(piora_err, invite_by_digest,
         (store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], int64_t now, invite_rec *out),
         (s, digest, now, out))
/* The team's pending invitations, oldest first; *out malloc'd. */
STORE_FN(piora_err, invite_list,
         (store_t *s, int64_t team_id, int64_t now, invite_rec **out, size_t *n),
         (s, team_id, now, out, n))
/* ENOTFOUND: no pending invitation id in this team. *out: what it was. */
STORE_FN(piora_err, invite_revoke,
         (store_t *s, int64_t team_id, int64_t id, int64_t now, invite_rec *out),
         (s, team_id, id, now, out))
/* In one transaction: uses the pending invitation (ENOTFOUND when it is not)
 * and creates its user in its team with its role. ECONFLICT: the email has
 * become a user's meanwhile. */
STORE_FN(piora_err, invite_accept,
         (store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], const char *password_hash,
          int64_t now, user_rec *out),
         (s, digest, password_hash, now, out))

/* Sudo mode: the session's user proved their password again at now.
 * ENOTFOUND when the session is gone. */
STORE_FN(piora_err, session_reauth, (store_t *s, int64_t session_id, int64_t now),
         (s, session_id, now))

/* Two-factor sign-in (TOTP). The key (as core/mfa.c stores it: sealed) of the user's enrolment
 * (pending) or of their confirmed second factor; *last_step (may be NULL)
 * the last step whose code was accepted. ENOTFOUND when there is none. */
STORE_FN(piora_err, totp_get,
         (store_t *s, int64_t user_id, bool pending, char *out, size_t outlen,
          int64_t *last_step),
         (s, user_id, pending, out, outlen, last_step))
/* Stores the key of an enrolment in progress (replacing one). */
STORE_FN(piora_err, totp_set_pending, (store_t *s, int64_t user_id, const char *key_b32),
         (s, user_id, key_b32))
/* In one transaction: the pending key becomes the second factor with
 * last_step, and the n recovery-code digests replace any older ones.
 * ENOTFOUND when no enrolment is pending. */
STORE_FN(piora_err, totp_enable,
         (store_t *s, int64_t user_id, int64_t last_step, const uint8_t (*digests)[32], size_t n),
         (s, user_id, last_step, digests, n))
/* Moves last_step forward to step; ECONFLICT when it is there already (the
 * code was used: two requests with one code cannot both pass). */
STORE_FN(piora_err, totp_use_step, (store_t *s, int64_t user_id, int64_t step),
         (s, user_id, step))
/* Uses an unused recovery code of the user; ENOTFOUND otherwise. */
STORE_FN(piora_err, totp_use_recovery,
         (store_t *s, int64_t user_id, const uint8_t digest[32], int64_t now),
         (s, user_id, digest, now))
/* Removes the second factor, any pending key and the recovery codes. */
STORE_FN(piora_err, totp_disable, (store_t *s, int64_t user_id), (s, user_id))
STORE_FN(piora_err, team_set_require_2fa, (store_t *s, int64_t team_id, bool on),
         (s, team_id, on))
/* Marks a session as waiting for its second factor (it authenticates
 * nothing until replaced by a full one). */
STORE_FN(piora_err, session_set_mfa_pending, (store_t *s, int64_t session_id),
         (s, session_id))
/* ---- trusted publishers and the JWT ids they used (SPEC 12, issue 14) ---- */

/* The publisher's team is its user's team, taken in the INSERT. ECONFLICT
 * when the team has a publisher of that name; ENOTFOUND without the user. */
STORE_FN(piora_err, publisher_insert, (store_t *s, const publisher_new *p, publisher_rec *out),
         (s, p, out))
/* team_id 0: any team. ENOTFOUND when missing or another team's. */
STORE_FN(piora_err, publisher_get, (store_t *s, int64_t team_id, int64_t id, publisher_rec *out),
         (s, team_id, id, out))
/* One team's publishers (team_id 0: every team's), ordered by id. */
STORE_FN(piora_err, publisher_list,
         (store_t *s, int64_t team_id, publisher_rec **out, size_t *n), (s, team_id, out, n))
/* Every team's publishers of one issuer (exact URL), ordered by id: the
 * candidates for a JWT before anything about it is trusted. */
STORE_FN(piora_err, publisher_list_issuer,
         (store_t *s, const char *issuer, publisher_rec **out, size_t *n), (s, issuer, out, n))
/* ENOTFOUND when missing or another team's (team_id 0: any). Tokens it
 * minted stay (they expire within 15 minutes, or are revoked). */
STORE_FN(piora_err, publisher_delete, (store_t *s, int64_t team_id, int64_t id),
         (s, team_id, id))
/* Records that this issuer's jti was used, until expires_at; in the same
 * transaction forgets the ids expired before now. ECONFLICT when it was
 * used already: the one check that makes a JWT single-use across nodes. */
STORE_FN(piora_err, oidc_jti_use,
         (store_t *s, const char *issuer, const char *jti, int64_t expires_at, int64_t now),
         (s, issuer, jti, expires_at, now))
/* ---- backups: schedules and retention (issue 11) ------------------------- */

/* Every database of every team that has a backup_schedule (the scheduler
 * runs for all teams), at most max rows, lowest id first from after_id (0:
 * from the start), so a caller pages through any number. */
STORE_FN(piora_err, backup_schedules,
         (store_t *s, int64_t after_id, size_t max, backup_sched_row **rows, size_t *n),
         (s, after_id, max, rows, n))
/* Claims the slot (database, slot_at) and queues its backup (status
 * pending), in one transaction: *backup_id is the new backup. ECONFLICT when
 * the slot was claimed already (by this node or another: the unique key of
 * backup_slots makes each slot run once across a cluster) or the database
 * is gone; either way there is nothing to run. */
STORE_FN(piora_err, backup_slot_claim,
         (store_t *s, int64_t database_id, int64_t slot_at, int64_t now, int64_t *backup_id),
         (s, database_id, slot_at, now, backup_id))
/* Deletes the completed scheduled backups of a database beyond its newest
 * `keep` (by completed_at, then id), at most max per call, and returns their
 * ids in ids[] (*n of them) so the caller removes their files. Backups made
 * by hand and unfinished ones are never pruned. */
STORE_FN(piora_err, backup_prune_scheduled,
         (store_t *s, int64_t database_id, int64_t keep, int64_t *ids, size_t max, size_t *n),
         (s, database_id, keep, ids, max, n))

/* ---- jobs: the job runner's section (queue, claim with a lease, heartbeat,
 * log) goes here, with its entries in every backend. ---------------------- */

/* Deployments as jobs (SPEC 10). Queues a deployment of the team's
 * application at ref (NULL: its branch) by trig, unless max_queued
 * deployments already wait for the application's server: ETOOBIG then.
 * ENOTFOUND: no such application. *id is the new deployment. */
STORE_FN(piora_err, deploy_queue,
         (store_t *s, int64_t team_id, int64_t application_id, const char *ref,
          const job_trigger *trig, int64_t max_queued, int64_t now, int64_t *id),
         (s, team_id, application_id, ref, trig, max_queued, now, id))
/* In one write transaction: the oldest queued deployment whose application
 * has none running or older queued, on a server running fewer than
 * per_server jobs, becomes running under owner's lease until lease_until;
 * its application becomes deploying. ENOTFOUND: nothing to claim.
 * out->script is malloc'd. */
STORE_FN(piora_err, deploy_claim,
         (store_t *s, const char *owner, int64_t now, int64_t lease_until, int64_t per_server,
          deploy_claim *out),
         (s, owner, now, lease_until, per_server, out))
/* Pushes the lease of every job owner runs forward to lease_until. */
STORE_FN(piora_err, job_heartbeat, (store_t *s, const char *owner, int64_t lease_until),
         (s, owner, lease_until))
/* Running jobs whose lease ended before now end failed with "lost" (their
 * applications failed); *n (may be NULL) gets how many. */
STORE_FN(piora_err, job_expire, (store_t *s, int64_t now, int64_t *n), (s, now, n))
/* *yes: a cancel was asked for this deployment. */
STORE_FN(piora_err, deploy_cancel_asked, (store_t *s, int64_t id, bool *yes), (s, id, yes))
/* Ends a running deployment owner holds: status "succeeded", "failed" or
 * "cancelled", error NULL or a code, commit NULL or the SHA, exit_code -1
 * for none; the application becomes running (succeeded) or failed.
 * ENOTFOUND when owner no longer holds it (its lease was declared lost). */
STORE_FN(piora_err, deploy_finish,
         (store_t *s, int64_t id, const char *owner, const char *status, const char *error,
          const char *commit, int exit_code, int64_t now),
         (s, id, owner, status, error, commit, exit_code, now))
/* A queued deployment of the team ends cancelled at once; a running one is
 * asked to stop. ENOTFOUND: no such deployment of the team. */
STORE_FN(piora_err, deploy_cancel,
         (store_t *s, int64_t team_id, int64_t id, int64_t now, deploy_cancel_outcome *out),
         (s, team_id, id, now, out))
/* Appends len bytes to the log of deployment id; past cap bytes the rest
 * is dropped and the marker (once) ends the log. */
STORE_FN(piora_err, job_log_append,
         (store_t *s, int64_t id, const char *data, size_t len, int64_t cap, const char *marker),
         (s, id, data, len, cap, marker))
/* The log of the team's deployment id from byte offset, at most max bytes
 * into *buf (malloc'd, free()), *len of them; *complete when the job has
 * ended and nothing lies past what was returned. ENOTFOUND: no such
 * deployment of the team. */
STORE_FN(piora_err, job_log_read,
         (store_t *s, int64_t team_id, int64_t id, int64_t offset, size_t max, char **buf,
          size_t *len, bool *complete),
         (s, team_id, id, offset, max, buf, len, complete))

/* Team SSH keys (issue 9): the current pair and the previous one, private
 * halves only sealed (auth/sshkey.h). Current first in out[0..*n). */
STORE_FN(piora_err, sshkey_get, (store_t *s, int64_t team_id, sshkey_rec out[2], size_t *n),
         (s, team_id, out, n))
/* Makes k the team's current key when it has none; ECONFLICT when it has
 * one (two first uses racing: the loser reads the winner's). */
STORE_FN(piora_err, sshkey_put_first, (store_t *s, int64_t team_id, const sshkey_rec *k),
         (s, team_id, k))
/* In one transaction: drops the previous key, the current one becomes
 * previous, k becomes current. */
STORE_FN(piora_err, sshkey_rotate, (store_t *s, int64_t team_id, const sshkey_rec *k),
         (s, team_id, k))
/* ENOTFOUND when the team has no previous key. */
STORE_FN(piora_err, sshkey_delete_previous, (store_t *s, int64_t team_id), (s, team_id))

/* ---- backup jobs: backups and restores run by the job runner (issue 11,
 * sqlite_backup_jobs.c) ---------------------------------------------------- */

/* Queues a backup (status pending) of the team's database by trig, unless
 * max_queued jobs of any kind already wait for its server: ETOOBIG then.
 * ENOTFOUND: no such database of the team. *id is the new backup. */
STORE_FN(piora_err, bjob_queue_backup,
         (store_t *s, int64_t team_id, int64_t database_id, const job_trigger *trig,
          int64_t max_queued, int64_t now, int64_t *id),
         (s, team_id, database_id, trig, max_queued, now, id))
/* Queues a restore of the team's backup into database_id (the caller
 * checked engine and completion), bounded as above by the target's server.
 * ENOTFOUND: the backup or the database is not the team's. */
STORE_FN(piora_err, bjob_queue_restore,
         (store_t *s, int64_t team_id, int64_t backup_id, int64_t database_id,
          const job_trigger *trig, int64_t max_queued, int64_t now, int64_t *id),
         (s, team_id, backup_id, database_id, trig, max_queued, now, id))
/* In one write transaction: the oldest pending backup or restore whose
 * database has no backup or restore running, on a server running fewer
 * than per_server jobs of any kind, becomes running under owner's lease
 * until lease_until. ENOTFOUND: nothing to claim. */
STORE_FN(piora_err, bjob_claim,
         (store_t *s, const char *owner, int64_t now, int64_t lease_until, int64_t per_server,
          bjob_claim *out),
         (s, owner, now, lease_until, per_server, out))
/* Pushes the lease of every backup and restore owner runs to lease_until. */
STORE_FN(piora_err, bjob_heartbeat, (store_t *s, const char *owner, int64_t lease_until),
         (s, owner, lease_until))
/* Running backups and restores whose lease ended before now end failed
 * with "lost"; *n (may be NULL) gets how many. */
STORE_FN(piora_err, bjob_expire, (store_t *s, int64_t now, int64_t *n), (s, now, n))
/* *yes: a cancel was asked for this backup or restore. */
STORE_FN(piora_err, bjob_cancel_asked, (store_t *s, bjob_kind kind, int64_t id, bool *yes),
         (s, kind, id, yes))
/* Ends a running backup or restore owner holds: completed (error NULL; a
 * backup records sha256, size_bytes and completed_at) or failed with the
 * error code. ENOTFOUND when owner no longer holds it (lost, or deleted). */
STORE_FN(piora_err, bjob_finish,
         (store_t *s, bjob_kind kind, int64_t id, const char *owner, const char *error,
          const char *sha256, int64_t size, int64_t now),
         (s, kind, id, owner, error, sha256, size, now))
/* A pending backup or restore of the team ends failed/cancelled at once; a
 * running one is asked to stop. ENOTFOUND: not the team's. */
STORE_FN(piora_err, bjob_cancel,
         (store_t *s, bjob_kind kind, int64_t team_id, int64_t id, int64_t now,
          deploy_cancel_outcome *out),
         (s, kind, team_id, id, now, out))
/* As job_log_append / job_log_read, for a backup's or a restore's log. */
STORE_FN(piora_err, bjob_log_append,
         (store_t *s, bjob_kind kind, int64_t id, const char *data, size_t len, int64_t cap,
          const char *marker),
         (s, kind, id, data, len, cap, marker))
STORE_FN(piora_err, bjob_log_read,
         (store_t *s, bjob_kind kind, int64_t team_id, int64_t id, int64_t offset, size_t max,
          char **buf, size_t *len, bool *complete),
         (s, kind, team_id, id, offset, max, buf, len, complete))

#undef STORE_FN
