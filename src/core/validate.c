#include "core/validate.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/json.h"

/* ---- field checks ---------------------------------------------------- */

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

/* Dotted quad with exactly four decimal parts 0-255 and no leading zeros
 * (010.1.1.1 is octal to some parsers and decimal to others: refuse it). */
static bool ipv4_strict(const char *s, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        unsigned val = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            val = val * 10 + (unsigned)(s[i] - '0');
            if (val > 255)
                return false;
            i++;
        }
        size_t len = i - start;
        if (len == 0 || (len > 1 && s[start] == '0'))
            return false;
        parts++;
        if (i < n) {
            if (s[i] != '.' || parts == 4)
                return false;
            i++;
            if (i == n)
                return false;
        }
    }
    return parts == 4;
}

const char *check_ip(const char *v)
{
    static const char *msg = "must be an IPv4 or IPv6 address";
    size_t n = strlen(v);
    if (n == 0 || n > 45)
        return msg;
    bool colon = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        /* hex digits, ':' and '.' only: no zone ids (%eth0), spaces, brackets */
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == ':' || c == '.'))
            return msg;
        if (c == ':')
            colon = true;
    }
    unsigned char buf[16];
    if (!colon) {
        if (!ipv4_strict(v, n) || inet_pton(AF_INET, v, buf) != 1)
            return msg;
        return NULL;
    }
    if (inet_pton(AF_INET6, v, buf) != 1)
        return msg;
    /* An embedded IPv4 tail (::ffff:1.2.3.4) must follow the same rules. */
    const char *last = strrchr(v, ':');
    if (strchr(last, '.') && !ipv4_strict(last + 1, strlen(last + 1)))
        return msg;
    return NULL;
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
        "must be https://host/path, ssh://[user@]host[:port]/path, user@host:path or owner/repo";
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

/* ---- objects ----------------------------------------------------------- */

static const char *kind_word(field_kind k)
{
    switch (k) {
    case FK_STRING: return "a string";
    case FK_INT: return "an integer";
    case FK_ENUM: return "a string";
    case FK_REF: return "a positive integer id";
    case FK_TIME: return "an RFC 3339 time";
    }
    return "a value";
}

/* Validates one value for field f and, if good, stores the column value in
 * out. Adds one field error and returns false otherwise. */
static bool validate_value(const field_desc *f, json_t *val, json_t *out, verrs *errs)
{
    if (json_is_null(val)) {
        if (!(f->flags & FF_NULLABLE)) {
            verrs_add(errs, f->name, "must not be null");
            return false;
        }
        json_object_set_new(out, f->name, json_null());
        return true;
    }
    switch (f->kind) {
    case FK_STRING: {
        if (!json_is_string(val))
            break;
        const char *s = json_string_value(val);
        size_t n = json_string_length(val);
        if (!utf8_valid(s, n)) {
            verrs_add(errs, f->name, "must be valid UTF-8 without NUL characters");
            return false;
        }
        if (f->max_len && n > f->max_len) {
            verrs_add(errs, f->name, "must be at most %zu bytes", f->max_len);
            return false;
        }
        if (f->check) {
            const char *m = f->check(s);
            if (m) {
                verrs_add(errs, f->name, "%s", m);
                return false;
            }
        }
        json_object_set(out, f->name, val);
        return true;
    }
    case FK_INT:
        if (!json_is_integer(val))
            break;
        if (json_integer_value(val) < f->min || json_integer_value(val) > f->max) {
            verrs_add(errs, f->name, "must be between %lld and %lld", (long long)f->min,
                      (long long)f->max);
            return false;
        }
        json_object_set(out, f->name, val);
        return true;
    case FK_ENUM: {
        if (!json_is_string(val))
            break;
        const char *s = json_string_value(val);
        size_t n = json_string_length(val);
        for (const char *const *e = f->enum_values; e && *e; e++)
            if (strlen(*e) == n && memcmp(*e, s, n) == 0) {
                json_object_set(out, f->name, val);
                return true;
            }
        char list[200] = "";
        size_t used = 0;
        for (const char *const *e = f->enum_values; e && *e; e++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *e);
            if (w < 0 || (size_t)w >= sizeof list - used)
                break;
            used += (size_t)w;
        }
        verrs_add(errs, f->name, "must be one of: %s", list);
        return false;
    }
    case FK_REF:
        if (!json_is_integer(val))
            break;
        if (json_integer_value(val) < 1) {
            verrs_add(errs, f->name, "must be a positive integer id");
            return false;
        }
        json_object_set(out, f->name, val);
        return true;
    case FK_TIME: {
        int64_t t;
        if (!json_is_string(val))
            break;
        if (!utf8_valid(json_string_value(val), json_string_length(val)) ||
            !clock_parse_rfc3339(json_string_value(val), &t)) {
            verrs_add(errs, f->name, "must be an RFC 3339 time");
            return false;
        }
        char buf[RFC3339_LEN];
        clock_fmt_rfc3339(t, buf);
        json_object_set_new(out, f->name, json_string(buf));
        return true;
    }
    }
    verrs_add(errs, f->name, "must be %s%s", kind_word(f->kind),
              (f->flags & FF_NULLABLE) ? " or null" : "");
    return false;
}

/* The create-time value of a field the client left out. */
static void fill_default(const field_desc *f, json_t *out)
{
    if (f->has_def_int)
        json_object_set_new(out, f->name, json_integer(f->def_int));
    else if (f->def_text)
        json_object_set_new(out, f->name, json_string(f->def_text));
    else if (f->flags & FF_NULLABLE)
        json_object_set_new(out, f->name, json_null());
}

piora_err validate_object(const resource_desc *desc, const json_t *body, bool create,
                          json_t **values, verrs *errs)
{
    *values = NULL;
    if (!json_is_object(body)) {
        verrs_add(errs, "", "the body must be a JSON object");
        return PIORA_EBADREQ;
    }
    json_t *out = json_object();
    if (!out)
        return PIORA_ENOMEM;
    size_t before = errs->n;
    bool bad = false;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)body, key, val) {
        const field_desc *f = resource_field(desc, key);
        if (!f && (strcmp(key, "id") == 0 || strcmp(key, "created_at") == 0 ||
                   strcmp(key, "updated_at") == 0)) {
            verrs_add(errs, key, "is read-only");
            bad = true;
            continue;
        }
        if (!f) {
            verrs_add(errs, key, "unknown field");
            bad = true;
            continue;
        }
        if (!(f->flags & FF_WRITABLE)) {
            verrs_add(errs, key, "is read-only");
            bad = true;
            continue;
        }
        if (!create && (f->flags & FF_IMMUTABLE)) {
            verrs_add(errs, key, "cannot be changed after creation");
            bad = true;
            continue;
        }
        if (!validate_value(f, val, out, errs))
            bad = true;
    }
    if (!bad && json_object_size(body) == 0 && !create) {
        verrs_add(errs, "", "at least one field is required");
        bad = true;
    }
    if (create) {
        for (size_t i = 0; i < desc->nfields; i++) {
            const field_desc *f = &desc->fields[i];
            if (json_object_get(body, f->name))
                continue;
            if (f->flags & FF_REQUIRED) {
                if (f->flags & FF_WRITABLE) {
                    verrs_add(errs, f->name, "is required");
                    bad = true;
                }
                continue;
            }
            fill_default(f, out);
        }
    }
    if (bad || errs->n > before) {
        json_decref(out);
        return PIORA_EINVALID;
    }
    *values = out;
    return PIORA_OK;
}
