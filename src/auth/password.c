#include "auth/password.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <sodium.h>

_Static_assert(PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "PASSWORD_HASH_MAX must match libsodium");

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;
static void sodium_setup(void) { sodium_status = sodium_init() < 0 ? -1 : 0; }

/* Every Argon2id run, made or checked: what a flood of bad input costs,
 * counted where the cost is paid so no caller can forget it. */
static _Atomic uint64_t hashes;

uint64_t password_hash_count(void) { return atomic_load(&hashes); }

piora_err password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
    if (pw == NULL || len < PASSWORD_MIN_LEN || len > PASSWORD_MAX_LEN)
        return PIORA_EINVALID;
    pthread_once(&sodium_once, sodium_setup);
    if (sodium_status != 0)
        return PIORA_EINTERNAL;
    atomic_fetch_add(&hashes, 1);
    /* Explicitly Argon2id (libsodium's default today, but a default can
     * change); the salt and parameters travel inside the string, so hashes
     * made with other parameters (libsodium's INTERACTIVE, 64 MiB, before
     * issue 8) still verify. */
    if (crypto_pwhash_str_alg(out, pw, (unsigned long long)len, PASSWORD_ARGON2_OPS,
                              PASSWORD_ARGON2_MEM, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return PIORA_ENOMEM;
    return PIORA_OK;
}

bool password_verify(const char *hash, const char *pw, size_t len)
{
    /* A stored hash is NUL-terminated within its column size; anything else
     * is corrupt and must not be read past. Over-long passwords are refused
     * before they cost an Argon2 run. Short ones are verified anyway (they
     * simply cannot match), so the minimum can change without locking
     * anyone out. */
    if (hash == NULL || strnlen(hash, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX)
        return false;
    if ((pw == NULL && len > 0) || len > PASSWORD_MAX_LEN)
        return false;
    pthread_once(&sodium_once, sodium_setup);
    if (sodium_status != 0)
        return false;
    atomic_fetch_add(&hashes, 1);
    return crypto_pwhash_str_verify(hash, pw != NULL ? pw : "", (unsigned long long)len) == 0;
}
