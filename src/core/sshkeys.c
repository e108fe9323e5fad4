#include "core/sshkeys.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/audit.h"
#include "core/masterkey.h"
#include "util/clock.h"
#include "util/log.h"

static json_t *key_json(const sshkey_rec *k)
{
    char at[RFC3339_LEN];
    clock_fmt_rfc3339(k->created_at, at);
    return json_pack("{s:s,s:s,s:s}", "public_key", k->public_key, "fingerprint", k->fingerprint,
                     "created_at", at);
}

static piora_err render(const sshkey_rec *k, size_t n, json_t **out)
{
    json_t *o = n > 0 ? key_json(&k[0]) : NULL;
    json_t *prev = n > 1 ? key_json(&k[1]) : json_null();
    if (!o || !prev) {
        json_decref(o);
        json_decref(prev);
        return PIORA_ENOMEM;
    }
    json_object_set_new(o, "previous", prev);
    *out = o;
    return PIORA_OK;
}

/* A new pair, sealed: the plain private text never leaves this function. */
static piora_err make_rec(int64_t team_id, const char *team_name, sshkey_rec *rec)
{
    if (!masterkey_have())
        return PIORA_EINTERNAL;
    char comment[SSHKEY_COMMENT_MAX + 1];
    snprintf(comment, sizeof comment, "piora-%s", team_name && *team_name ? team_name : "team");
    /* a comment is one word in an authorized_keys line */
    for (char *c = comment; *c; c++)
        if (*c == ' ' || *c == '\t' || (unsigned char)*c < 0x20)
            *c = '-';
    sshkey_pair pair;
    if (!sshkey_generate(comment, &pair))
        return PIORA_EINTERNAL;
    memset(rec, 0, sizeof *rec);
    rec->team_id = team_id;
    rec->is_current = true;
    rec->created_at = clock_now();
    snprintf(rec->public_key, sizeof rec->public_key, "%s", pair.public_line);
    snprintf(rec->fingerprint, sizeof rec->fingerprint, "%s", pair.fingerprint);
    bool ok = masterkey_seal(pair.private_text, rec->sealed, sizeof rec->sealed, &rec->sealed_len);
    sshkey_wipe(&pair);
    return ok ? PIORA_OK : PIORA_EINTERNAL;
}

static void audit_key(store_t *s, const actor *who, int64_t team_id, audit_action a)
{
    audit_event ev = {.action = a, .team_id = team_id};
    if (audit_record(s, who, &ev) != PIORA_OK)
        log_warn("audit: %s not recorded", audit_action_name(a));
}

piora_err sshkeys_show(store_t *s, const actor *who, int64_t team_id, const char *team_name,
                       json_t **out)
{
    sshkey_rec k[2];
    size_t n = 0;
    piora_err e = store_sshkey_get(s, team_id, k, &n);
    if (e != PIORA_OK)
        return e;
    if (n == 0) {
        sshkey_rec rec;
        e = make_rec(team_id, team_name, &rec);
        if (e != PIORA_OK)
            return e;
        e = store_sshkey_put_first(s, team_id, &rec);
        sodium_memzero(rec.sealed, sizeof rec.sealed);
        if (e == PIORA_OK)
            audit_key(s, who, team_id, AUDIT_SSHKEY_CREATED);
        else if (e != PIORA_ECONFLICT) /* a racing first use made it: read that one */
            return e;
        e = store_sshkey_get(s, team_id, k, &n);
        if (e != PIORA_OK)
            return e;
    }
    return render(k, n, out);
}

piora_err sshkeys_rotate(store_t *s, const actor *who, int64_t team_id, const char *team_name,
                         json_t **out)
{
    sshkey_rec rec;
    piora_err e = make_rec(team_id, team_name, &rec);
    if (e != PIORA_OK)
        return e;
    e = store_sshkey_rotate(s, team_id, &rec);
    if (e != PIORA_OK)
        return e;
    audit_key(s, who, team_id, AUDIT_SSHKEY_ROTATED);
    sshkey_rec k[2];
    size_t n = 0;
    e = store_sshkey_get(s, team_id, k, &n);
    return e == PIORA_OK ? render(k, n, out) : e;
}

piora_err sshkeys_delete_previous(store_t *s, const actor *who, int64_t team_id)
{
    piora_err e = store_sshkey_delete_previous(s, team_id);
    if (e == PIORA_OK)
        audit_key(s, who, team_id, AUDIT_SSHKEY_PREVIOUS_DELETED);
    return e;
}

piora_err sshkeys_private(store_t *s, int64_t team_id, char keys[2][SSHKEY_PRIVATE_MAX], size_t *n)
{
    *n = 0;
    if (!masterkey_have())
        return PIORA_EINTERNAL;
    sshkey_rec k[2];
    size_t got = 0;
    piora_err e = store_sshkey_get(s, team_id, k, &got);
    if (e != PIORA_OK)
        return e;
    for (size_t i = 0; i < got; i++) {
        /* A key sealed with another master key is no key: skip it, so a
         * wrong --secret-key-file shows as auth_failed, not a crash. */
        if (masterkey_open(k[i].sealed, k[i].sealed_len, keys[*n], SSHKEY_PRIVATE_MAX))
            (*n)++;
        else
            log_warn("ssh key %lld of team %lld does not open with this master key",
                     (long long)k[i].id, (long long)team_id);
    }
    return got == 0 ? PIORA_ENOTFOUND : PIORA_OK;
}

void sshkeys_wipe_private(char keys[2][SSHKEY_PRIVATE_MAX])
{
    sodium_memzero(keys, 2 * SSHKEY_PRIVATE_MAX);
}
