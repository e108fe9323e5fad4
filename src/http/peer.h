/* Facts about the other end of a request that libmicrohttpd holds: the
 * socket's address, the client behind a trusted proxy (X-Forwarded-For),
 * the request id. http/server.c asks them once per request and puts them
 * in the req_t that the pipeline reads. */
#ifndef PIORA_HTTP_PEER_H
#define PIORA_HTTP_PEER_H

#include <stddef.h>

#include "monitor/reqid.h"

struct MHD_Connection;

/* peer: the socket's address ("unknown" when it has none we can print);
 * client: that, or the client a trusted proxy names (every X-Forwarded-For
 * header, in order, read as one list; an oversized list is not believed). */
void peer_addresses(struct MHD_Connection *c, char *peer, size_t peerlen, char *client,
                    size_t clientlen);

/* The client's X-Request-Id when it is sane, else a new one. */
void peer_request_id(struct MHD_Connection *c, char out[REQID_MAX + 1]);

#endif
