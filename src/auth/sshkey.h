/* Ed25519 key pairs for SSH, made with libsodium, and the sealing of their
 * private halves with the master key. No storage, no libssh: the private key
 * comes out as OpenSSH's own text (what ssh-keygen writes to id_ed25519), which
 * jobs/ssh.c imports from memory. */
#ifndef PIORA_AUTH_SSHKEY_H
#define PIORA_AUTH_SSHKEY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSHKEY_MASTER_LEN 32
#define SSHKEY_PUBLIC_MAX 256   /* "ssh-ed25519 " + 68 base64 + " piora-<team>", with room */
#define SSHKEY_FP_MAX 72        /* "SHA256:" + 43, with room */
#define SSHKEY_PRIVATE_MAX 512  /* the OpenSSH text of one unencrypted Ed25519 key */
#define SSHKEY_SEALED_MAX (SSHKEY_PRIVATE_MAX + 64)
#define SSHKEY_COMMENT_MAX 96

typedef struct sshkey_pair {
    char public_line[SSHKEY_PUBLIC_MAX]; /* authorized_keys line */
    char fingerprint[SSHKEY_FP_MAX];     /* as `ssh-keygen -l -E sha256` */
    char private_text[SSHKEY_PRIVATE_MAX]; /* secret: sshkey_wipe() when done */
} sshkey_pair;

/* A new pair; comment ends the public line ("piora-<team>"). */
bool sshkey_generate(const char *comment, sshkey_pair *out);
void sshkey_wipe(sshkey_pair *k);

/* Seals text with the master key (XSalsa20-Poly1305, a random nonce
 * first). *sealed_len gets the length; false if it does not fit. */
bool sshkey_seal(const uint8_t master[SSHKEY_MASTER_LEN], const char *text, uint8_t *sealed,
                 size_t cap, size_t *sealed_len);
/* Opens what sshkey_seal made into out (NUL-terminated); false when the
 * master key is another one or the bytes were changed. */
bool sshkey_open(const uint8_t master[SSHKEY_MASTER_LEN], const uint8_t *sealed, size_t len,
                 char *out, size_t cap);

#endif
