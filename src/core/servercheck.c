#include "core/servercheck.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/audit.h"
#include "core/sshkeys.h"
#include "util/clock.h"
#include "util/log.h"

static _Atomic(server_probe_fn) probe_fn;

void servercheck_set_probe(server_probe_fn fn) { atomic_store(&probe_fn, fn); }

static int field_at(const char *name)
{
    for (size_t i = 0; i < RES_SERVERS.nfields; i++)
        if (strcmp(RES_SERVERS.fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static const char *text_at(const obj_row *row, int i)
{
    return i >= 0 && row->v[i].kind == OV_TEXT ? row->v[i].text : NULL;
}

static const char *status_name(server_probe_status st)
{
    switch (st) {
    case PROBE_REACHABLE: return "reachable";
    case PROBE_AUTH_FAILED: return "auth_failed";
    case PROBE_HOST_KEY_MISMATCH: return "host_key_mismatch";
    case PROBE_UNREACHABLE:
    case PROBE_INTERNAL: break;
    }
    return "unreachable";
}

piora_err servercheck_run(store_t *s, const actor *who, int64_t team_id, const char *team_name,
                          int64_t server_id, json_t **out)
{
    server_probe_fn fn = atomic_load(&probe_fn);
    if (!fn)
        return PIORA_EINTERNAL;
    int f_ip = field_at("ip_address"), f_port = field_at("ssh_port"), f_user = field_at("ssh_user");
    int f_fp = field_at("host_key_fingerprint"), f_status = field_at("status");
    int f_checked = field_at("checked_at");
    if (f_ip < 0 || f_port < 0 || f_user < 0 || f_fp < 0 || f_status < 0 || f_checked < 0)
        return PIORA_EINTERNAL;

    obj_row row;
    memset(&row, 0, sizeof row);
    piora_err e = store_obj_get(s, &RES_SERVERS, team_id, server_id, &row);
    if (e != PIORA_OK)
        return e;
    /* The team's key exists once it is asked for; a check is such an ask. */
    json_t *shown = NULL;
    e = sshkeys_show(s, who, team_id, team_name, &shown);
    json_decref(shown);
    char keys[2][SSHKEY_PRIVATE_MAX];
    size_t nkeys = 0;
    if (e == PIORA_OK)
        e = sshkeys_private(s, team_id, keys, &nkeys);
    if (e != PIORA_OK) {
        obj_row_clear(&row);
        return e;
    }
    const char *key_ptrs[2] = {keys[0], keys[1]};
    const char *pinned = text_at(&row, f_fp);
    server_probe p = {.host = text_at(&row, f_ip),
                      .port = (unsigned)row.v[f_port].i,
                      .user = text_at(&row, f_user),
                      .pinned = pinned,
                      .keys = key_ptrs,
                      .nkeys = nkeys};
    char seen[SSHKEY_FP_MAX] = "", detail[256] = "";
    server_probe_status st = p.host && p.user ? fn(&p, seen, detail, sizeof detail) : PROBE_INTERNAL;
    sshkeys_wipe_private(keys);

    /* Trust on first use: the first check that authenticates records the
     * key it saw. An unauthenticated look is no trust: anyone on the path
     * could have answered. */
    bool trusted_now = !pinned && st == PROBE_REACHABLE && seen[0];
    obj_values vals;
    memset(&vals, 0, sizeof vals);
    const char *status = status_name(st);
    bool ok = obj_value_set_text(&vals.v[f_status], status, strlen(status));
    obj_value_set_int(&vals.v[f_checked], clock_now());
    if (trusted_now)
        ok = ok && obj_value_set_text(&vals.v[f_fp], seen, strlen(seen));
    obj_row_clear(&row);
    if (!ok) {
        obj_values_clear(&vals);
        return PIORA_ENOMEM;
    }
    obj_row updated;
    memset(&updated, 0, sizeof updated);
    e = store_obj_update(s, &RES_SERVERS, team_id, server_id, &vals, &updated);
    obj_values_clear(&vals);
    if (e != PIORA_OK)
        return e;
    const char *fp_now = text_at(&updated, f_fp);
    if (trusted_now) {
        audit_event ev = {.action = AUDIT_HOST_KEY_TRUSTED, .team_id = team_id};
        if (audit_record(s, who, &ev) != PIORA_OK)
            log_warn("audit: host key trust of server %lld not recorded", (long long)server_id);
    }
    /* The answer shows the key the server presented (on a mismatch: the new
     * one, so a person can compare it out of band); the pin stays as it was. */
    const char *fp_answer = seen[0] ? seen : fp_now;
    *out = json_pack("{s:s,s:s?,s:s}", "status", status, "host_key_fingerprint", fp_answer, "detail",
                     detail);
    obj_row_clear(&updated);
    return *out ? PIORA_OK : PIORA_ENOMEM;
}

void servercheck_note_pin(store_t *s, const actor *who, int64_t team_id, const char *fingerprint)
{
    audit_event ev = {.action = fingerprint ? AUDIT_HOST_KEY_PINNED : AUDIT_HOST_KEY_CLEARED,
                      .team_id = team_id};
    if (audit_record(s, who, &ev) != PIORA_OK)
        log_warn("audit: %s not recorded", audit_action_name(ev.action));
}

void servercheck_trust_first_use(store_t *s, int64_t team_id, int64_t server_id,
                                 const char *fingerprint)
{
    int f_fp = field_at("host_key_fingerprint");
    if (f_fp < 0 || !fingerprint || !fingerprint[0])
        return;
    obj_row row;
    memset(&row, 0, sizeof row);
    if (store_obj_get(s, &RES_SERVERS, team_id, server_id, &row) != PIORA_OK)
        return;
    bool unpinned = !text_at(&row, f_fp);
    obj_row_clear(&row);
    if (!unpinned)
        return;
    obj_values vals;
    memset(&vals, 0, sizeof vals);
    if (!obj_value_set_text(&vals.v[f_fp], fingerprint, strlen(fingerprint))) {
        obj_values_clear(&vals);
        return;
    }
    obj_row updated;
    memset(&updated, 0, sizeof updated);
    piora_err e = store_obj_update(s, &RES_SERVERS, team_id, server_id, &vals, &updated);
    obj_values_clear(&vals);
    obj_row_clear(&updated);
    if (e != PIORA_OK) {
        log_warn("runner: host key of server %lld not recorded: %s", (long long)server_id,
                 piora_strerror(e));
        return;
    }
    actor who = {.channel = CHANNEL_RUNNER, .team_id = team_id};
    audit_event ev = {.action = AUDIT_HOST_KEY_TRUSTED, .team_id = team_id,
                      .object_kind = "server", .object_id = server_id};
    if (audit_record(s, &who, &ev) != PIORA_OK)
        log_warn("audit: host key trust of server %lld not recorded", (long long)server_id);
}
