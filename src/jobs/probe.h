#ifndef PIORA_JOBS_PROBE_H
#define PIORA_JOBS_PROBE_H
#include "core/servercheck.h"

/* A server_probe_fn (core/servercheck.h) over jobs/exec.h. */
server_probe_status jobs_server_probe(const server_probe *p, char fingerprint[SSHKEY_FP_MAX],
                                      char *detail, size_t detail_len);

#endif
