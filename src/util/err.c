#include "util/err.h"

const char *piora_strerror(piora_err e)
{
    switch (e) {
    case PIORA_OK: return "ok";
    case PIORA_ENOTFOUND: return "not found";
    case PIORA_EINVALID: return "invalid input";
    case PIORA_ECONFLICT: return "conflict";
    case PIORA_EBADREQ: return "bad request";
    case PIORA_ETOOBIG: return "too large";
    case PIORA_ENOMEM: return "out of memory";
    case PIORA_EBUSY: return "database busy";
    case PIORA_EDB: return "database error";
    case PIORA_EAUTH: return "authentication failed";
    case PIORA_EINTERNAL: return "internal error";
    }
    return "unknown error";
}
