/* The backend-neutral half of change.h: this process's generation per
 * kind, and the last feed counter it saw per kind, shared by every thread.
 * Both are atomics: serving threads read them on every request, the
 * writers and pollers move them. */
#include <stdatomic.h>
#include <string.h>

#include "store/change_backend.h"
#include "store/store_backend.h"

static atomic_uint_fast64_t generations[CHANGE__COUNT];
static atomic_int_fast64_t seen[CHANGE__COUNT];

static const char *const kind_names[CHANGE__COUNT] = {
    [CHANGE_TOKENS] = "tokens",     [CHANGE_USERS] = "users",     [CHANGE_OBJECTS] = "objects",
    [CHANGE_SESSIONS] = "sessions", [CHANGE_MONITOR] = "monitor",
};

const char *change_kind_name(change_kind k)
{
    return (unsigned)k < CHANGE__COUNT ? kind_names[k] : "";
}

bool change_kind_parse(const char *name, change_kind *k)
{
    for (int i = 0; name && i < CHANGE__COUNT; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *k = (change_kind)i;
            return true;
        }
    }
    return false;
}

/* A sum of counters that only grow changes exactly when one of them does,
 * so a mask of kinds needs no generation of its own. */
uint64_t change_generation(unsigned kinds)
{
    uint64_t g = 0;
    for (int k = 0; k < CHANGE__COUNT; k++)
        if (kinds & CHANGE_BIT(k))
            g += atomic_load_explicit(&generations[k], memory_order_acquire);
    return g;
}

void change_bump(unsigned kinds)
{
    for (int k = 0; k < CHANGE__COUNT; k++)
        if (kinds & CHANGE_BIT(k))
            atomic_fetch_add_explicit(&generations[k], 1, memory_order_acq_rel);
}

/* The generation moves before the counter is published: a thread that
 * finds the counter already seen (and so moves nothing itself) is then
 * sure to read the moved generation. */
void change_committed(change_kind k, int64_t counter)
{
    atomic_fetch_add_explicit(&generations[k], 1, memory_order_acq_rel);
    atomic_store_explicit(&seen[k], counter, memory_order_release);
}

bool change_observe(change_kind k, int64_t counter)
{
    if (atomic_load_explicit(&seen[k], memory_order_acquire) == counter)
        return false;
    change_committed(k, counter);
    return true;
}

piora_err change_poll(store_t *s, unsigned *moved)
{
    unsigned m = 0;
    piora_err e = s->ops->change_poll(s, &m);
    if (e != PIORA_OK) {
        change_bump(CHANGE_ALL);
        m = CHANGE_ALL;
    }
    if (moved)
        *moved = m;
    return e;
}

void change_wait_visible(store_t *s) { s->ops->change_wait_visible(s); }

void change_settle(store_t *s, unsigned kinds)
{
    if (s->ops->change_settle)
        s->ops->change_settle(s, kinds);
}
