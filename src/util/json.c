#include "util/json.h"

#include <string.h>

static size_t utf8_seq(const unsigned char *s, size_t n)
{
    /* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

int utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        if (s[i] == 0)
            return 0;
        size_t l = utf8_seq(s + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

void json_put_strn(buf_t *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    buf_putc(b, '"');
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = s[i];
        const char *esc = NULL;
        char tmp[7];
        size_t l = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == 0x7f) {
            memcpy(tmp, "\\u00", 4);
            tmp[4] = hex[c >> 4];
            tmp[5] = hex[c & 15];
            tmp[6] = 0;
            esc = tmp;
        } else if (c >= 0x80) {
            l = utf8_seq(s + i, n - i);
            if (!l) {
                esc = "\\ufffd";
                l = 1;
            }
        }
        if (esc) {
            buf_append(b, s + i - run, run);
            run = 0;
            buf_puts(b, esc);
            i += l;
        } else {
            run += l;
            i += l;
        }
    }
    buf_append(b, s + n - run, run);
    buf_putc(b, '"');
}

void json_put_str(buf_t *b, const char *s) { json_put_strn(b, s, strlen(s)); }
