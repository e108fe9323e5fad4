// Calls every operation of the served OpenAPI document once, typed by the
// paths openapi-typescript generated from it. scripts/test.sh compiles this
// under `tsc --strict`, checks with check-calls.mjs that every operation of
// the document has its `client.call('<path>', '<method>'` line here (an
// endpoint added later fails the stage until it gets one), then runs it
// against a server (PIORA_BASE, PIORA_TOKEN: a token with every scope).
// To add an endpoint: one more `client.call(...)` line, in an order where
// the objects it needs exist.
import { Client } from './call.js';

// The two parts of Node's process this uses (no @types/node to pin).
declare const process: { env: Record<string, string | undefined>; exit(code: number): never };

const base = process.env.PIORA_BASE ?? 'http://127.0.0.1:8080';
const client = new Client(base, process.env.PIORA_TOKEN);
const anonymous = new Client(base);

async function main(): Promise<void> {
  await anonymous.call('/healthz', 'get');
  await anonymous.call('/readyz', 'get');
  const doc = await anonymous.call('/api/v1/openapi.json', 'get');
  console.log(`document ${doc.data.info.title}`);
  await client.call('/metrics', 'get');

  const self = await client.call('/api/v1/token', 'get');
  console.log(`token ${self.data.name}: ${self.data.scopes.join(' ')}`);

  const server = (await client.call('/api/v1/servers', 'post', {
    body: { name: 'typed-client', ip_address: '192.0.2.10' },
  })).data;
  await client.call('/api/v1/servers', 'get', { query: { page: 1, per_page: 10 } });
  await client.call('/api/v1/servers/{id}', 'get', { params: { id: server.id } });
  await client.call('/api/v1/servers/{id}', 'patch', { params: { id: server.id }, body: { region: 'eu-1' } });

  await client.call('/api/v1/ssh-key', 'get');
  await client.call('/api/v1/ssh-key/rotate', 'post');
  await client.call('/api/v1/ssh-key/previous', 'delete');
  // Nothing listens at 192.0.2.10: the check answers 200 with what it found.
  await client.call('/api/v1/servers/{id}/check', 'post', { params: { id: server.id } });

  const app = (await client.call('/api/v1/applications', 'post', {
    body: { name: 'typed-app', server_id: server.id, repository: 'https://git.example.com/app.git' },
  })).data;
  await client.call('/api/v1/applications', 'get');
  await client.call('/api/v1/applications/{id}', 'get', { params: { id: app.id } });
  await client.call('/api/v1/applications/{id}', 'patch', { params: { id: app.id }, body: { branch: 'main' } });
  const deployment = (await client.call('/api/v1/applications/{id}/deploy', 'post', { params: { id: app.id } })).data;
  await client.call('/api/v1/applications/{id}/deployments', 'get', { params: { id: app.id } });
  await client.call('/api/v1/deployments/{id}', 'get', { params: { id: deployment.id } });
  await client.call('/api/v1/deployments/{id}/log', 'get', { params: { id: deployment.id }, query: { offset: 0 } });
  await client.call('/api/v1/deployments/{id}/cancel', 'post', { params: { id: deployment.id } });

  const db = (await client.call('/api/v1/databases', 'post', {
    body: { name: 'typed-db', engine: 'postgresql', server_id: server.id },
  })).data;
  await client.call('/api/v1/databases', 'get');
  await client.call('/api/v1/databases/{id}', 'get', { params: { id: db.id } });
  await client.call('/api/v1/databases/{id}', 'patch', { params: { id: db.id }, body: { version: '16' } });

  const backup = (await client.call('/api/v1/backups', 'post', { body: { database_id: db.id } })).data;
  await client.call('/api/v1/backups', 'get');
  await client.call('/api/v1/backups/{id}', 'get', { params: { id: backup.id } });
  // No runner reaches 192.0.2.10: the backup stays unfinished, and the
  // document's 409 for a download or a restore of it is what answers.
  await client.call('/api/v1/backups/{id}/download', 'get', { params: { id: backup.id }, expect: 409 });
  await client.call('/api/v1/backups/{id}/restore', 'post', { params: { id: backup.id }, expect: 409 });
  await client.call('/api/v1/restores', 'get');
  await client.call('/api/v1/restores/{id}', 'get', { params: { id: 999999 }, expect: 404 });
  await client.call('/api/v1/backups/{id}/log', 'get', { params: { id: backup.id }, query: { offset: 0 } });
  await client.call('/api/v1/backups/{id}/cancel', 'post', { params: { id: backup.id } });
  await client.call('/api/v1/restores/{id}/log', 'get', { params: { id: 999999 }, query: { offset: 0 }, expect: 404 });
  await client.call('/api/v1/restores/{id}/cancel', 'post', { params: { id: 999999 }, expect: 404 });
  await client.call('/api/v1/backups/{id}', 'delete', { params: { id: backup.id } });

  await client.call('/api/v1/applications/{id}', 'delete', { params: { id: app.id } });
  await client.call('/api/v1/databases/{id}', 'delete', { params: { id: db.id } });
  await client.call('/api/v1/servers/{id}', 'delete', { params: { id: server.id } });

  // No issuer runs here: the exchange is refused, as the document says.
  await anonymous.call('/api/v1/oidc/token', 'post', { body: { token: 'not.a.jwt' }, expect: 401 });

  // Last: both end a token. Revoking an unknown credential still answers.
  await anonymous.call('/api/v1/credentials/revoke', 'post', { body: { credentials: ['not-a-piora-token'] } });
  await client.call('/api/v1/token', 'delete');
  console.log('every call answered 2xx');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
