/* The channel names are part of the audit log's contract (SPEC 6, the API
 * and `piora audit`): changing one breaks every reader of old entries. */
#include "core/actor.h"

const char *actor_channel_name(actor_channel c)
{
    switch (c) {
    case CHANNEL_DASHBOARD: return "dashboard";
    case CHANNEL_CLI: return "cli";
    case CHANNEL_API: return "api";
    case CHANNEL_SCHEDULE: return "schedule";
    case CHANNEL_RUNNER: return "runner";
    case CHANNEL_LEAK_REPORT: return "leak_report";
    case CHANNEL_SETUP: return "setup";
    case CHANNEL_OIDC: return "oidc";
    }
    return "unknown";
}
