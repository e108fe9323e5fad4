/* piora: one binary; argv picks one command of cli/. */
#include "cli/cli.h"

#ifndef PIORA_VERSION
#define PIORA_VERSION "0.0.0"
#endif

int main(int argc, char **argv) { return cli_main(argc, argv, PIORA_VERSION); }
