/* Small JSON writing helpers for the hot paths that build output directly
 * into a buf_t (jansson is used for parsing and for general documents). */
#ifndef PIORA_UTIL_JSON_H
#define PIORA_UTIL_JSON_H

#include <stddef.h>

#include "util/buf.h"

/* Appends s as a JSON string literal (quotes included), escaping control
 * characters, quotes and backslashes; invalid UTF-8 bytes become U+FFFD. */
void json_put_str(buf_t *b, const char *s);
void json_put_strn(buf_t *b, const char *s, size_t n);

/* True when s[0..n) is valid UTF-8 without NUL bytes. */
int utf8_valid(const char *s, size_t n);

#endif
