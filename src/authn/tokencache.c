#include "authn/tokencache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4
#define STRIPES 64

typedef struct slot {
    uint8_t digest[TOKEN_DIGEST_LEN];
    uint64_t gen; /* tokens generation + 1; 0: empty */
    tokencache_entry e;
} slot_t;

static slot_t *slots;
static uint32_t nsets; /* sets of WAYS slots; a power of two */
static pthread_mutex_t locks[STRIPES];

/* Unknown digests: direct-mapped, a newer digest overwrites an older one. */
typedef struct unknown_slot {
    uint8_t digest[TOKEN_DIGEST_LEN];
    bool used;
} unknown_slot;

static unknown_slot *unknown;
static uint32_t nunknown; /* a power of two */
static pthread_mutex_t unknown_locks[STRIPES];

void tokencache_init(uint32_t n)
{
    uint32_t sets = 1;
    while (sets * WAYS < n && sets < (1u << 24))
        sets <<= 1;
    nsets = sets;
    slots = calloc((size_t)sets * WAYS, sizeof *slots);
    nunknown = sets * WAYS;
    unknown = calloc(nunknown, sizeof *unknown);
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_init(&locks[i], NULL);
        pthread_mutex_init(&unknown_locks[i], NULL);
    }
}

void tokencache_free(void)
{
    free(slots);
    slots = NULL;
    nsets = 0;
    free(unknown);
    unknown = NULL;
    nunknown = 0;
}

/* A SHA-256 digest is already uniformly distributed: its first bytes are
 * the hash. */
static uint32_t set_of(const uint8_t *d)
{
    uint32_t h;
    memcpy(&h, d, sizeof h);
    return h & (nsets - 1);
}

bool tokencache_get(const uint8_t digest[TOKEN_DIGEST_LEN], uint64_t gen, tokencache_entry *out)
{
    if (!slots)
        return false;
    uint32_t set = set_of(digest);
    pthread_mutex_t *m = &locks[set % STRIPES];
    bool hit = false;
    pthread_mutex_lock(m);
    slot_t *s = &slots[(size_t)set * WAYS];
    for (int i = 0; i < WAYS; i++) {
        if (s[i].gen == gen + 1 && memcmp(s[i].digest, digest, TOKEN_DIGEST_LEN) == 0) {
            *out = s[i].e;
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(m);
    return hit;
}

void tokencache_put(const uint8_t digest[TOKEN_DIGEST_LEN], uint64_t gen,
                    const tokencache_entry *e)
{
    if (!slots)
        return;
    gen += 1;
    uint32_t set = set_of(digest);
    pthread_mutex_t *m = &locks[set % STRIPES];
    pthread_mutex_lock(m);
    slot_t *s = &slots[(size_t)set * WAYS];
    /* Reuse this digest's slot, else the one with the oldest generation
     * (stale entries are dead weight; among live ones any victim is fine). */
    int victim = 0;
    for (int i = 0; i < WAYS; i++) {
        if (memcmp(s[i].digest, digest, TOKEN_DIGEST_LEN) == 0) {
            victim = i;
            break;
        }
        if (s[i].gen < s[victim].gen)
            victim = i;
    }
    if (s[victim].gen <= gen) {
        memcpy(s[victim].digest, digest, TOKEN_DIGEST_LEN);
        s[victim].gen = gen;
        s[victim].e = *e;
    }
    pthread_mutex_unlock(m);
}

/* The digest's bytes 4..7 pick the slot: independent of the bytes set_of()
 * uses, and as uniform. */
static uint32_t unknown_index(const uint8_t *d)
{
    uint32_t h;
    memcpy(&h, d + 4, sizeof h);
    return h & (nunknown - 1);
}

bool tokencache_unknown_has(const uint8_t digest[TOKEN_DIGEST_LEN])
{
    if (!unknown)
        return false;
    uint32_t i = unknown_index(digest);
    pthread_mutex_t *m = &unknown_locks[i % STRIPES];
    pthread_mutex_lock(m);
    bool hit = unknown[i].used && memcmp(unknown[i].digest, digest, TOKEN_DIGEST_LEN) == 0;
    pthread_mutex_unlock(m);
    return hit;
}

void tokencache_unknown_add(const uint8_t digest[TOKEN_DIGEST_LEN])
{
    if (!unknown)
        return;
    uint32_t i = unknown_index(digest);
    pthread_mutex_t *m = &unknown_locks[i % STRIPES];
    pthread_mutex_lock(m);
    memcpy(unknown[i].digest, digest, TOKEN_DIGEST_LEN);
    unknown[i].used = true;
    pthread_mutex_unlock(m);
}
