/* CRC-32/IEEE (reflected, poly 0xEDB88320, init and xorout 0xFFFFFFFF): the
 * checksum of a Piora token (auth/token.h), here so that the layers that
 * may not include auth/ (the monitor's log redaction) can check one too. */
#ifndef PIORA_UTIL_CRC32_H
#define PIORA_UTIL_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_ieee(const void *p, size_t n);

#endif
