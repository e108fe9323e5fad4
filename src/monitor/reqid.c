#include "monitor/reqid.h"

#include <sodium.h>
#include <stdint.h>

bool reqid_valid(const char *s, size_t n)
{
    if (!s || n == 0 || n > REQID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Request ids must be unique, not secret: each thread seeds a 64-bit
 * generator once from the CSPRNG and then steps it (splitmix64), because
 * randombytes_buf() is a getrandom() system call per request (measured:
 * ~1.5% of a cached list request in the kernel's CRNG alone). */
void reqid_new(char out[REQID_NEW_LEN + 1])
{
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    if (!seeded) {
        randombytes_buf(&state, sizeof state);
        seeded = true;
    }
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    uint8_t raw[REQID_NEW_LEN / 2];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(z >> (8 * (i % 8)));
    sodium_bin2hex(out, REQID_NEW_LEN + 1, raw, sizeof raw);
}
