/* The job runner inside `piora serve` (SPEC 10): worker threads that claim
 * queued deployments, backups and restores from the database under a lease and run them over SSH
 * (jobs/exec.h), and one thread that renews this node's leases and ends
 * other nodes' expired ones as lost. Nothing here runs on an HTTP thread. */
#ifndef PIORA_JOBS_RUNNER_H
#define PIORA_JOBS_RUNNER_H
#include "util/err.h"

typedef struct runner_conf {
    const char *database; /* what store_open() takes */
    unsigned workers;     /* jobs this node runs at once */
    unsigned per_server;  /* --jobs-per-server */
    unsigned timeout_s;   /* --job-timeout */
    unsigned lease_s;     /* --job-lease */
} runner_conf;

piora_err runner_start(const runner_conf *c);
/* Stops claiming; running jobs are killed on their servers and end failed
 * with "lost" (the node went away before they finished). */
void runner_stop(void);

#endif
