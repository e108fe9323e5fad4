/* The `piora` command line (SPEC 7): the command table and the few helpers
 * every command shares. Exit statuses: 0 success, 1 the operation failed
 * (EXIT_FAIL, message "piora: ..." on stderr), 2 the command line is wrong
 * (EXIT_USAGE: unknown command or flag, missing or malformed value). Every
 * failure prints exactly one line on stderr; secrets never go there. */
#ifndef PIORA_CLI_CLI_H
#define PIORA_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/flags.h"
#include "core/actor.h"
#include "store/store.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* A command or subcommand: argv[0] is its own name, argv[1..] the rest. */
typedef int (*cli_run_fn)(int argc, char **argv);

typedef struct cli_cmd {
    const char *name;
    cli_run_fn run;
    const char *summary;
} cli_cmd;

/* Entry point from app_main() for every command but serve; version is
 * PIORA_VERSION. */
int cli_main(int argc, char **argv, const char *version);
extern const char *cli_version;

int cmd_user(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_publisher(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_sshkey(int argc, char **argv);

/* Runs the subcommand of table named by argv[1]; `path` is "piora user" and
 * usage the group's help text (printed for --help, exit 0). */
int cli_dispatch(const char *path, const cli_cmd *table, const char *usage, int argc,
                 char **argv);

/* Parses a (sub)command's flags; on --help prints usage to stdout and sets
 * *exit_code to 0, on a bad line prints one line to stderr and sets it to 2.
 * Returns true when the command should go on. */
bool cli_flags(const char *path, const char *usage, flag_def *defs, size_t ndefs, int argc,
               char **argv, const char **pos, size_t maxpos, size_t *npos, int *exit_code);

/* "piora: <path>: <msg> (see '<path> --help')" on stderr; returns 2. */
int cli_usage_error(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "piora: <msg>" on stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The store named by --database / PIORA_DATABASE (default ./piora.db), or
 * NULL after printing why. Unless may_create (SPEC 7: only `serve` and
 * `user add`), a SQLite file that does not exist is refused with a message
 * naming its absolute path, and nothing is created. */
store_t *cli_open_store(const char *database, bool may_create);

/* What the audit log's addr holds for a CLI action: no client address,
 * but the OS account that ran the command, "local:<user name>". */
#define CLI_ADDR_PREFIX "local:"

/* The actor of every CLI action: channel cli, addr CLI_ADDR_PREFIX and the
 * effective user's name (getpwuid(geteuid())), looked up once. */
const actor *cli_actor(void);

/* Prints v as indented JSON (keys in insertion order) on stdout and drops
 * the reference; false when it cannot be formatted (out of memory). */
bool cli_print_json(json_t *v);

/* Parses a --limit value (1-100000) into *limit; EXIT_OK, or the usage
 * error's status after printing it. */
int cli_limit_flag(const char *path, const char *value, int64_t *limit);

/* Flushes stdout; false (after a message) when the output was lost. */
bool cli_flush_stdout(void);

/* Every text the CLI prints from the database or the command line goes
 * through here: s as is, but each byte of a control character (C0, DEL,
 * C1), a bidirectional override or isolate, or invalid UTF-8 written as
 * "\xHH", so a stored string (a failed sign-in's email) cannot steer the
 * terminal. */
void cli_put(FILE *f, const char *s);

/* Display width of s as cli_put prints it, for table alignment: one
 * column per code point, four per escaped byte. */
int cli_width(const char *s);

/* Prints an aligned table to stdout: a header row, then nrows rows of
 * ncols cells each (cells[row * ncols + col]), columns two spaces apart. */
void cli_table(const char *const *header, size_t ncols, const char *const *cells, size_t nrows);

/* The common --database flag, for the commands' flag tables. */
#define CLI_FLAG_DATABASE {.name = "database", .env = "PIORA_DATABASE", .kind = FLAG_VALUE}

#endif
