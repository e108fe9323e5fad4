/* Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1,
 * 6 digits, 30-second steps, the code of the step before and after also
 * accepted (clock drift), each step usable once (the caller keeps the last
 * one used). Keys travel as RFC 4648 base32 without padding, as
 * authenticator apps take them in otpauth:// URIs. Knows no storage. */
#ifndef PIORA_AUTH_TOTP_H
#define PIORA_AUTH_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTP_KEY_LEN 20   /* 160 bits, RFC 4226's recommendation */
#define TOTP_B32_LEN 32   /* base32 of TOTP_KEY_LEN bytes */
#define TOTP_STEP_S 30
#define TOTP_DIGITS 6

/* A new random key. */
void totp_key_new(uint8_t key[TOTP_KEY_LEN]);

/* Base32 (A-Z2-7, no padding) of n bytes into out (8 * ceil(n/5) / ... +1
 * bytes suffice: outlen >= (n * 8 + 4) / 5 + 1). false when it does not fit. */
bool totp_b32_encode(const uint8_t *in, size_t n, char *out, size_t outlen);
/* Decodes base32 (case-insensitive, spaces and '=' ignored) into out; *n
 * the bytes written. false on another character or when out is too small. */
bool totp_b32_decode(const char *in, uint8_t *out, size_t outlen, size_t *n);

/* HOTP (RFC 4226) of counter with digits (6-8) digits, as a number. */
uint32_t totp_hotp(const uint8_t *key, size_t keylen, uint64_t counter, int digits);

/* The step counter of a Unix time. */
static inline uint64_t totp_step(int64_t t) { return t < 0 ? 0 : (uint64_t)t / TOTP_STEP_S; }

/* Whether code (exactly TOTP_DIGITS decimal digits) is the code of the step
 * of now, or the one before or after, and that step is after last_step
 * (each code works once). *step gets the matching step. */
bool totp_verify(const uint8_t *key, size_t keylen, const char *code, int64_t now,
                 uint64_t last_step, uint64_t *step);

#endif
