#include "auth/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util/clock.h"

#define RL_WAYS 4       /* entries per bucket */
#define RL_STRIPES 64   /* mutexes; a bucket's stripe is its index mod this */
#define RL_MAX_SLOTS (1u << 24)
#define RL_MAX_WINDOW_S (100LL * 366 * 86400) /* keeps window_s * 1e9 in int64 */
#define NS_PER_S 1000000000LL

typedef struct rl_entry {
    uint64_t key;
    int64_t tat; /* theoretical arrival time, monotonic ns */
    bool used;   /* key 0 is a valid key, so occupancy is its own flag */
} rl_entry;

typedef struct rl_stripe {
    pthread_mutex_t mu;
} __attribute__((aligned(64))) rl_stripe;

struct ratelimit {
    int64_t limit;
    int64_t interval; /* T: ns between requests at the sustained rate */
    int64_t tau;      /* burst tolerance: T * (limit - 1) */
    uint32_t mask;    /* nbuckets - 1 */
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    rl_stripe stripes[RL_STRIPES];
    rl_entry *buckets; /* (mask + 1) * RL_WAYS entries, allocated once */
};

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;
static void sodium_setup(void) { sodium_status = sodium_init() < 0 ? -1 : 0; }

ratelimit_t *ratelimit_new(int64_t limit, int64_t window_s, uint32_t slots)
{
    if (limit < 0 || (limit > 0 && (window_s <= 0 || window_s > RL_MAX_WINDOW_S)))
        return NULL;
    pthread_once(&sodium_once, sodium_setup);
    if (sodium_status != 0)
        return NULL;

    ratelimit_t *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    rl->limit = limit;
    if (limit > 0) {
        rl->interval = window_s * NS_PER_S / limit;
        if (rl->interval < 1)
            rl->interval = 1;
        rl->tau = rl->interval * (limit - 1);
    }

    if (slots < RL_WAYS)
        slots = RL_WAYS;
    if (slots > RL_MAX_SLOTS)
        slots = RL_MAX_SLOTS;
    uint32_t n = 1;
    while (n < slots)
        n <<= 1;
    uint32_t nbuckets = n / RL_WAYS;
    rl->mask = nbuckets - 1;
    rl->buckets = calloc((size_t)nbuckets * RL_WAYS, sizeof(rl_entry));
    if (rl->buckets == NULL) {
        free(rl);
        return NULL;
    }
    /* Keyed SipHash: a client choosing keys (its address) cannot aim them
     * all at one bucket to evict someone else's state. */
    randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
    for (int i = 0; i < RL_STRIPES; i++)
        pthread_mutex_init(&rl->stripes[i].mu, NULL);
    return rl;
}

void ratelimit_free(ratelimit_t *rl)
{
    if (rl == NULL)
        return;
    for (int i = 0; i < RL_STRIPES; i++)
        pthread_mutex_destroy(&rl->stripes[i].mu);
    free(rl->buckets);
    free(rl);
}

static uint32_t rl_bucket(const ratelimit_t *rl, uint64_t key)
{
    unsigned char in[8], out[crypto_shorthash_BYTES];
    for (int i = 0; i < 8; i++)
        in[i] = (unsigned char)(key >> (8 * i));
    crypto_shorthash(out, in, sizeof(in), rl->hash_key);
    uint32_t h;
    memcpy(&h, out, sizeof(h));
    return h & rl->mask;
}

static int64_t ceil_div_s(int64_t ns) { return ns <= 0 ? 0 : (ns + NS_PER_S - 1) / NS_PER_S; }

/* Requests still allowed at `now` when the key's TAT is `tat`: those k with
 * tat + k*T - now <= tau, i.e. (limit*T - (tat - now)) / T of them. */
static int64_t rl_remaining(const ratelimit_t *rl, int64_t tat, int64_t now)
{
    int64_t room = rl->interval * rl->limit - (tat - now);
    if (room <= 0)
        return 0;
    int64_t r = room / rl->interval;
    return r > rl->limit ? rl->limit : r;
}

/* Shared by take and peek: the bucket is locked for the whole decision so
 * that concurrent takes on one key cannot both spend the last request. */
static ratelimit_result rl_step(ratelimit_t *rl, uint64_t key, int64_t now, bool spend)
{
    ratelimit_result res = {.allowed = true, .limit = rl->limit};
    if (rl->limit == 0) {
        res.reset = clock_now();
        return res;
    }

    uint32_t b = rl_bucket(rl, key);
    rl_entry *ways = rl->buckets + (size_t)b * RL_WAYS;
    pthread_mutex_t *mu = &rl->stripes[b % RL_STRIPES].mu;

    pthread_mutex_lock(mu);
    rl_entry *e = NULL, *victim = NULL;
    for (int i = 0; i < RL_WAYS; i++) {
        rl_entry *w = &ways[i];
        if (w->used && w->key == key) {
            e = w;
            break;
        }
        /* Prefer an empty way, else the oldest TAT: a TAT already in the
         * past is a key whose state equals a fresh one, so evicting it
         * forgets nothing; the keys nearest their limit are kept longest. */
        if (victim == NULL || (victim->used && (!w->used || w->tat < victim->tat)))
            victim = w;
    }
    int64_t tat = e != NULL && e->tat > now ? e->tat : now;
    if (tat - now > rl->tau) {
        res.allowed = false;
        int64_t wait = ceil_div_s(tat - rl->tau - now);
        res.retry_after = wait < 1 ? 1 : wait;
    } else if (spend) {
        tat += rl->interval;
        if (e == NULL) {
            e = victim;
            e->key = key;
            e->used = true;
        }
        e->tat = tat;
    }
    pthread_mutex_unlock(mu);

    res.remaining = res.allowed ? rl_remaining(rl, tat, now) : 0;
    res.reset = clock_now() + ceil_div_s(tat - now);
    return res;
}

ratelimit_result ratelimit_take(ratelimit_t *rl, uint64_t key, int64_t now_ns)
{
    return rl_step(rl, key, now_ns, true);
}

ratelimit_result ratelimit_peek(ratelimit_t *rl, uint64_t key, int64_t now_ns)
{
    return rl_step(rl, key, now_ns, false);
}

uint64_t ratelimit_key(const char *text)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return h;
}

void ratelimit_refund(ratelimit_t *rl, uint64_t key, int64_t now_ns)
{
    if (rl->limit == 0)
        return;
    uint32_t b = rl_bucket(rl, key);
    rl_entry *ways = rl->buckets + (size_t)b * RL_WAYS;
    pthread_mutex_t *mu = &rl->stripes[b % RL_STRIPES].mu;
    pthread_mutex_lock(mu);
    for (int i = 0; i < RL_WAYS; i++) {
        rl_entry *w = &ways[i];
        if (w->used && w->key == key) {
            w->tat -= rl->interval;
            if (w->tat < now_ns)
                w->tat = now_ns;
            break;
        }
    }
    pthread_mutex_unlock(mu);
}
