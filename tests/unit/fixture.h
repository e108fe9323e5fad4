/* The database fixture shared by the unit tests that need a store: a fresh
 * SQLite file in its own temporary directory, and users to own things.
 * static inline, so each test_*.c stays one self-contained executable. */
#ifndef PIORA_TEST_FIXTURE_H
#define PIORA_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

#define FIXTURE_DIR_MAX 64
#define FIXTURE_PATH_MAX 128

/* A well-formed argon2id hash that no password matches: users made here
 * never sign in. */
#define FIXTURE_FAKE_HASH "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo"

/* Makes /tmp/piora-test-<name>-XXXXXX into dir and opens <dir>/piora.db
 * (its path into path). NULL, with the reason on stderr, on failure. */
static inline store_t *fixture_db_open(char dir[FIXTURE_DIR_MAX], char path[FIXTURE_PATH_MAX],
                                       const char *name)
{
    snprintf(dir, FIXTURE_DIR_MAX, "/tmp/piora-test-%s-XXXXXX", name);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return NULL;
    }
    snprintf(path, FIXTURE_PATH_MAX, "%s/piora.db", dir);
    char msg[256] = "";
    store_t *s = store_open(path, msg, sizeof msg);
    if (!s)
        fprintf(stderr, "store_open: %s\n", msg);
    return s;
}

/* Removes the database with its WAL, shared-memory and journal files, then
 * the directory (the caller closes its connections first). */
static inline void fixture_db_remove(const char *dir, const char *path)
{
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char p[FIXTURE_PATH_MAX + 16];
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* The whole fixture of a test that needs only a fresh store. */
typedef struct fixture_db {
    char dir[FIXTURE_DIR_MAX];
    char path[FIXTURE_PATH_MAX];
    store_t *s;
} fixture_db;

/* For a cmocka setup: a fixture_db into *state, named as fixture_db_open. */
static inline int fixture_db_setup(void **state, const char *name)
{
    fixture_db *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->s = fixture_db_open(fx->dir, fx->path, name);
    if (!fx->s) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

/* For a cmocka teardown: closes and removes what fixture_db_setup made. */
static inline int fixture_db_teardown(void **state)
{
    fixture_db *fx = *state;
    store_close(fx->s);
    fixture_db_remove(fx->dir, fx->path);
    free(fx);
    return 0;
}

/* A user with FIXTURE_FAKE_HASH in team (made on first use); false when
 * the store refuses. out may be NULL. */
static inline bool fixture_user(store_t *s, const char *email, const char *team, bool is_admin,
                                user_rec *out)
{
    user_rec u;
    return store_user_create(s, email, team, is_admin, FIXTURE_FAKE_HASH, out ? out : &u) ==
           PIORA_OK;
}

/* Runs fn on a connection of its own in a child process: another process
 * writing to the same file, as the CLI does while the server runs. True
 * when the child opened the store and fn answered true. */
static inline bool fixture_in_child(const char *path, bool (*fn)(store_t *s, void *arg),
                                    void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        char msg[256] = "";
        store_t *s = store_open(path, msg, sizeof msg);
        bool ok = s && fn(s, arg);
        store_close(s);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#endif
