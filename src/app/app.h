/* app/: the composition root. It alone may see every layer, so the
 * commands that put the whole server together (`piora serve`) live here;
 * every other command is handed to cli/. */
#ifndef PIORA_APP_APP_H
#define PIORA_APP_APP_H

/* Entry point from main(); version is PIORA_VERSION. */
int app_main(int argc, char **argv, const char *version);

/* `piora serve`: argv[0] is "serve". Returns the process exit status. */
int app_serve(int argc, char **argv, const char *version);

#endif
