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

void reqid_new(char out[REQID_NEW_LEN + 1])
{
    uint8_t raw[REQID_NEW_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, REQID_NEW_LEN + 1, raw, sizeof raw);
}
