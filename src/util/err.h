/* One outcome type for every layer. The store, the domain (core/) and the
 * auth modules all return piora_err; http/response.c is the one place that
 * maps an outcome to an HTTP status, and cli/ maps it to an exit message. */
#ifndef PIORA_UTIL_ERR_H
#define PIORA_UTIL_ERR_H

typedef enum piora_err {
    PIORA_OK = 0,
    PIORA_ENOTFOUND,  /* no such object (or another team's: same answer) */
    PIORA_EINVALID,   /* input failed validation (422 with field errors) */
    PIORA_ECONFLICT,  /* unique key taken, or object still referenced (409) */
    PIORA_EBADREQ,    /* malformed request, e.g. invalid JSON (400) */
    PIORA_ETOOBIG,    /* over a configured bound (413) */
    PIORA_ENOMEM,     /* allocation failed */
    PIORA_EBUSY,      /* database locked past the busy timeout (503) */
    PIORA_EDB,        /* any other storage failure (500) */
    PIORA_EAUTH,      /* wrong credentials (CLI, sign-in) */
    PIORA_EINTERNAL   /* a bug or an impossible state */
} piora_err;

const char *piora_strerror(piora_err e);

#endif
