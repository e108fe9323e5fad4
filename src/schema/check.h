/* Field syntax checks named by the resource descriptors (schema/model.c).
 * Each takes a NUL-terminated value and returns NULL when it is good, else
 * the message of the 422 field error. */
#ifndef PIORA_SCHEMA_CHECK_H
#define PIORA_SCHEMA_CHECK_H

const char *check_name(const char *v);       /* 1-64 of A-Za-z0-9._- */
const char *check_ip(const char *v);         /* IPv4 or IPv6 literal */
const char *check_hostname(const char *v);   /* RFC 1123 host name */
const char *check_ssh_user(const char *v);   /* POSIX portable user name */
const char *check_branch(const char *v);     /* git check-ref-format rules */
const char *check_repository(const char *v); /* https URL, ssh URL, git@host:path, owner/repo */
const char *check_version(const char *v);    /* 1-32 of A-Za-z0-9._- */
const char *check_label(const char *v);      /* free text: no control chars */
const char *check_db_host(const char *v);    /* host name, IP literal or absolute socket path */
const char *check_db_user(const char *v);    /* 1-63 of A-Za-z0-9._-, not starting with '-' */
const char *check_cron(const char *v);       /* 5-field cron expression (util/cron.h) */
const char *check_host_key_fingerprint(const char *v); /* "SHA256:" + 43 base64 (ssh-keygen -l) */

#endif
