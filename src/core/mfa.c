/* Two-factor sign-in: the rules over auth/totp.c and the store. */
#include "core/mfa.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth/password.h"
#include "core/audit.h"
#include "core/masterkey.h"
#include "util/clock.h"

static void audit_user(store_t *s, const actor *who, audit_action a, const user_rec *u)
{
    audit_event ev = {.action = a, .team_id = u->team_id, .subject_user_id = u->id,
                      .email = u->email};
    audit_record(s, who, &ev);
}

/* The email in an otpauth label: unreserved characters and '@' as they are. */
static void label_escape(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < outlen; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~@", *p))
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, outlen - o, "%%%02X", *p);
    }
    out[o] = '\0';
}

piora_err mfa_enrol_start(store_t *s, const user_rec *u, char key_b32[TOTP_B32_LEN + 1],
                          char uri[MFA_URI_MAX])
{
    uint8_t key[TOTP_KEY_LEN];
    totp_key_new(key);
    bool ok = totp_b32_encode(key, sizeof key, key_b32, TOTP_B32_LEN + 1);
    sodium_memzero(key, sizeof key);
    if (!ok)
        return PIORA_EINTERNAL;
    /* the key is stored sealed with the master key, shown to the user once */
    char sealed[MASTERKEY_SEALED_TEXT_MAX];
    piora_err e = masterkey_seal_text(key_b32, sealed, sizeof sealed)
                      ? store_totp_set_pending(s, u->id, sealed)
                      : PIORA_EINTERNAL;
    sodium_memzero(sealed, sizeof sealed);
    if (e != PIORA_OK) {
        sodium_memzero(key_b32, TOTP_B32_LEN + 1);
        return e;
    }
    char label[EMAIL_MAX * 3 + 1];
    label_escape(u->email, label, sizeof label);
    snprintf(uri, MFA_URI_MAX,
             "otpauth://totp/Piora:%s?secret=%s&issuer=Piora&algorithm=SHA1&digits=%d&period=%d",
             label, key_b32, TOTP_DIGITS, TOTP_STEP_S);
    return PIORA_OK;
}

/* The key stored for the user (pending or confirmed), decoded. */
static piora_err load_key(store_t *s, int64_t user_id, bool pending, uint8_t key[TOTP_KEY_LEN],
                          int64_t *last_step)
{
    char stored[MASTERKEY_SEALED_TEXT_MAX], b32[TOTP_B32_LEN + 8];
    piora_err e = store_totp_get(s, user_id, pending, stored, sizeof stored, last_step);
    size_t n = 0;
    /* a key stored before sealing (no prefix) is read as it is */
    if (e == PIORA_OK && (!masterkey_open_text(stored, b32, sizeof b32) ||
                          !totp_b32_decode(b32, key, TOTP_KEY_LEN, &n) || n != TOTP_KEY_LEN))
        e = PIORA_EINTERNAL;
    sodium_memzero(stored, sizeof stored);
    sodium_memzero(b32, sizeof b32);
    return e;
}

/* A recovery code as typed: case, spaces and dashes do not matter. */
static void recovery_digest(const char *code, uint8_t out[32])
{
    char norm[64];
    size_t n = 0;
    for (const char *p = code; *p && n + 1 < sizeof norm; p++) {
        char c = *p;
        if (c == '-' || c == ' ')
            continue;
        norm[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    crypto_hash_sha256(out, (const unsigned char *)norm, n);
    sodium_memzero(norm, sizeof norm);
}

piora_err mfa_enrol_confirm(store_t *s, const actor *who, const user_rec *u, const char *code,
                            char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_LEN + 1])
{
    uint8_t key[TOTP_KEY_LEN];
    piora_err e = load_key(s, u->id, true, key, NULL);
    if (e != PIORA_OK)
        return e;
    uint64_t step = 0;
    bool ok = totp_verify(key, sizeof key, code, clock_now(), 0, &step);
    sodium_memzero(key, sizeof key);
    if (!ok)
        return PIORA_EAUTH;
    uint8_t digests[MFA_RECOVERY_CODES][32];
    for (int i = 0; i < MFA_RECOVERY_CODES; i++) {
        uint8_t raw[10];
        char b32[17];
        randombytes_buf(raw, sizeof raw);
        totp_b32_encode(raw, sizeof raw, b32, sizeof b32);
        snprintf(codes[i], MFA_RECOVERY_LEN + 1, "%.4s-%.4s-%.4s-%.4s", b32, b32 + 4, b32 + 8,
                 b32 + 12);
        recovery_digest(codes[i], digests[i]);
        sodium_memzero(raw, sizeof raw);
        sodium_memzero(b32, sizeof b32);
    }
    e = store_totp_enable(s, u->id, (int64_t)step, (const uint8_t(*)[32])digests,
                          MFA_RECOVERY_CODES);
    if (e != PIORA_OK) {
        sodium_memzero(codes, sizeof(char) * MFA_RECOVERY_CODES * (MFA_RECOVERY_LEN + 1));
        return e;
    }
    audit_user(s, who, AUDIT_MFA_ENABLED, u);
    return PIORA_OK;
}

static piora_err second_factor(store_t *s, const actor *who, const user_rec *u,
                               const char *code, const char *recovery_code)
{
    if (code && *code) {
        uint8_t key[TOTP_KEY_LEN];
        int64_t last = 0;
        piora_err e = load_key(s, u->id, false, key, &last);
        if (e != PIORA_OK)
            return e == PIORA_ENOTFOUND ? PIORA_EAUTH : e;
        uint64_t step = 0;
        bool ok = totp_verify(key, sizeof key, code, clock_now(),
                              last > 0 ? (uint64_t)last : 0, &step);
        sodium_memzero(key, sizeof key);
        if (!ok)
            return PIORA_EAUTH;
        e = store_totp_use_step(s, u->id, (int64_t)step);
        return e == PIORA_ECONFLICT ? PIORA_EAUTH : e;
    }
    if (recovery_code && *recovery_code && strlen(recovery_code) < 64) {
        uint8_t d[32];
        recovery_digest(recovery_code, d);
        piora_err e = store_totp_use_recovery(s, u->id, d, clock_now());
        if (e == PIORA_ENOTFOUND)
            return PIORA_EAUTH;
        if (e == PIORA_OK)
            audit_user(s, who, AUDIT_MFA_RECOVERY_USED, u);
        return e;
    }
    return PIORA_EAUTH;
}

piora_err mfa_check(store_t *s, const actor *who, const user_rec *u, const char *code,
                    const char *recovery_code)
{
    piora_err e = second_factor(s, who, u, code, recovery_code);
    if (e == PIORA_EAUTH) {
        audit_event ev = {.action = AUDIT_SIGNIN_FAILED, .team_id = u->team_id,
                          .email = u->email};
        audit_record(s, who, &ev);
    }
    return e;
}

piora_err mfa_disable(store_t *s, const actor *who, const user_rec *u, const char *password,
                      size_t password_len, const char *code)
{
    char hash[PASSWORD_HASH_MAX];
    piora_err e = store_user_password_hash(s, u->id, hash, sizeof hash);
    if (e != PIORA_OK)
        return e;
    bool ok = password && password_verify(hash, password, password_len);
    sodium_memzero(hash, sizeof hash);
    if (!ok)
        return PIORA_EAUTH;
    if ((e = mfa_check(s, who, u, code, NULL)) != PIORA_OK)
        return e == PIORA_EAUTH ? PIORA_ECONFLICT : e;
    e = store_totp_disable(s, u->id);
    if (e == PIORA_OK)
        audit_user(s, who, AUDIT_MFA_DISABLED, u);
    return e;
}

piora_err mfa_team_require(store_t *s, const actor *who, int64_t team_id, bool on)
{
    piora_err e = store_team_set_require_2fa(s, team_id, on);
    if (e == PIORA_OK) {
        audit_event ev = {.action = on ? AUDIT_TEAM_MFA_REQUIRED : AUDIT_TEAM_MFA_OPTIONAL,
                          .team_id = team_id};
        audit_record(s, who, &ev);
    }
    return e;
}
