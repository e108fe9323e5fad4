/* The pipeline's decisions (SPEC 3 steps 1-4) on a real SQLite store, and
 * the rule that keeps revocation immediate: a cached token is dropped as
 * soon as another connection (standing in for the CLI) commits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/token.h"
#include "authn/authn.h"
#include "core/tokens.h"
#include "store/change.h"
#include "store/store.h"
#include "util/clock.h"
#include "fixture.h"

typedef struct fx {
    char dir[FIXTURE_DIR_MAX];
    char path[FIXTURE_PATH_MAX];
    store_t *server; /* the serving thread's connection */
    store_t *cli;    /* another writer */
    int64_t user;
} fx;

static void init_with(const piora_config *over)
{
    piora_config cfg;
    config_defaults(&cfg);
    if (over)
        cfg = *over;
    authn_init(&cfg);
}

static int setup(void **st)
{
    fx *f = calloc(1, sizeof *f);
    f->server = fixture_db_open(f->dir, f->path, "authn");
    if (!f->server)
        return -1;
    char msg[256] = "";
    f->cli = store_open(f->path, msg, sizeof msg);
    if (!f->cli)
        return -1;
    user_rec u;
    if (!fixture_user(f->cli, "ci@example.com", "acme", false, &u))
        return -1;
    f->user = u.id;
    piora_config cfg;
    config_defaults(&cfg);
    cfg.auth_fail_limit = 5;
    cfg.rate_limit = 3;
    init_with(&cfg);
    clock_set_offset(0);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    fx *f = *st;
    authn_shutdown();
    store_close(f->server);
    store_close(f->cli);
    fixture_db_remove(f->dir, f->path);
    free(f);
    clock_set_offset(0);
    return 0;
}

/* A new token of the user, and its "Bearer <token>" header value. */
static void make_token(fx *f, const char *scopes, int64_t expires_in, char secret[TOKEN_LEN + 1],
                       char bearer[96], token_rec *rec)
{
    token_create_req rq = {.user_id = f->user, .name = "ci", .scopes = scopes,
                           .expires_in = expires_in};
    verrs errs = {0};
    assert_int_equal(tokens_create(f->cli, &(actor){.channel = CHANNEL_CLI}, &rq, secret, rec,
                                   &errs),
                     PIORA_OK);
    snprintf(bearer, 96, "Bearer %s", secret);
}

/* One request as the server runs it: sync, then authenticate. */
static authn_outcome call(fx *f, const char *authz, bool url_token, uint64_t addr,
                          principal_t *who)
{
    int64_t retry = 0;
    /* Start after the other connection's writes are visible everywhere, as
     * any request after a CLI write does. */
    change_wait_visible(f->cli);
    authn_gens gen = authn_sync(f->server);
    int64_t lookup_ns = -1;
    return authn_authenticate(f->server, gen.tokens, authz, url_token, addr, who, &retry,
                              &lookup_ns);
}

static void test_steps_in_order(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], h[96];
    token_rec rec;
    principal_t who;
    make_token(f, "servers:write", EXPIRES_DEFAULT_S, tok, h, &rec);

    assert_int_equal(call(f, NULL, false, 1, &who), AUTHN_MISSING);
    /* A header and a token in the URL: 400, before the header is looked at. */
    assert_int_equal(call(f, h, true, 1, &who), AUTHN_URL_TOKEN);
    assert_int_equal(call(f, h, false, 1, &who), AUTHN_OK);
    assert_int_equal(who.token_id, rec.id);
    assert_int_equal(who.user_id, f->user);
    assert_int_equal(who.team_id, rec.team_id);
    assert_int_equal(who.scopes, SCOPE_SERVERS_WRITE);
    assert_int_equal(who.effective, SCOPE_SERVERS_WRITE | SCOPE_SERVERS_READ);
}

static void test_scheme_and_shape(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], h[128];
    token_rec rec;
    principal_t who;
    make_token(f, "servers:read", EXPIRES_DEFAULT_S, tok, h, &rec);

    snprintf(h, sizeof h, "bEaReR   %s  ", tok); /* scheme is case-insensitive */
    assert_int_equal(call(f, h, false, 2, &who), AUTHN_OK);
    snprintf(h, sizeof h, "Token %s", tok);
    assert_int_equal(call(f, h, false, 2, &who), AUTHN_INVALID);
    snprintf(h, sizeof h, "Basic %s", tok);
    assert_int_equal(call(f, h, false, 2, &who), AUTHN_INVALID);
    assert_int_equal(call(f, "Bearer", false, 2, &who), AUTHN_INVALID);
    assert_int_equal(call(f, "Bearer ", false, 2, &who), AUTHN_INVALID);
    snprintf(h, sizeof h, "Bearer%s", tok); /* no separator */
    assert_int_equal(call(f, h, false, 3, &who), AUTHN_INVALID);

    /* Bad checksum: last character changed. */
    char bad[TOKEN_LEN + 1];
    memcpy(bad, tok, sizeof bad);
    bad[TOKEN_LEN - 1] = bad[TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
    snprintf(h, sizeof h, "Bearer %s", bad);
    assert_int_equal(call(f, h, false, 3, &who), AUTHN_INVALID);

    /* Well-formed but unknown. */
    char other[TOKEN_LEN + 1];
    assert_int_equal(token_generate(other), PIORA_OK);
    snprintf(h, sizeof h, "Bearer %s", other);
    assert_int_equal(call(f, h, false, 3, &who), AUTHN_INVALID);
}

static void test_revocation_by_another_process_is_seen(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], h[96];
    token_rec rec;
    principal_t who;
    make_token(f, "servers:read", EXPIRES_DEFAULT_S, tok, h, &rec);
    /* Twice: the second answer comes from the cache. */
    assert_int_equal(call(f, h, false, 4, &who), AUTHN_OK);
    assert_int_equal(call(f, h, false, 4, &who), AUTHN_OK);
    /* The other connection revokes (what `piora token revoke` does). */
    assert_int_equal(store_token_revoke(f->cli, rec.id, clock_now()), PIORA_OK);
    assert_int_equal(call(f, h, false, 4, &who), AUTHN_REVOKED);
}

/* Revokes a token behind the feed's back (a raw connection that moves no
 * counter): a cache that re-reads the token from now on answers REVOKED,
 * one that keeps its entry answers OK. That tells which writes drop it. */
static void revoke_unannounced(fx *f, int64_t token_id)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE tokens SET revoked_at = 1 WHERE id = %lld",
             (long long)token_id);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static bool write_usage(store_t *s, void *arg)
{
    const token_rec *t = arg;
    usage_entry u = {.token_id = t->id, .time = clock_now(), .status = 200};
    memcpy(u.method, "GET", 4);
    memcpy(u.path, "/api/v1/servers", 16);
    token_touch touch = {.token_id = t->id, .used_at = clock_now()};
    audit_new a = {.action = "token.created", .via = "cli", .team_id = t->team_id,
                   .token_id = t->id};
    uint8_t d[SESSION_DIGEST_LEN] = {9};
    pid_t pid = getpid(); /* one session per process that calls this */
    memcpy(d + 1, &pid, sizeof pid);
    session_rec sr;
    return store_usage_insert(s, &u, 1) == PIORA_OK && store_token_touch(s, &touch, 1) == PIORA_OK &&
           store_audit_insert(s, &a) == PIORA_OK &&
           store_session_insert(s, d, t->user_id, "csrf", clock_now(), clock_now() + 60, NULL,
                                &sr) == PIORA_OK;
}

static bool write_token(store_t *s, void *arg)
{
    const token_rec *t = arg;
    token_new tn = {.user_id = t->user_id, .name = "other", .scopes = SCOPE_SERVERS_READ,
                    .hint = "piora_token_abcd\xe2\x80\xa6wxyz"};
    memset(tn.digest, 0x5a, sizeof tn.digest);
    token_rec out;
    return store_token_insert(s, &tn, &out) == PIORA_OK;
}

/* The usage log, last-used times, the audit log and sessions are written
 * all the time by other connections and processes; none of them empties
 * the token cache. A token write does. */
static void test_monitoring_writes_keep_the_cache(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], h[96];
    token_rec rec;
    principal_t who;
    make_token(f, "servers:read", EXPIRES_DEFAULT_S, tok, h, &rec);
    assert_int_equal(call(f, h, false, 8, &who), AUTHN_OK); /* now cached */
    revoke_unannounced(f, rec.id);
    assert_int_equal(call(f, h, false, 8, &who), AUTHN_OK);
    /* the same writes by another connection of this process (the writer
     * threads), then by another process */
    assert_true(write_usage(f->cli, &rec));
    assert_int_equal(call(f, h, false, 8, &who), AUTHN_OK);
    assert_true(fixture_in_child(f->path, write_usage, &rec));
    assert_int_equal(call(f, h, false, 8, &who), AUTHN_OK);
    /* another process creates a token: every cached token is read again */
    assert_true(fixture_in_child(f->path, write_token, &rec));
    assert_int_equal(call(f, h, false, 8, &who), AUTHN_REVOKED);
}

/* `piora token revoke` is another process: its revocation is seen by the
 * very next request. */
static bool revoke_in_child(store_t *s, void *arg)
{
    const token_rec *t = arg;
    return tokens_revoke(s, &(actor){.channel = CHANNEL_CLI}, t->id, t->user_id) == PIORA_OK;
}

static void test_revocation_by_a_child_process_is_seen(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], h[96];
    token_rec rec;
    principal_t who;
    make_token(f, "servers:read", EXPIRES_DEFAULT_S, tok, h, &rec);
    assert_int_equal(call(f, h, false, 9, &who), AUTHN_OK);
    assert_int_equal(call(f, h, false, 9, &who), AUTHN_OK);
    assert_true(fixture_in_child(f->path, revoke_in_child, &rec));
    /* no wait here: tokens_revoke returned only once it was visible */
    int64_t retry = 0;
    authn_gens gen = authn_sync(f->server);
    int64_t lookup_ns = -1;
    assert_int_equal(
        authn_authenticate(f->server, gen.tokens, h, false, 9, &who, &retry, &lookup_ns),
        AUTHN_REVOKED);
}

static void test_regenerated_secret_answers_revoked(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], fresh[TOKEN_LEN + 1], h[96];
    token_rec rec, rec2;
    principal_t who;
    make_token(f, "servers:read", EXPIRES_DEFAULT_S, tok, h, &rec);
    assert_int_equal(call(f, h, false, 5, &who), AUTHN_OK);
    assert_int_equal(tokens_regenerate(f->cli, &(actor){.channel = CHANNEL_CLI}, rec.id, 0, fresh,
                                       &rec2),
                     PIORA_OK);
    assert_int_equal(call(f, h, false, 5, &who), AUTHN_REVOKED);
    snprintf(h, sizeof h, "Bearer %s", fresh);
    assert_int_equal(call(f, h, false, 5, &who), AUTHN_OK);
    assert_int_equal(who.token_id, rec.id);
}

static void test_expiry_is_checked_on_every_request(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], h[96];
    token_rec rec;
    principal_t who;
    make_token(f, "servers:read", 60, tok, h, &rec);
    assert_int_equal(call(f, h, false, 6, &who), AUTHN_OK); /* now cached */
    clock_set_offset(61);
    assert_int_equal(call(f, h, false, 6, &who), AUTHN_EXPIRED);
    clock_set_offset(0);
}

static void test_failures_per_address_turn_into_429(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], h[96];
    token_rec rec;
    principal_t who;
    make_token(f, "servers:read", EXPIRES_DEFAULT_S, tok, h, &rec);
    const uint64_t attacker = ratelimit_key("198.51.100.7");
    for (int i = 0; i < 5; i++)
        assert_int_equal(call(f, "Bearer piora_token_nope", false, attacker, &who), AUTHN_INVALID);
    assert_int_equal(call(f, "Bearer piora_token_nope", false, attacker, &who), AUTHN_THROTTLED);
    /* Another address is not affected. */
    assert_int_equal(call(f, "Bearer piora_token_nope", false, ratelimit_key("192.0.2.1"), &who),
                     AUTHN_INVALID);
    /* A hot valid token from the throttled address still works. */
    assert_int_equal(call(f, h, false, ratelimit_key("192.0.2.9"), &who), AUTHN_OK);
    assert_int_equal(call(f, h, false, attacker, &who), AUTHN_OK);
}

/* Issue 8 item 7: others' failures from the same address (a NAT) never
 * refuse a valid token, even one the cache has not seen or has dropped. */
static void test_valid_token_on_a_cache_miss_is_never_throttled(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], h[96], tok2[TOKEN_LEN + 1], h2[96];
    token_rec rec, rec2;
    principal_t who;
    make_token(f, "servers:read", EXPIRES_DEFAULT_S, tok, h, &rec);
    const uint64_t nat = ratelimit_key("203.0.113.50");
    for (int i = 0; i < 5; i++)
        assert_int_equal(call(f, "Bearer piora_token_nope", false, nat, &who), AUTHN_INVALID);
    assert_int_equal(call(f, "Bearer piora_token_nope", false, nat, &who), AUTHN_THROTTLED);
    /* Never seen by the cache. */
    assert_int_equal(call(f, h, false, nat, &who), AUTHN_OK);
    assert_int_equal(who.token_id, rec.id);
    /* A new token moves the tokens generation: the first one misses again. */
    make_token(f, "servers:read", EXPIRES_DEFAULT_S, tok2, h2, &rec2);
    assert_int_equal(call(f, h, false, nat, &who), AUTHN_OK);
    assert_int_equal(call(f, h2, false, nat, &who), AUTHN_OK);
    assert_int_equal(who.token_id, rec2.id);
    /* The failures themselves stay throttled, a forged well-formed one too. */
    char forged[TOKEN_LEN + 1];
    memcpy(forged, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    memset(forged + TOKEN_PREFIX_LEN, 'Q', TOKEN_RANDOM_LEN);
    token_checksum(forged + TOKEN_PREFIX_LEN, forged + TOKEN_PREFIX_LEN + TOKEN_RANDOM_LEN);
    forged[TOKEN_LEN] = '\0';
    char fh[96];
    snprintf(fh, sizeof fh, "Bearer %s", forged);
    assert_int_equal(call(f, fh, false, nat, &who), AUTHN_THROTTLED);
    assert_int_equal(call(f, fh, false, ratelimit_key("192.0.2.77"), &who), AUTHN_INVALID);
}

static void test_token_rate_limit(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], h[96];
    token_rec rec;
    principal_t who;
    make_token(f, "servers:read", EXPIRES_DEFAULT_S, tok, h, &rec);
    assert_int_equal(call(f, h, false, 7, &who), AUTHN_OK);
    for (int i = 0; i < 3; i++) {
        ratelimit_result r = authn_rate_take(&who);
        assert_true(r.allowed);
        assert_int_equal(r.limit, 3);
        assert_int_equal(r.remaining, 2 - i);
    }
    ratelimit_result r = authn_rate_take(&who);
    assert_false(r.allowed);
    assert_true(r.retry_after >= 1);
    assert_true(r.reset > clock_now());
}

/* The store lookup's time goes back to the caller (the pipeline counts it
 * as piora_db_duration_seconds{op="token_lookup"}): set on a cache miss,
 * untouched when the cache answered or no lookup was made. */
static void test_lookup_time_is_reported_on_a_miss_only(void **st)
{
    fx *f = *st;
    char tok[TOKEN_LEN + 1], h[96];
    token_rec rec;
    principal_t who;
    make_token(f, "servers:read", EXPIRES_DEFAULT_S, tok, h, &rec);
    change_wait_visible(f->cli);
    authn_gens gen = authn_sync(f->server);
    int64_t retry = 0, lookup_ns = -1;
    assert_int_equal(authn_authenticate(f->server, gen.tokens, NULL, false, 1, &who, &retry,
                                        &lookup_ns),
                     AUTHN_MISSING);
    assert_int_equal(lookup_ns, -1);
    assert_int_equal(authn_authenticate(f->server, gen.tokens, h, false, 1, &who, &retry,
                                        &lookup_ns),
                     AUTHN_OK);
    assert_true(lookup_ns >= 0);
    lookup_ns = -1;
    assert_int_equal(authn_authenticate(f->server, gen.tokens, h, false, 1, &who, &retry,
                                        &lookup_ns),
                     AUTHN_OK);
    assert_int_equal(lookup_ns, -1);
}

static void test_addr_key_stable_and_distinct(void **st)
{
    (void)st;
    assert_int_equal(ratelimit_key("127.0.0.1"), ratelimit_key("127.0.0.1"));
    assert_int_not_equal(ratelimit_key("127.0.0.1"), ratelimit_key("127.0.0.2"));
    assert_int_not_equal(ratelimit_key("::1"), ratelimit_key("127.0.0.1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_steps_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scheme_and_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocation_by_another_process_is_seen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_monitoring_writes_keep_the_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocation_by_a_child_process_is_seen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_regenerated_secret_answers_revoked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_is_checked_on_every_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_per_address_turn_into_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_valid_token_on_a_cache_miss_is_never_throttled, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_time_is_reported_on_a_miss_only, setup,
                                        teardown),
        cmocka_unit_test(test_addr_key_stable_and_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
