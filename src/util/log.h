/* Operational log lines on standard error, one JSON object per line.
 * Never pass a token, password or query string to these functions: the
 * callers log ids and hints only. */
#ifndef PIORA_UTIL_LOG_H
#define PIORA_UTIL_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level lvl);
void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
