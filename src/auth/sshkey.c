/* The OpenSSH private key format ("openssh-key-v1", PROTOCOL.key of
 * OpenSSH), unencrypted: the master key seals it whole at rest instead. */
#include "auth/sshkey.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

typedef struct wbuf { uint8_t *p; size_t len, cap; bool ok; } wbuf;

static void put(wbuf *w, const void *d, size_t n) {
    if (!w->ok || w->cap - w->len < n) { w->ok = false; return; }
    memcpy(w->p + w->len, d, n);
    w->len += n;
}
static void put_u32(wbuf *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(w, b, 4);
}
static void put_str(wbuf *w, const void *d, size_t n) { put_u32(w, (uint32_t)n); put(w, d, n); }
static void put_cstr(wbuf *w, const char *s) { put_str(w, s, strlen(s)); }

static const char KEYTYPE[] = "ssh-ed25519";

/* The public key blob: string "ssh-ed25519", string pk. */
static size_t public_blob(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], uint8_t *out, size_t cap) {
    wbuf w = {out, 0, cap, true};
    put_cstr(&w, KEYTYPE);
    put_str(&w, pk, crypto_sign_PUBLICKEYBYTES);
    return w.ok ? w.len : 0;
}

bool sshkey_generate(const char *comment, sshkey_pair *out) {
    memset(out, 0, sizeof *out);
    if (sodium_init() < 0 || !comment || strlen(comment) > SSHKEY_COMMENT_MAX) return false;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES]; /* sk = seed || pk */
    crypto_sign_keypair(pk, sk);

    uint8_t blob[64];
    size_t blen = public_blob(pk, blob, sizeof blob);
    char b64[128];
    sodium_bin2base64(b64, sizeof b64, blob, blen, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out->public_line, sizeof out->public_line, "%s %s %s", KEYTYPE, b64, comment);

    uint8_t hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, blob, blen);
    char fpb[64];
    sodium_bin2base64(fpb, sizeof fpb, hash, sizeof hash, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    snprintf(out->fingerprint, sizeof out->fingerprint, "SHA256:%s", fpb);

    uint8_t priv[256], file[512];
    wbuf p = {priv, 0, sizeof priv, true};
    uint32_t check;
    randombytes_buf(&check, sizeof check);
    put_u32(&p, check);
    put_u32(&p, check);
    put_cstr(&p, KEYTYPE);
    put_str(&p, pk, sizeof pk);
    put_str(&p, sk, sizeof sk);
    put_cstr(&p, comment);
    for (uint8_t pad = 1; p.ok && p.len % 8 != 0; pad++) put(&p, &pad, 1);

    wbuf f = {file, 0, sizeof file, true};
    put(&f, "openssh-key-v1", 15); /* with its NUL */
    put_cstr(&f, "none");
    put_cstr(&f, "none");
    put_cstr(&f, "");
    put_u32(&f, 1);
    put_str(&f, blob, blen);
    put_str(&f, priv, p.ok ? p.len : 0);
    bool ok = p.ok && f.ok;

    char body[sodium_base64_ENCODED_LEN(512, sodium_base64_VARIANT_ORIGINAL)];
    if (ok) sodium_bin2base64(body, sizeof body, file, f.len, sodium_base64_VARIANT_ORIGINAL);
    size_t at = 0;
    int n = snprintf(out->private_text, sizeof out->private_text, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    at = (size_t)n;
    size_t blen64 = ok ? strlen(body) : 0;
    for (size_t i = 0; ok && i < blen64; i += 70) {
        n = snprintf(out->private_text + at, sizeof out->private_text - at, "%.70s\n", body + i);
        if (n < 0 || (size_t)n >= sizeof out->private_text - at) ok = false;
        else at += (size_t)n;
    }
    if (ok) {
        n = snprintf(out->private_text + at, sizeof out->private_text - at, "-----END OPENSSH PRIVATE KEY-----\n");
        if (n < 0 || (size_t)n >= sizeof out->private_text - at) ok = false;
    }
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(priv, sizeof priv);
    sodium_memzero(file, sizeof file);
    sodium_memzero(body, sizeof body);
    if (!ok) sshkey_wipe(out);
    return ok;
}

void sshkey_wipe(sshkey_pair *k) { sodium_memzero(k, sizeof *k); }

bool sshkey_seal(const uint8_t master[SSHKEY_MASTER_LEN], const char *text, uint8_t *sealed,
                 size_t cap, size_t *sealed_len) {
    size_t n = strlen(text);
    size_t need = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    if (sodium_init() < 0 || need > cap) return false;
    randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, (const uint8_t *)text, n, sealed, master);
    *sealed_len = need;
    return true;
}

bool sshkey_open(const uint8_t master[SSHKEY_MASTER_LEN], const uint8_t *sealed, size_t len,
                 char *out, size_t cap) {
    if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return false;
    size_t n = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    if (n + 1 > cap) return false;
    if (crypto_secretbox_open_easy((uint8_t *)out, sealed + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, sealed, master) != 0)
        return false;
    out[n] = '\0';
    return true;
}
