/* The token format of SPEC 2: "piora_token_" + 30 base62 characters from the
 * CSPRNG + 6 base62 characters of CRC-32/IEEE over those 30, left-padded
 * with '0'. Only SHA-256(whole token) is ever stored. */
#ifndef PIORA_AUTH_TOKEN_H
#define PIORA_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define TOKEN_PREFIX "piora_token_"
#define TOKEN_PREFIX_LEN 12
#define TOKEN_RANDOM_LEN 30
#define TOKEN_CHECK_LEN 6
#define TOKEN_LEN (TOKEN_PREFIX_LEN + TOKEN_RANDOM_LEN + TOKEN_CHECK_LEN) /* 48 */
#define TOKEN_DIGEST_LEN 32
/* "piora_token_" + 4 + "…" (3 bytes of UTF-8) + 4 + NUL */
#define TOKEN_HINT_MAX 32

/* Fills out with a new token and its NUL. */
piora_err token_generate(char out[TOKEN_LEN + 1]);

/* True when s[0..len) has the exact shape and a correct checksum. This runs
 * before any lookup, so a forged or mistyped string costs no database work. */
bool token_well_formed(const char *s, size_t len);

/* CRC-32/IEEE (reflected, poly 0xEDB88320, init and xorout 0xFFFFFFFF). */
uint32_t token_crc32(const void *p, size_t n);
/* The 6-character base62 form of a CRC, left-padded with '0'. */
void token_checksum(const char *random30, char out[TOKEN_CHECK_LEN]);

void token_digest(const char *s, size_t len, uint8_t out[TOKEN_DIGEST_LEN]);

/* The non-secret hint shown in lists: prefix + first 4 + "…" + last 4. */
void token_hint(const char *token, char out[TOKEN_HINT_MAX]);

#endif
