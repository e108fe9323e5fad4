/* piora: one binary; argv picks one command (app/ runs serve, cli/ the rest). */
#include "app/app.h"

#ifndef PIORA_VERSION
#define PIORA_VERSION "0.0.0"
#endif

int main(int argc, char **argv) { return app_main(argc, argv, PIORA_VERSION); }
