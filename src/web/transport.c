/* Was this request made over HTTPS, as far as the session cookie is
 * concerned? --secure-cookies 1 says so for every request; otherwise a
 * trusted proxy's X-Forwarded-Proto does (req_https, http/peer.c). The
 * session cookie is marked Secure then. */
#include "web/internal.h"

bool web_request_secure(req_t *r) { return web_cfg.secure_cookies || req_https(r); }
