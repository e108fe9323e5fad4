/* The token service against a real SQLite store in a temporary directory:
 * what a caller observes when creating, revoking, regenerating and
 * reporting leaked tokens, and the duration syntax of --expires-in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/audit.h"
#include "core/tokens.h"
#include "util/clock.h"
#include "util/log.h"
#include "fixture.h"

/* The services record from an actor; these tests act as the CLI. */
static const actor cli_actor = {.channel = CHANNEL_CLI};

typedef struct fx {
    char dir[FIXTURE_DIR_MAX];
    char path[FIXTURE_PATH_MAX];
    store_t *s;
    int64_t alice, bob;
} fx;

static int setup(void **st)
{
    fx *f = calloc(1, sizeof *f);
    f->s = fixture_db_open(f->dir, f->path, "tokens");
    if (!f->s)
        return -1;
    user_rec u;
    if (!fixture_user(f->s, "alice@example.com", "acme", true, &u))
        return -1;
    f->alice = u.id;
    if (!fixture_user(f->s, "bob@example.com", "acme", false, &u))
        return -1;
    f->bob = u.id;
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    fx *f = *st;
    store_close(f->s);
    fixture_db_remove(f->dir, f->path);
    free(f);
    clock_set_offset(0);
    return 0;
}

static piora_err create(fx *f, int64_t user, const char *name, const char *scopes,
                        int64_t expires_in, char secret[TOKEN_LEN + 1], token_rec *t,
                        verrs *errs)
{
    token_create_req rq = {.user_id = user, .name = name, .scopes = scopes,
                           .expires_in = expires_in};
    return tokens_create(f->s, &cli_actor, &rq, secret, t, errs);
}

static size_t count_tokens(fx *f)
{
    token_rec *v = NULL;
    size_t n = 0;
    assert_int_equal(store_token_list(f->s, 0, &v, &n), PIORA_OK);
    free(v);
    return n;
}

/* True when needle occurs in the file (a missing file holds nothing). */
static bool file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, fp);
    fclose(fp);
    bool found = memmem(b, got, needle, strlen(needle)) != NULL;
    free(b);
    return found;
}

static void test_create_shape_and_storage(void **st)
{
    fx *f = *st;
    char secret[TOKEN_LEN + 1];
    token_rec t;
    verrs e;
    int64_t now = clock_now();
    assert_int_equal(create(f, f->alice, "ci deploy", "servers:read,applications:deploy", 0,
                            secret, &t, &e),
                     PIORA_OK);
    assert_int_equal(strlen(secret), TOKEN_LEN);
    assert_memory_equal(secret, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    for (size_t i = TOKEN_PREFIX_LEN; i < TOKEN_LEN; i++)
        assert_non_null(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                               secret[i]));
    assert_true(token_well_formed(secret, TOKEN_LEN));
    assert_true(t.id > 0);
    assert_int_equal(t.user_id, f->alice);
    assert_string_equal(t.name, "ci deploy");
    assert_int_equal(t.scopes, SCOPE_SERVERS_READ | SCOPE_APPLICATIONS_DEPLOY);
    char hint[TOKEN_HINT_MAX];
    token_hint(secret, hint);
    assert_string_equal(t.hint, hint);
    /* Default: 90 days. */
    assert_true(t.expires_at >= now + EXPIRES_DEFAULT_S - 2);
    assert_true(t.expires_at <= now + EXPIRES_DEFAULT_S + 2);

    /* Found by its digest... */
    uint8_t d[TOKEN_DIGEST_LEN];
    token_digest(secret, TOKEN_LEN, d);
    token_rec got;
    assert_int_equal(store_token_by_digest(f->s, d, &got), PIORA_OK);
    assert_int_equal(got.id, t.id);
    assert_int_equal(got.revoked_at, 0);
    /* ...while the secret itself is in no database file. */
    char p[160];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
        assert_false(file_contains(p, secret));
        assert_false(file_contains(p, secret + TOKEN_PREFIX_LEN));
    }

    /* Two tokens never share a secret. */
    char secret2[TOKEN_LEN + 1];
    assert_int_equal(create(f, f->alice, "other", "servers:read", 0, secret2, &t, &e), PIORA_OK);
    assert_string_not_equal(secret, secret2);
}

static void test_create_expiry(void **st)
{
    fx *f = *st;
    char secret[TOKEN_LEN + 1];
    token_rec t;
    verrs e;
    int64_t now = clock_now();

    assert_int_equal(create(f, f->alice, "n", "servers:read", EXPIRES_NEVER, secret, &t, &e),
                     PIORA_OK);
    assert_int_equal(t.expires_at, 0);

    assert_int_equal(create(f, f->alice, "n", "servers:read", 7 * 86400, secret, &t, &e),
                     PIORA_OK);
    assert_true(t.expires_at >= now + 7 * 86400 - 2 && t.expires_at <= now + 7 * 86400 + 2);

    /* A custom date wins over expires_in. */
    token_create_req rq = {.user_id = f->alice, .name = "custom", .scopes = "backups:read",
                           .expires_in = 30, .expires_at = now + 3 * 86400};
    assert_int_equal(tokens_create(f->s, &cli_actor, &rq, secret, &t, &e), PIORA_OK);
    assert_int_equal(t.expires_at, now + 3 * 86400);

    /* A short one: active now, expired once its time has passed. */
    assert_int_equal(create(f, f->alice, "short", "servers:read", 30, secret, &t, &e), PIORA_OK);
    json_t *j = tokens_to_json(&t, clock_now());
    assert_string_equal(json_string_value(json_object_get(j, "status")), "active");
    json_decref(j);
    j = tokens_to_json(&t, clock_now() + 31);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "expired");
    json_decref(j);
}

/* Asserts a create is refused with an error on field (message containing
 * want, if given) and leaves no token behind. */
static void refused(fx *f, int64_t user, const char *name, const char *scopes,
                    int64_t expires_in, int64_t expires_at, const char *field, const char *want)
{
    size_t before = count_tokens(f);
    char secret[TOKEN_LEN + 1] = "piora_token_dummy";
    token_rec t;
    verrs e;
    token_create_req rq = {.user_id = user, .name = name, .scopes = scopes,
                           .expires_in = expires_in, .expires_at = expires_at};
    assert_int_equal(tokens_create(f->s, &cli_actor, &rq, secret, &t, &e), PIORA_EINVALID);
    assert_string_equal(secret, "");
    assert_true(e.n >= 1);
    bool seen = false;
    for (size_t i = 0; i < e.n; i++)
        if (strcmp(e.items[i].field, field) == 0 && (!want || strstr(e.items[i].message, want)))
            seen = true;
    if (!seen)
        fail_msg("no error on %s (first: %s: %s)", field, e.items[0].field,
                 e.items[0].message);
    assert_int_equal(count_tokens(f), before);
}

static void test_create_bad_input(void **st)
{
    fx *f = *st;
    int64_t now = clock_now();
    refused(f, f->alice, "n", "", 0, 0, "scopes", NULL);
    refused(f, f->alice, "n", " , ", 0, 0, "scopes", NULL);
    refused(f, f->alice, "n", NULL, 0, 0, "scopes", NULL);
    refused(f, f->alice, "n", "servers:read,servers:admin", 0, 0, "scopes", "servers:admin");
    refused(f, f->alice, "n", "Servers:Read", 0, 0, "scopes", "Servers:Read");
    refused(f, f->alice, "", "servers:read", 0, 0, "name", NULL);
    refused(f, f->alice, NULL, "servers:read", 0, 0, "name", NULL);
    char longname[102];
    memset(longname, 'x', 101);
    longname[101] = '\0';
    refused(f, f->alice, longname, "servers:read", 0, 0, "name", NULL);
    refused(f, f->alice, "a\tb", "servers:read", 0, 0, "name", NULL);
    refused(f, f->alice, "a\nb", "servers:read", 0, 0, "name", NULL);
    refused(f, f->alice, "a\x7f", "servers:read", 0, 0, "name", NULL);
    refused(f, f->alice, "a\xc2\x85", "servers:read", 0, 0, "name", NULL); /* C1 NEL */
    refused(f, f->alice, "a\xff", "servers:read", 0, 0, "name", NULL);
    refused(f, f->alice, "n", "servers:read", 0, now - 1, "expires_at", NULL);
    refused(f, f->alice, "n", "servers:read", 0, now + 11 * 366 * 86400LL, "expires_at", NULL);
    refused(f, f->alice, "n", "servers:read", -5, 0, "expires_in", NULL);
    /* Several problems are reported together. */
    verrs e;
    char secret[TOKEN_LEN + 1];
    token_rec t;
    assert_int_equal(create(f, f->alice, "", "nope", 0, secret, &t, &e), PIORA_EINVALID);
    assert_int_equal(e.n, 2);

    /* Limits that are allowed: 100 bytes, multibyte UTF-8. */
    longname[100] = '\0';
    assert_int_equal(create(f, f->alice, longname, "servers:read", 0, secret, &t, &e), PIORA_OK);
    assert_int_equal(create(f, f->alice, "déploiement ✓", "servers:read servers:write", 0,
                            secret, &t, &e),
                     PIORA_OK);
    assert_string_equal(t.name, "déploiement ✓");

    /* An unknown owner. */
    size_t before = count_tokens(f);
    assert_int_equal(create(f, 999999, "n", "servers:read", 0, secret, &t, &e), PIORA_ENOTFOUND);
    assert_int_equal(count_tokens(f), before);
}

static void test_revoke(void **st)
{
    fx *f = *st;
    char secret[TOKEN_LEN + 1];
    token_rec t, got;
    verrs e;
    assert_int_equal(create(f, f->alice, "r", "servers:read", 0, secret, &t, &e), PIORA_OK);
    assert_int_equal(tokens_revoke(f->s, &cli_actor, t.id, 0), PIORA_OK);
    assert_int_equal(store_token_by_id(f->s, t.id, &got), PIORA_OK);
    assert_true(got.revoked_at > 0);
    assert_int_equal(token_rec_status(&got, clock_now()), TOKEN_REVOKED);
    int64_t first = got.revoked_at;
    /* Idempotent: a second revoke answers OK and changes nothing. */
    clock_set_offset(5);
    assert_int_equal(tokens_revoke(f->s, &cli_actor, t.id, 0), PIORA_OK);
    assert_int_equal(store_token_by_id(f->s, t.id, &got), PIORA_OK);
    assert_int_equal(got.revoked_at, first);
    clock_set_offset(0);
    /* The secret is then found as revoked. */
    uint8_t d[TOKEN_DIGEST_LEN];
    token_digest(secret, TOKEN_LEN, d);
    assert_int_equal(store_token_by_digest(f->s, d, &got), PIORA_OK);
    assert_int_equal(token_rec_status(&got, clock_now()), TOKEN_REVOKED);

    assert_int_equal(tokens_revoke(f->s, &cli_actor, 999999, 0), PIORA_ENOTFOUND);
    assert_int_equal(tokens_revoke(f->s, &cli_actor, 0, 0), PIORA_ENOTFOUND);
    assert_int_equal(tokens_revoke(f->s, &cli_actor, -1, 0), PIORA_ENOTFOUND);
}

static void test_regenerate(void **st)
{
    fx *f = *st;
    char old[TOKEN_LEN + 1], fresh[TOKEN_LEN + 1];
    token_rec t, r, got;
    verrs e;
    assert_int_equal(create(f, f->alice, "rotate me", "databases:write,backups:read", 86400, old,
                            &t, &e),
                     PIORA_OK);
    clock_set_offset(100);
    assert_int_equal(tokens_regenerate(f->s, &cli_actor, t.id, f->alice, fresh, &r), PIORA_OK);
    assert_true(token_well_formed(fresh, strlen(fresh)));
    assert_string_not_equal(fresh, old);
    assert_int_equal(r.id, t.id);
    assert_string_equal(r.name, t.name);
    assert_int_equal(r.scopes, t.scopes);
    assert_string_not_equal(r.hint, t.hint);
    char hint[TOKEN_HINT_MAX];
    token_hint(fresh, hint);
    assert_string_equal(r.hint, hint);
    /* The new secret keeps the chosen lifetime (1 day), from now. */
    assert_true(r.expires_at >= clock_now() + 86400 - 2 && r.expires_at <= clock_now() + 86400 + 2);

    uint8_t d[TOKEN_DIGEST_LEN];
    token_digest(fresh, TOKEN_LEN, d);
    assert_int_equal(store_token_by_digest(f->s, d, &got), PIORA_OK);
    assert_int_equal(got.id, t.id);
    assert_int_equal(token_rec_status(&got, clock_now()), TOKEN_ACTIVE);
    /* The old secret now answers "revoked", not "invalid". */
    token_digest(old, TOKEN_LEN, d);
    assert_int_equal(store_token_by_digest(f->s, d, &got), PIORA_OK);
    assert_int_equal(got.id, t.id);
    assert_int_equal(token_rec_status(&got, clock_now()), TOKEN_REVOKED);

    /* A revoked token cannot be brought back. */
    assert_int_equal(tokens_revoke(f->s, &cli_actor, t.id, 0), PIORA_OK);
    assert_int_equal(tokens_regenerate(f->s, &cli_actor, t.id, 0, fresh, &r), PIORA_ECONFLICT);
    assert_string_equal(fresh, "");
    assert_int_equal(tokens_regenerate(f->s, &cli_actor, 999999, 0, fresh, &r), PIORA_ENOTFOUND);

    /* A token without expiry keeps none. */
    assert_int_equal(create(f, f->alice, "forever", "servers:read", EXPIRES_NEVER, old, &t, &e),
                     PIORA_OK);
    assert_int_equal(tokens_regenerate(f->s, &cli_actor, t.id, 0, fresh, &r), PIORA_OK);
    assert_int_equal(r.expires_at, 0);
}

static void test_ownership(void **st)
{
    fx *f = *st;
    char secret[TOKEN_LEN + 1], fresh[TOKEN_LEN + 1];
    token_rec t, r, got;
    verrs e;
    assert_int_equal(create(f, f->alice, "mine", "servers:read", 0, secret, &t, &e), PIORA_OK);
    /* Bob (same team, other user) sees alice's token as missing. */
    assert_int_equal(tokens_revoke(f->s, &cli_actor, t.id, f->bob), PIORA_ENOTFOUND);
    assert_int_equal(tokens_regenerate(f->s, &cli_actor, t.id, f->bob, fresh, &r), PIORA_ENOTFOUND);
    assert_int_equal(store_token_by_id(f->s, t.id, &got), PIORA_OK);
    assert_int_equal(got.revoked_at, 0);
    assert_string_equal(got.hint, t.hint);
    /* tokens_get is the same rule for reads (the dashboard's token pages);
     * user_id 0 is the CLI, which sees every token. */
    assert_int_equal(tokens_get(f->s, t.id, f->bob, &got), PIORA_ENOTFOUND);
    assert_int_equal(tokens_get(f->s, t.id, f->alice, &got), PIORA_OK);
    assert_int_equal(got.id, t.id);
    assert_int_equal(tokens_get(f->s, t.id, 0, &got), PIORA_OK);
    assert_int_equal(tokens_get(f->s, 0, 0, &got), PIORA_ENOTFOUND);
    token_rec *v = NULL;
    size_t n = 9;
    assert_int_equal(tokens_list(f->s, f->bob, &v, &n), PIORA_OK);
    assert_int_equal(n, 0);
    free(v);
    assert_int_equal(tokens_list(f->s, f->alice, &v, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, t.id);
    free(v);
    /* The owner may. */
    assert_int_equal(tokens_regenerate(f->s, &cli_actor, t.id, f->alice, fresh, &r), PIORA_OK);
    assert_int_equal(tokens_revoke(f->s, &cli_actor, t.id, f->alice), PIORA_OK);
}

static void test_revoke_leaked(void **st)
{
    fx *f = *st;
    char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], c[TOKEN_LEN + 1], unknown[TOKEN_LEN + 1];
    token_rec ta, tb, tc, got;
    verrs e;
    assert_int_equal(create(f, f->alice, "a", "servers:read", 0, a, &ta, &e), PIORA_OK);
    assert_int_equal(create(f, f->bob, "b", "servers:read", 0, b, &tb, &e), PIORA_OK);
    assert_int_equal(create(f, f->bob, "c", "servers:read", 0, c, &tc, &e), PIORA_OK);
    assert_int_equal(tokens_revoke(f->s, &cli_actor, tb.id, 0), PIORA_OK);
    assert_int_equal(token_generate(unknown), PIORA_OK);
    char badsum[TOKEN_LEN + 1];
    memcpy(badsum, c, sizeof badsum);
    badsum[TOKEN_LEN - 1] = badsum[TOKEN_LEN - 1] == 'A' ? 'B' : 'A';

    const char *list[] = {a, b, unknown, badsum, "garbage", "", NULL, a};
    size_t n = 99;
    assert_int_equal(tokens_revoke_leaked(f->s, &cli_actor, list, sizeof list / sizeof list[0], &n),
                     PIORA_OK);
    assert_int_equal(n, 1); /* a only: b was already revoked, a listed twice */
    assert_int_equal(store_token_by_id(f->s, ta.id, &got), PIORA_OK);
    assert_true(got.revoked_at > 0);
    /* c's forged neighbour did not touch c. */
    assert_int_equal(store_token_by_id(f->s, tc.id, &got), PIORA_OK);
    assert_int_equal(got.revoked_at, 0);

    assert_int_equal(tokens_revoke_leaked(f->s, &cli_actor, list, sizeof list / sizeof list[0], &n),
                     PIORA_OK);
    assert_int_equal(n, 0);
    const char *one[] = {c};
    assert_int_equal(tokens_revoke_leaked(f->s, &cli_actor, one, 1, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(tokens_revoke_leaked(f->s, &cli_actor, NULL, 0, &n), PIORA_OK);
    assert_int_equal(n, 0);
}

static void test_to_json(void **st)
{
    fx *f = *st;
    char secret[TOKEN_LEN + 1];
    token_rec t;
    verrs e;
    assert_int_equal(create(f, f->alice, "json", "backups:write,servers:read", EXPIRES_NEVER,
                            secret, &t, &e),
                     PIORA_OK);
    json_t *j = tokens_to_json(&t, clock_now());
    assert_int_equal(json_integer_value(json_object_get(j, "id")), t.id);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "json");
    json_t *sc = json_object_get(j, "scopes");
    assert_int_equal(json_array_size(sc), 2);
    assert_string_equal(json_string_value(json_array_get(sc, 0)), "servers:read");
    assert_string_equal(json_string_value(json_array_get(sc, 1)), "backups:write");
    assert_string_equal(json_string_value(json_object_get(j, "hint")), t.hint);
    assert_true(json_is_string(json_object_get(j, "created_at")));
    assert_true(json_is_null(json_object_get(j, "last_used_at")));
    assert_true(json_is_null(json_object_get(j, "expires_at")));
    assert_string_equal(json_string_value(json_object_get(j, "status")), "active");
    assert_null(json_object_get(j, "last_used_addr"));
    char *s = json_dumps(j, 0);
    assert_null(strstr(s, secret));
    assert_null(strstr(s, secret + TOKEN_PREFIX_LEN));
    free(s);
    json_decref(j);

    /* Once used: the time and the address appear. */
    token_touch tt = {.token_id = t.id, .used_at = clock_now()};
    strcpy(tt.addr, "192.0.2.7");
    assert_int_equal(store_token_touch(f->s, &tt, 1), PIORA_OK);
    token_rec got;
    assert_int_equal(store_token_by_id(f->s, t.id, &got), PIORA_OK);
    j = tokens_to_json(&got, clock_now());
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(tt.used_at, ts);
    assert_string_equal(json_string_value(json_object_get(j, "last_used_at")), ts);
    assert_string_equal(json_string_value(json_object_get(j, "last_used_addr")), "192.0.2.7");
    json_decref(j);

    assert_int_equal(tokens_revoke(f->s, &cli_actor, t.id, 0), PIORA_OK);
    assert_int_equal(store_token_by_id(f->s, t.id, &got), PIORA_OK);
    j = tokens_to_json(&got, clock_now());
    assert_string_equal(json_string_value(json_object_get(j, "status")), "revoked");
    json_decref(j);
}

static void test_parse_duration(void **st)
{
    (void)st;
    int64_t v = 0;
    struct {
        const char *in;
        int64_t want;
    } ok[] = {
        {"90d", 90 * 86400}, {"12h", 12 * 3600}, {"30m", 1800}, {"45s", 45},
        {"1s", 1},           {"2s", 2},          {"007d", 7 * 86400},
        {"never", EXPIRES_NEVER}, {"3653d", 3653 * 86400LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        v = 0;
        if (!tokens_parse_duration(ok[i].in, &v))
            fail_msg("refused %s", ok[i].in);
        assert_int_equal(v, ok[i].want);
    }
    const char *bad[] = {"",     "0d",   "0s",   "d",     "10",   "10x",    "-1d",
                         "1.5d", " 1d",  "1d ",  "1dd",   "1D",   "NEVER",  "never ",
                         "3654d", "87697h", "99999999999999999999d", "1w", "+1d", "1 d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tokens_parse_duration(bad[i], &v))
            fail_msg("accepted \"%s\"", bad[i]);
    assert_false(tokens_parse_duration(NULL, &v));
}

/* The whole audit log, newest first; the caller decrefs. */
static json_t *audit_all(fx *f, int64_t *total)
{
    json_t *items = NULL;
    assert_int_equal(audit_list(f->s, 0, 0, 100, &items, total), PIORA_OK);
    return items;
}

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t int_of(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* Every change writes one entry with the actor's channel, user and address
 * and the token's id, name and owner; a no-op or a refusal writes none. */
static void test_audit_entries(void **st)
{
    fx *f = *st;
    actor alice = {.channel = CHANNEL_DASHBOARD, .user_id = f->alice, .email = "alice@example.com",
                   .addr = "192.0.2.10"};
    char secret[TOKEN_LEN + 1];
    token_rec t;
    verrs e;
    token_create_req rq = {.user_id = f->alice, .name = "deploy-bot", .scopes = "servers:read"};
    assert_int_equal(tokens_create(f->s, &alice, &rq, secret, &t, &e), PIORA_OK);
    int64_t total = 0;
    json_t *items = audit_all(f, &total);
    assert_int_equal(total, 1);
    json_t *o = json_array_get(items, 0);
    assert_string_equal(str_of(o, "action"), "token.created");
    assert_string_equal(str_of(o, "via"), "dashboard");
    assert_int_equal(int_of(o, "token_id"), t.id);
    assert_string_equal(str_of(o, "token_name"), "deploy-bot");
    assert_int_equal(int_of(o, "subject_user_id"), f->alice);
    assert_int_equal(int_of(json_object_get(o, "actor"), "id"), f->alice);
    assert_string_equal(str_of(o, "addr"), "192.0.2.10");
    assert_string_equal(str_of(o, "email"), "alice@example.com");
    assert_int_equal(int_of(o, "team_id"), t.team_id);
    json_decref(items);

    /* A refused create records nothing. */
    token_create_req badrq = {.user_id = f->alice, .name = "", .scopes = "servers:read"};
    assert_int_equal(tokens_create(f->s, &alice, &badrq, secret, NULL, &e), PIORA_EINVALID);

    char fresh[TOKEN_LEN + 1];
    assert_int_equal(tokens_regenerate(f->s, &alice, t.id, f->alice, fresh, NULL), PIORA_OK);

    /* The API: the token revokes itself; its name comes from the record. */
    actor api = {.channel = CHANNEL_API, .user_id = f->alice, .token_id = t.id,
                 .addr = "198.51.100.4"};
    assert_int_equal(tokens_revoke(f->s, &api, t.id, f->alice), PIORA_OK);
    assert_int_equal(tokens_revoke(f->s, &api, t.id, f->alice), PIORA_OK); /* no-op */

    items = audit_all(f, &total);
    assert_int_equal(total, 3);
    o = json_array_get(items, 0);
    assert_string_equal(str_of(o, "action"), "token.revoked");
    assert_string_equal(str_of(o, "via"), "api");
    assert_string_equal(str_of(o, "token_name"), "deploy-bot");
    assert_string_equal(str_of(o, "addr"), "198.51.100.4");
    assert_true(json_is_null(json_object_get(o, "email")));
    o = json_array_get(items, 1);
    assert_string_equal(str_of(o, "action"), "token.regenerated");
    assert_string_equal(str_of(o, "via"), "dashboard");
    assert_int_equal(int_of(o, "token_id"), t.id);
    assert_string_equal(str_of(o, "token_name"), "deploy-bot");
    json_decref(items);

    /* The CLI: no user, no address; the owner is the subject. */
    token_rec tb;
    rq = (token_create_req){.user_id = f->bob, .name = "bob-ci", .scopes = "servers:read"};
    assert_int_equal(tokens_create(f->s, &cli_actor, &rq, secret, &tb, &e), PIORA_OK);
    assert_int_equal(tokens_revoke(f->s, &cli_actor, tb.id, 0), PIORA_OK);
    items = audit_all(f, &total);
    assert_int_equal(total, 5);
    o = json_array_get(items, 0);
    assert_string_equal(str_of(o, "action"), "token.revoked");
    assert_string_equal(str_of(o, "via"), "cli");
    assert_string_equal(str_of(o, "token_name"), "bob-ci");
    assert_int_equal(int_of(o, "subject_user_id"), f->bob);
    assert_true(json_is_null(json_object_get(o, "actor")));
    assert_true(json_is_null(json_object_get(o, "addr")));
    json_decref(items);
}

/* A leak report: one entry per token revoked, from the reporter's address. */
static void test_audit_leak_report(void **st)
{
    fx *f = *st;
    char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1];
    token_rec ta, tb;
    verrs e;
    assert_int_equal(create(f, f->alice, "leaked-a", "servers:read", 0, a, &ta, &e), PIORA_OK);
    assert_int_equal(create(f, f->bob, "leaked-b", "servers:read", 0, b, &tb, &e), PIORA_OK);
    int64_t before = 0;
    json_decref(audit_all(f, &before));
    actor reporter = {.channel = CHANNEL_LEAK_REPORT, .addr = "203.0.113.50"};
    const char *list[] = {a, b, a, "garbage"};
    size_t n = 0;
    assert_int_equal(tokens_revoke_leaked(f->s, &reporter, list, 4, &n), PIORA_OK);
    assert_int_equal(n, 2);
    int64_t total = 0;
    json_t *items = audit_all(f, &total);
    assert_int_equal(total, before + 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *o = json_array_get(items, i);
        assert_string_equal(str_of(o, "action"), "token.revoked");
        assert_string_equal(str_of(o, "via"), "leak_report");
        assert_string_equal(str_of(o, "addr"), "203.0.113.50");
        assert_true(json_is_null(json_object_get(o, "actor")));
    }
    assert_string_equal(str_of(json_array_get(items, 0), "token_name"), "leaked-b");
    assert_int_equal(int_of(json_array_get(items, 0), "subject_user_id"), f->bob);
    assert_string_equal(str_of(json_array_get(items, 1), "token_name"), "leaked-a");
    json_decref(items);
}

/* Issue 13: both fields are checked before either is written; a change
 * is audited per field, never with the note's text; someone else's token
 * and a token removed from the list are ENOTFOUND; an active one cannot be
 * removed. */
static void test_update_and_remove(void **st)
{
    fx *f = *st;
    actor alice = {.channel = CHANNEL_DASHBOARD, .user_id = f->alice, .email = "alice@example.com"};
    char secret[TOKEN_LEN + 1];
    token_rec t;
    verrs e = {0};
    token_create_req rq = {.user_id = f->alice, .name = "ci", .scopes = "servers:read",
                           .note = "first"};
    assert_int_equal(tokens_create(f->s, &alice, &rq, secret, &t, &e), PIORA_OK);
    assert_string_equal(t.note, "first");
    rq.note = "two\nlines";
    assert_int_equal(tokens_create(f->s, &alice, &rq, secret, NULL, &e), PIORA_EINVALID);
    assert_string_equal(e.items[0].field, "note");

    memset(&e, 0, sizeof e);
    assert_int_equal(tokens_update(f->s, &alice, t.id, f->alice, "renamed", true, "\x7f", &e),
                     PIORA_EINVALID);
    token_rec r;
    assert_int_equal(tokens_get(f->s, t.id, 0, &r), PIORA_OK);
    assert_string_equal(r.name, "ci"); /* the bad note stopped the rename too */
    memset(&e, 0, sizeof e);
    assert_int_equal(tokens_update(f->s, &alice, t.id, f->bob, "mine", false, NULL, &e),
                     PIORA_ENOTFOUND);
    assert_int_equal(tokens_update(f->s, &alice, t.id, f->alice, "renamed", true, "secret plan", &e),
                     PIORA_OK);
    assert_int_equal(tokens_update(f->s, &alice, t.id, f->alice, "renamed", true, "secret plan", &e),
                     PIORA_OK); /* no change, no entry */
    int64_t total = 0;
    json_t *items = audit_all(f, &total);
    assert_int_equal(total, 3);
    json_t *o = json_array_get(items, 0);
    assert_string_equal(str_of(o, "action"), "token.note_changed");
    assert_string_equal(str_of(o, "detail"), "note set");
    o = json_array_get(items, 1);
    assert_string_equal(str_of(o, "action"), "token.renamed");
    assert_string_equal(str_of(o, "token_name"), "renamed");
    assert_string_equal(str_of(o, "detail"), "was \"ci\"");
    json_decref(items);

    assert_int_equal(tokens_remove_from_list(f->s, &alice, t.id, f->alice), PIORA_ECONFLICT);
    assert_int_equal(tokens_revoke(f->s, &alice, t.id, f->alice), PIORA_OK);
    assert_int_equal(tokens_remove_from_list(f->s, &alice, t.id, f->bob), PIORA_ENOTFOUND);
    assert_int_equal(tokens_remove_from_list(f->s, &alice, t.id, f->alice), PIORA_OK);
    assert_int_equal(tokens_remove_from_list(f->s, &alice, t.id, f->alice), PIORA_ENOTFOUND);
    assert_int_equal(tokens_update(f->s, &alice, t.id, f->alice, "back", false, NULL, &e),
                     PIORA_ENOTFOUND);
    items = audit_all(f, &total);
    assert_string_equal(str_of(json_array_get(items, 0), "action"), "token.removed_from_list");
    json_decref(items);
}

int main(void)
{
    log_set_level(LOG_WARN);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_shape_and_storage),
        T(test_create_expiry),
        T(test_create_bad_input),
        T(test_revoke),
        T(test_regenerate),
        T(test_ownership),
        T(test_revoke_leaked),
        T(test_to_json),
        T(test_audit_entries),
        T(test_audit_leak_report),
        T(test_update_and_remove),
        cmocka_unit_test(test_parse_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
