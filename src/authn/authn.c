#include "authn/authn.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "auth/token.h"
#include "authn/limits.h"
#include "authn/session.h"
#include "authn/tokencache.h"
#include "util/clock.h"
#include "util/log.h"

void authn_init(const piora_config *cfg)
{
    limits_init(cfg);
    tokencache_init(1u << 14);
    authn_session_configure(cfg->session_idle_s);
}

void authn_shutdown(void)
{
    limits_free();
    tokencache_free();
}

/* change_poll() bounds its own cost (a backend may answer from a recent
 * look); what it cannot see, change_wait_visible() on the writer's side
 * waits out, so a request that starts after a revocation was reported done
 * finds the tokens generation already moved. */
authn_gens authn_sync(store_t *s)
{
    change_poll(s, NULL); /* a failure moves every generation: nothing cached is trusted */
    authn_gens g = {
        .tokens = change_generation(AUTHN_TOKENS_DEPEND),
        .pages = change_generation(AUTHN_PAGES_DEPEND),
    };
    return g;
}

bool authn_sync_nowait(authn_gens *out)
{
    if (!store_change_poll_nowait())
        return false;
    out->tokens = change_generation(AUTHN_TOKENS_DEPEND);
    out->pages = change_generation(AUTHN_PAGES_DEPEND);
    return true;
}

void authn_settle(store_t *s) { change_settle(s, AUTHN_TOKENS_DEPEND | AUTHN_PAGES_DEPEND); }

/* Splits "Bearer <token>" (scheme case-insensitive, one or more spaces or
 * tabs, RFC 7235) and returns the token slice, or NULL when the scheme is
 * not Bearer or nothing follows it. */
static const char *bearer_token(const char *h, size_t *len)
{
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return NULL;
    h += 6;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (!n)
        return NULL;
    *len = n;
    return h;
}

/* A failure counts against the address; once its budget is spent the
 * answer becomes 429 instead of 401, so guessing costs the guesser time.
 * Only failures are answered so: a valid token is never refused here.
 * nowait: AUTHN_NEED_LIMIT, nothing counted, when the count needs Redis. */
static authn_outcome failed(authn_outcome o, uint64_t addr_key, bool nowait,
                            int64_t *retry_after)
{
    ratelimit_result r;
    if (!nowait)
        r = limits_take(LIMITS_AUTH_FAIL, addr_key);
    else if (!limits_take_nowait(LIMITS_AUTH_FAIL, addr_key, &r))
        return AUTHN_NEED_LIMIT;
    if (!r.allowed) {
        *retry_after = r.retry_after;
        return AUTHN_THROTTLED;
    }
    return o;
}

/* Every entry point: s NULL answers AUTHN_NEED_STORE where a lookup is due
 * (and trusts no entry unless cache_ok); nowait answers AUTHN_NEED_LIMIT
 * where counting a failure would wait on Redis. Nothing is counted before
 * either, so the caller may run the whole walk again elsewhere. */
static authn_outcome authenticate(store_t *s, uint64_t tokens_gen, bool cache_ok, bool nowait,
                                  const char *authorization, bool url_token, uint64_t addr_key,
                                  principal_t *who, int64_t *retry_after, int64_t *lookup_ns)
{
    if (!authorization)
        return AUTHN_MISSING;
    if (url_token)
        return AUTHN_URL_TOKEN;
    size_t len = 0;
    const char *tok = bearer_token(authorization, &len);
    if (!tok || !token_well_formed(tok, len))
        return failed(AUTHN_INVALID, addr_key, nowait, retry_after);

    uint8_t digest[TOKEN_DIGEST_LEN];
    token_digest(tok, len, digest);
    /* No gate on the address's failures before the lookup: a valid token
     * is never refused because of what others behind the same address did.
     * What bounds the lookups instead: the checksum turns away strings that
     * are not tokens without one, a digest found unknown is never looked up
     * again, and a guesser's own answers turn to 429 (failed()). */
    if (tokencache_unknown_has(digest))
        return failed(AUTHN_INVALID, addr_key, nowait, retry_after);
    tokencache_entry e;
    if (!cache_ok || !tokencache_get(digest, tokens_gen, &e)) {
        if (!s)
            return AUTHN_NEED_STORE;
        token_rec t;
        int64_t t0 = clock_mono_ns();
        piora_err err = store_token_by_digest(s, digest, &t);
        *lookup_ns = clock_mono_ns() - t0;
        if (err == PIORA_ENOTFOUND) {
            tokencache_unknown_add(digest);
            return failed(AUTHN_INVALID, addr_key, nowait, retry_after);
        }
        if (err != PIORA_OK) {
            log_error("token lookup failed: %s", piora_strerror(err));
            return AUTHN_UNAVAILABLE;
        }
        memset(&e, 0, sizeof e);
        e.who.token_id = t.id;
        e.who.user_id = t.user_id;
        e.who.team_id = t.team_id;
        e.who.scopes = t.scopes;
        e.who.effective = scopes_effective(t.scopes);
        e.who.expires_at = t.expires_at;
        e.who.resources = t.resources;
        e.who.allowed_ips = t.allowed_ips;
        e.who.resources_key = grant_fingerprint(&t.resources);
        e.revoked_at = t.revoked_at;
        tokencache_put(digest, tokens_gen, &e);
    }
    /* A known token refused: who->token_id (only) says which, for the
     * usage log; the rest stays zero so nothing can act as it. */
    if (e.revoked_at || (e.who.expires_at && clock_now() >= e.who.expires_at)) {
        memset(who, 0, sizeof *who);
        who->token_id = e.who.token_id;
        return failed(e.revoked_at ? AUTHN_REVOKED : AUTHN_EXPIRED, addr_key, nowait,
                      retry_after);
    }
    *who = e.who;
    return AUTHN_OK;
}

authn_outcome authn_authenticate(store_t *s, uint64_t tokens_gen, const char *authorization,
                                 bool url_token, uint64_t addr_key, principal_t *who,
                                 int64_t *retry_after, int64_t *lookup_ns)
{
    return authenticate(s, tokens_gen, true, false, authorization, url_token, addr_key, who,
                        retry_after, lookup_ns);
}

authn_outcome authn_authenticate_nowait(store_t *s, uint64_t tokens_gen,
                                        const char *authorization, bool url_token,
                                        uint64_t addr_key, principal_t *who,
                                        int64_t *retry_after, int64_t *lookup_ns)
{
    return authenticate(s, tokens_gen, true, true, authorization, url_token, addr_key, who,
                        retry_after, lookup_ns);
}

authn_outcome authn_authenticate_cached(uint64_t tokens_gen, bool cache_ok,
                                        const char *authorization, bool url_token,
                                        uint64_t addr_key, principal_t *who,
                                        int64_t *retry_after)
{
    int64_t unused = 0;
    return authenticate(NULL, tokens_gen, cache_ok, true, authorization, url_token, addr_key,
                        who, retry_after, &unused);
}

ratelimit_result authn_rate_take(const principal_t *who)
{
    return limits_take(LIMITS_TOKEN, (uint64_t)who->token_id);
}

ratelimit_result authn_addr_take(uint64_t addr_key)
{
    return limits_take(LIMITS_ADDR, addr_key);
}

bool authn_rate_take_nowait(const principal_t *who, ratelimit_result *out)
{
    return limits_take_nowait(LIMITS_TOKEN, (uint64_t)who->token_id, out);
}

bool authn_addr_take_nowait(uint64_t addr_key, ratelimit_result *out)
{
    return limits_take_nowait(LIMITS_ADDR, addr_key, out);
}
