/* The syntax checks the descriptors name (schema/model.c): plain string
 * rules with no knowledge of requests or storage, so they sit beside the
 * descriptors that point at them. core/validate.c calls them through the
 * field descriptors. */
#include "schema/check.h"

#include <stdbool.h>
#include <string.h>

#include "util/cidr.h"
#include "util/cron.h"
#include "util/json.h"

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_name_char(unsigned char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; }

/* 1..max bytes, each of A-Za-z0-9._- */
static bool simple_token(const char *v, size_t max)
{
    size_t n = strlen(v);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char((unsigned char)v[i]))
            return false;
    return true;
}

const char *check_name(const char *v)
{
    if (!simple_token(v, 64))
        return "must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'";
    return NULL;
}

const char *check_version(const char *v)
{
    if (!simple_token(v, 32))
        return "must be 1-32 characters of A-Z, a-z, 0-9, '.', '_' and '-'";
    return NULL;
}

const char *check_ip(const char *v)
{
    /* util/cidr.h's strict reading, the one token address rules use: four
     * decimal parts without leading zeros, no zone ids, brackets or ports */
    uint8_t a[16];
    return cidr_addr_parse(v, strlen(v), a) ? NULL : "must be an IPv4 or IPv6 address";
}

/* RFC 1123 labels of 1-63 letters, digits and '-', not starting or ending
 * with '-', dot-separated; a single label (localhost) is accepted. */
static bool hostname_ok(const char *v, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '.') {
            if (label == 0 || v[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!is_alnum(c) && c != '-')
            return false;
        if (c == '-' && label == 0)
            return false;
        if (++label > 63)
            return false;
    }
    return label > 0 && v[n - 1] != '-';
}

const char *check_hostname(const char *v)
{
    if (!hostname_ok(v, strlen(v)))
        return "must be a host name (RFC 1123 labels of letters, digits and '-', at most 253 "
               "characters)";
    return NULL;
}

const char *check_ssh_user(const char *v)
{
    static const char *msg = "must match ^[a-z_][a-z0-9_-]{0,31}$";
    size_t n = strlen(v);
    if (n == 0 || n > 32)
        return msg;
    if (!((v[0] >= 'a' && v[0] <= 'z') || v[0] == '_'))
        return msg;
    for (size_t i = 1; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return msg;
    }
    return NULL;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* The rules of git check-ref-format for a branch name. The name is later
 * handed to git by the deploy runner, so anything git would refuse (or read
 * as an option) is refused here. */
const char *check_branch(const char *v)
{
    static const char *msg = "must be a valid git branch name";
    size_t n = strlen(v);
    if (n == 0 || n > 255)
        return msg;
    if (!utf8_valid(v, n))
        return msg;
    if (v[0] == '-' || v[0] == '/' || v[n - 1] == '/' || v[n - 1] == '.')
        return msg;
    if (strcmp(v, "@") == 0 || strstr(v, "..") || strstr(v, "@{") || strstr(v, "//"))
        return msg;
    size_t comp = 0; /* start of the current path component */
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (i == n || c == '/') {
            if (v[comp] == '.' || ends_with(v + comp, i - comp, ".lock"))
                return msg;
            comp = i + 1;
            continue;
        }
        if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
            return msg;
    }
    return NULL;
}

/* Characters allowed in the path part of a repository location: URL-safe
 * ASCII, nothing a shell would interpret. */
static bool repo_path_char(unsigned char c)
{
    return is_alnum(c) || strchr("._~/-+%@:=,", c) != NULL;
}

static bool repo_path_ok(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!repo_path_char((unsigned char)p[i]))
            return false;
    return true;
}

static bool port_ok(const char *p, size_t n)
{
    if (n == 0 || n > 5 || p[0] == '0')
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* host: a host name, an IPv4 literal (passes as a host name) or a
 * bracketed IPv6 literal. */
static bool repo_host_ok(const char *h, size_t n)
{
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        char tmp[64];
        if (n - 2 >= sizeof tmp)
            return false;
        memcpy(tmp, h + 1, n - 2);
        tmp[n - 2] = '\0';
        return strchr(tmp, ':') && check_ip(tmp) == NULL;
    }
    return hostname_ok(h, n);
}

/* "host[:port]/path" after the scheme; user@ only when allow_user. */
static bool repo_url_rest_ok(const char *s, bool allow_user)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return false;
    const char *auth = s;
    size_t alen = (size_t)(slash - s);
    const char *at = memchr(auth, '@', alen);
    if (at) {
        if (!allow_user)
            return false; /* credentials do not belong in a stored URL */
        size_t ulen = (size_t)(at - auth);
        if (ulen == 0)
            return false;
        for (size_t i = 0; i < ulen; i++)
            if (!is_name_char((unsigned char)auth[i]))
                return false;
        alen -= ulen + 1;
        auth = at + 1;
    }
    /* the port colon is the last ':' after any bracketed IPv6 literal */
    const char *hostend = auth + alen;
    const char *close = memchr(auth, ']', alen);
    const char *colon = memchr(close ? close : auth, ':', (size_t)(hostend - (close ? close : auth)));
    if (colon) {
        if (!port_ok(colon + 1, (size_t)(hostend - colon - 1)))
            return false;
        hostend = colon;
    }
    if (!repo_host_ok(auth, (size_t)(hostend - auth)))
        return false;
    /* a path beyond the bare "/" */
    return repo_path_ok(slash + 1, strlen(slash + 1));
}

const char *check_repository(const char *v)
{
    static const char *msg =
        "must be https://host/path, ssh://[user@]host[:port]/path, user@host:path, an absolute "
        "path on the server or owner/repo";
    size_t n = strlen(v);
    if (n == 0 || n > 512)
        return msg;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= 0x20 || c >= 0x7f)
            return msg;
    }
    if (strncmp(v, "https://", 8) == 0)
        return repo_url_rest_ok(v + 8, false) ? NULL : msg;
    if (strncmp(v, "ssh://", 6) == 0)
        return repo_url_rest_ok(v + 6, true) ? NULL : msg;
    if (strstr(v, "://"))
        return msg;

    /* a path on the application's server (SPEC 10: any URL that git there
     * accepts, a path included) */
    if (v[0] == '/')
        return repo_path_ok(v, n) && !strstr(v, "/../") ? NULL : msg;

    /* scp-like: user@host:path */
    const char *at = strchr(v, '@');
    const char *colon = strchr(v, ':');
    if (at && colon && at < colon) {
        size_t ulen = (size_t)(at - v);
        if (ulen == 0)
            return msg;
        for (size_t i = 0; i < ulen; i++)
            if (!is_name_char((unsigned char)v[i]))
                return msg;
        if (v[0] == '-')
            return msg;
        if (!hostname_ok(at + 1, (size_t)(colon - at - 1)))
            return msg;
        return repo_path_ok(colon + 1, strlen(colon + 1)) ? NULL : msg;
    }

    /* owner/repo */
    const char *slash = strchr(v, '/');
    if (!slash || strchr(slash + 1, '/') || slash == v || slash[1] == '\0')
        return msg;
    if (v[0] == '-' || v[0] == '.')
        return msg;
    for (size_t i = 0; i < n; i++)
        if (v[i] != '/' && !is_name_char((unsigned char)v[i]))
            return msg;
    if (strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
        return msg;
    return NULL;
}

/* Free text: 1-64 bytes of UTF-8 without C0, DEL or C1 control characters. */
const char *check_label(const char *v)
{
    static const char *msg = "must be 1-64 bytes of UTF-8 text without control characters";
    size_t n = strlen(v);
    if (n == 0 || n > 64 || !utf8_valid(v, n))
        return msg;
    const unsigned char *s = (const unsigned char *)v;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            return msg;
        if (s[i] == 0xC2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
            return msg; /* U+0080..U+009F */
    }
    return NULL;
}


/* A database's host is handed to the engine's client tool (always quoted,
 * and as --host=VALUE so it can never be read as another option). A path is
 * a Unix socket or its directory (PostgreSQL takes the directory). */
const char *check_db_host(const char *v)
{
    size_t n = strlen(v);
    if (n > 0 && v[0] == '/') {
        if (n > 255)
            return "a socket path must be at most 255 bytes";
        for (size_t i = 0; i < n; i++)
            if (!is_name_char((unsigned char)v[i]) && v[i] != '/')
                return "a socket path must be '/' then A-Z, a-z, 0-9, '.', '_', '-' and '/'";
        if (strstr(v, "/../") || (n >= 3 && strcmp(v + n - 3, "/..") == 0))
            return "a socket path must not contain '..'";
        return NULL;
    }
    if (!check_ip(v) || !check_hostname(v))
        return NULL;
    return "must be a host name, an IP address or an absolute socket path";
}

const char *check_db_user(const char *v)
{
    if (!simple_token(v, 63) || v[0] == '-')
        return "must be 1-63 characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '-'";
    return NULL;
}

const char *check_cron(const char *v)
{
    cron_expr c;
    if (!cron_parse(v, &c, NULL, 0))
        return "must be a 5-field cron expression (minute hour day-of-month month day-of-week, "
               "UTC): numbers, names, '*', ranges a-b, steps /n, lists";
    return NULL;
}

/* What `ssh-keygen -l -E sha256` prints: 32 bytes as unpadded base64. */
const char *check_host_key_fingerprint(const char *v)
{
    static const char *msg = "must be SHA256: and 43 base64 characters, as ssh-keygen -l prints";
    if (strncmp(v, "SHA256:", 7) != 0 || strlen(v) != 7 + 43)
        return msg;
    for (const char *c = v + 7; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '+' || *c == '/'))
            return msg;
    return NULL;
}
