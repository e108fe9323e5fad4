/* The dashboard's static files, embedded at build time from src/web/assets
 * (cmake/embed_assets.cmake). */
#ifndef PIORA_WEB_ASSETS_H
#define PIORA_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *path;         /* "/app.js": relative to src/web/assets */
    const char *content_type;
    const unsigned char *data; /* NUL-terminated for convenience; len excludes it */
    size_t len;
} web_asset;

extern const web_asset piora_assets[];
extern const int piora_assets_count;

#endif
