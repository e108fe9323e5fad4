#include "core/sshkeys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/audit.h"
#include "util/clock.h"
#include "util/log.h"

static uint8_t master_key[SSHKEY_MASTER_LEN];
static atomic_bool master_set;

void sshkeys_set_master(const uint8_t master[SSHKEY_MASTER_LEN])
{
    memcpy(master_key, master, SSHKEY_MASTER_LEN);
    atomic_store(&master_set, true);
}

bool sshkeys_have_master(void) { return atomic_load(&master_set); }

#define SEALED_PREFIX "sealed1:"

bool sshkeys_seal_text(const char *plain, char *out, size_t cap)
{
    uint8_t box[SSHKEYS_SEALED_TEXT_MAX];
    size_t n = 0;
    size_t pre = sizeof SEALED_PREFIX - 1;
    if (!atomic_load(&master_set) || cap <= pre ||
        !sshkey_seal(master_key, plain, box, sizeof box, &n))
        return false;
    bool ok = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) <= cap - pre;
    if (ok) {
        memcpy(out, SEALED_PREFIX, pre);
        sodium_bin2base64(out + pre, cap - pre, box, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    }
    sodium_memzero(box, sizeof box);
    return ok;
}

bool sshkeys_open_text(const char *stored, char *out, size_t cap)
{
    size_t pre = sizeof SEALED_PREFIX - 1;
    if (strncmp(stored, SEALED_PREFIX, pre) != 0) {
        size_t n = strlen(stored);
        if (n + 1 > cap)
            return false;
        memcpy(out, stored, n + 1);
        return true;
    }
    uint8_t box[SSHKEYS_SEALED_TEXT_MAX];
    size_t n = 0;
    bool ok = atomic_load(&master_set) &&
              sodium_base642bin(box, sizeof box, stored + pre, strlen(stored + pre), NULL, &n, NULL,
                                sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
              sshkey_open(master_key, box, n, out, cap);
    sodium_memzero(box, sizeof box);
    return ok;
}

static piora_err fail(char *err, size_t errlen, piora_err e, const char *fmt, const char *path,
                      const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, path, why);
    return e;
}

piora_err sshkeys_master_load(const char *path, bool may_create, uint8_t out[SSHKEY_MASTER_LEN],
                              char *err, size_t errlen)
{
    if (!path || !*path)
        return fail(err, errlen, PIORA_EINVALID, "%s%s", "", "no master key file named");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && may_create) {
        /* O_EXCL: two nodes (or two starts) racing must not both write one. */
        int wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (wfd >= 0) {
            uint8_t k[SSHKEY_MASTER_LEN];
            randombytes_buf(k, sizeof k);
            ssize_t w = write(wfd, k, sizeof k);
            sodium_memzero(k, sizeof k);
            bool ok = w == (ssize_t)sizeof k && fsync(wfd) == 0;
            close(wfd);
            if (!ok) {
                unlink(path);
                return fail(err, errlen, PIORA_EINTERNAL, "cannot write the master key file %s: %s",
                            path, strerror(errno));
            }
        } else if (errno != EEXIST) {
            return fail(err, errlen, PIORA_EINTERNAL, "cannot create the master key file %s: %s",
                        path, strerror(errno));
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0)
        return fail(err, errlen, PIORA_ENOTFOUND, "cannot open the master key file %s: %s", path,
                    strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, PIORA_EINVALID, "the master key file %s is %s", path,
                    "not a regular file");
    }
    if (st.st_mode & 077) {
        close(fd);
        return fail(err, errlen, PIORA_EINVALID, "the master key file %s is %s", path,
                    "readable by others (chmod 600 it)");
    }
    uint8_t buf[SSHKEY_MASTER_LEN + 1];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n != SSHKEY_MASTER_LEN) {
        sodium_memzero(buf, sizeof buf);
        return fail(err, errlen, PIORA_EINVALID, "the master key file %s is %s", path,
                    "not 32 bytes");
    }
    memcpy(out, buf, SSHKEY_MASTER_LEN);
    sodium_memzero(buf, sizeof buf);
    return PIORA_OK;
}

bool sshkeys_master_path(const char *explicit_path, const char *database, char *out, size_t len)
{
    if (explicit_path && *explicit_path) {
        int n = snprintf(out, len, "%s", explicit_path);
        return n > 0 && (size_t)n < len;
    }
    if (!database || strstr(database, "://"))
        return false;
    const char *slash = strrchr(database, '/');
    int n = slash ? snprintf(out, len, "%.*s/piora.key", (int)(slash - database), database)
                  : snprintf(out, len, "piora.key");
    return n > 0 && (size_t)n < len;
}

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
    if (!sshkeys_have_master())
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
    bool ok = sshkey_seal(master_key, pair.private_text, rec->sealed, sizeof rec->sealed,
                          &rec->sealed_len);
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
    if (!sshkeys_have_master())
        return PIORA_EINTERNAL;
    sshkey_rec k[2];
    size_t got = 0;
    piora_err e = store_sshkey_get(s, team_id, k, &got);
    if (e != PIORA_OK)
        return e;
    for (size_t i = 0; i < got; i++) {
        /* A key sealed with another master key is no key: skip it, so a
         * wrong --secret-key-file shows as auth_failed, not a crash. */
        if (sshkey_open(master_key, k[i].sealed, k[i].sealed_len, keys[*n], SSHKEY_PRIVATE_MAX))
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
