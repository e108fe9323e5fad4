/* A PostgreSQL server of a test program's own, for the store tests that
 * run on PostgreSQL only (test_store_postgres, test_store_feed): when
 * PIORA_TEST_STORE_URL names no postgres:// server (a plain ctest), the
 * program starts a throwaway cluster with tests/lib/pgserver.sh on a free
 * loopback port, points PIORA_TEST_STORE_URL at it, and stops it at the
 * end. Such a test never passes, nor is it skipped, without a server.
 * Needs PIORA_SOURCE_DIR (CMakeLists.txt). static, one copy per program. */
#ifndef PIORA_TEST_STORE_PG_OWN_H
#define PIORA_TEST_STORE_PG_OWN_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_fixture.h"

static char pg_own_dir[128];

static int pg_own_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void pg_own_stop(const char *who)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/lib/pgserver.sh' stop '%s/cluster'",
             PIORA_SOURCE_DIR, pg_own_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "%s: could not stop %s/cluster\n", who, pg_own_dir);
    rmdir(pg_own_dir);
}

/* True with a server to test on: the one PIORA_TEST_STORE_URL names
 * (*own false) or one started here (*own true: pg_own_stop() it at the
 * end). False, said on stderr, when neither. */
static bool pg_own_start(const char *who, bool *own)
{
    *own = false;
    if (fixture_url_is_pg(fixture_store_url()))
        return true;
    snprintf(pg_own_dir, sizeof pg_own_dir, "/tmp/piora-test-pg-XXXXXX");
    int port = pg_own_free_port();
    bool ok = mkdtemp(pg_own_dir) && chmod(pg_own_dir, 0755) == 0 && port > 0;
    char url[256] = "";
    if (ok) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "bash '%s/tests/lib/pgserver.sh' start '%s/cluster' %d",
                 PIORA_SOURCE_DIR, pg_own_dir, port);
        FILE *p = popen(cmd, "r");
        ok = p && fgets(url, sizeof url, p) != NULL;
        if (p && pclose(p) != 0)
            ok = false;
        url[strcspn(url, "\n")] = '\0';
        ok = ok && fixture_url_is_pg(url);
    }
    if (!ok) {
        fprintf(stderr, "%s: no postgres:// PIORA_TEST_STORE_URL and no server of its own "
                        "(tests/lib/pgserver.sh failed)\n", who);
        if (pg_own_dir[0] == '/' && access(pg_own_dir, F_OK) == 0)
            pg_own_stop(who);
        return false;
    }
    setenv("PIORA_TEST_STORE_URL", url, 1);
    *own = true;
    return true;
}

#endif
