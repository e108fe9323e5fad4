/* `piora ssh-key show`: the team's public key and its authorized_keys line,
 * for an operator setting up a server from the machine Piora runs on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "core/masterkey.h"
#include "core/sshkeys.h"

static const char sshkey_usage[] =
    "Usage: piora ssh-key show [--team T] [--json] [--database PATH_OR_URL]\n"
    "                          [--secret-key-file PATH]\n"
    "\n"
    "Prints the team's SSH public key (made on first use, audited), its\n"
    "fingerprint and the previous key while one is kept. Append the public key\n"
    "line to ~/.ssh/authorized_keys of each server's ssh_user. The private key\n"
    "is never shown.\n"
    "\n"
    "  --team T            the team's name (needed when there is more than one)\n"
    "  --json              the API's answer: {public_key, fingerprint, created_at,\n"
    "                      previous}\n"
    "  --secret-key-file P the master key file (PIORA_SECRET_KEY_FILE; default\n"
    "                      piora.key beside the SQLite file)\n";

static const char group_usage[] =
    "Usage: piora ssh-key <command>\n"
    "\n"
    "Commands:\n"
    "  show   print the team's SSH public key and fingerprint\n";

/* The team named T, or the only team there is. */
static int find_team(store_t *s, const char *name, int64_t *id, char *team, size_t len)
{
    user_rec *users = NULL;
    size_t n = 0;
    if (store_user_list(s, &users, &n) != PIORA_OK)
        return cli_fail("cannot read the users");
    *id = 0;
    bool several = false;
    for (size_t i = 0; i < n; i++) {
        if (name ? strcmp(users[i].team_name, name) == 0 : true) {
            if (*id && *id != users[i].team_id)
                several = true;
            *id = users[i].team_id;
            snprintf(team, len, "%s", users[i].team_name);
        }
    }
    free(users);
    if (several)
        return cli_usage_error("piora ssh-key show", "there is more than one team: name one with --team");
    if (!*id)
        return name ? cli_fail("no team is named %s", name) : cli_fail("there is no team yet");
    return EXIT_OK;
}

static int cmd_sshkey_show(int argc, char **argv)
{
    enum { F_TEAM, F_JSON, F_KEYFILE, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_TEAM] = {.name = "team"},
        [F_JSON] = {.name = "json", .kind = FLAG_BOOL},
        [F_KEYFILE] = {.name = "secret-key-file", .env = "PIORA_SECRET_KEY_FILE"},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    int rc;
    if (!cli_flags("piora ssh-key show", sshkey_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    const char *db = defs[F_DATABASE].value ? defs[F_DATABASE].value : "./piora.db";
    char path[4096], why[512] = "";
    if (!masterkey_path(defs[F_KEYFILE].value, db, path, sizeof path))
        return cli_fail("--secret-key-file is required with a database URL");
    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
    if (!s)
        return EXIT_FAIL;
    int64_t team_id = 0;
    char team[TEAM_NAME_MAX + 1] = "";
    if ((rc = find_team(s, defs[F_TEAM].value, &team_id, team, sizeof team)) != EXIT_OK) {
        store_close(s);
        return rc;
    }
    /* Only a team without a key needs the master key (to seal a new one). */
    uint8_t master[SSHKEY_MASTER_LEN];
    if (masterkey_load(path, true, master, why, sizeof why) == PIORA_OK) {
        masterkey_set(master);
        sodium_memzero(master, sizeof master);
    }
    json_t *o = NULL;
    piora_err e = sshkeys_show(s, cli_actor(), team_id, team, &o);
    store_close(s);
    if (e == PIORA_EINTERNAL && why[0])
        return cli_fail("%s", why);
    if (e != PIORA_OK)
        return cli_fail("cannot read the team's key: %s", piora_strerror(e));
    if (defs[F_JSON].given) {
        if (!cli_print_json(o))
            return cli_fail("out of memory");
        return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
    }
    printf("team:        %s\n", team);
    printf("fingerprint: %s\n", json_string_value(json_object_get(o, "fingerprint")));
    printf("created:     %s\n", json_string_value(json_object_get(o, "created_at")));
    printf("authorized_keys line:\n%s\n", json_string_value(json_object_get(o, "public_key")));
    json_t *prev = json_object_get(o, "previous");
    if (json_is_object(prev))
        printf("previous key (still offered): %s\n%s\n",
               json_string_value(json_object_get(prev, "fingerprint")),
               json_string_value(json_object_get(prev, "public_key")));
    json_decref(o);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

int cmd_sshkey(int argc, char **argv)
{
    static const cli_cmd sub[] = {
        {"show", cmd_sshkey_show, "print the team's SSH public key"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("piora ssh-key", sub, group_usage, argc, argv);
}
