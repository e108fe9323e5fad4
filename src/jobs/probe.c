/* core/servercheck.h's probe over jobs/exec.h: connect, check the host key,
 * authenticate, run nothing. app/ registers it at start. */
#include "jobs/probe.h"

#include <stdio.h>

#include "jobs/exec.h"

server_probe_status jobs_server_probe(const server_probe *p, char fingerprint[SSHKEY_FP_MAX],
                                      char *detail, size_t detail_len)
{
    jobs_target t = {.host = p->host, .port = p->port, .user = p->user,
                     .host_key_fingerprint = p->pinned};
    for (size_t i = 0; i < p->nkeys && i < JOBS_EXEC_MAX_KEYS; i++)
        t.keys[t.nkeys++] = p->keys[i];
    jobs_exec_out out;
    jobs_exec_result r = jobs_exec_run(&t, NULL, &out);
    snprintf(fingerprint, SSHKEY_FP_MAX, "%.*s", SSHKEY_FP_MAX - 1, out.fingerprint);
    snprintf(detail, detail_len, "%s", r == JOBS_EXEC_OK ? "connected and authenticated" : out.detail);
    switch (r) {
    case JOBS_EXEC_OK: return PROBE_REACHABLE;
    case JOBS_EXEC_AUTH_FAILED: return PROBE_AUTH_FAILED;
    case JOBS_EXEC_HOST_KEY_MISMATCH: return PROBE_HOST_KEY_MISMATCH;
    case JOBS_EXEC_UNREACHABLE:
    case JOBS_EXEC_TIMEOUT: return PROBE_UNREACHABLE;
    default: return PROBE_INTERNAL;
    }
}
