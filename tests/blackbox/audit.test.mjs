// Issue 7: every change writes its own audit entry from its actor, and an
// entry names its token (token_name, the name at the time of the event) in
// the dashboard's audit list, `piora audit --json` and the audit table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { addUser, cli, createToken, startServer, newDatabase, tmpDir, tokenId, T } from './lib/piora.mjs';

async function auditJson(db) {
  const r = await cli(['audit', '--json', '--database', db]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// A dashboard session: cookie and CSRF token for state-changing calls.
async function signIn(s, email, password) {
  const r = await s.post('/web/api/signin', { body: { email, password } });
  assert.equal(r.status, 200, r.text);
  const cookie = /^([^;]+)/.exec(r.h('set-cookie'))[1];
  return { Cookie: cookie, 'X-CSRF-Token': r.json.csrf };
}

describe('audit entries name their token', () => {
  it('CLI, API, leak report and dashboard changes, each with its channel', { timeout: T(60000) }, async (t) => {
    const db = newDatabase(tmpDir('audit'));
    const password = await addUser(db, { email: 'ava@audit.test', team: 'audit' });
    const cliTok = await createToken(db, { email: 'ava@audit.test', name: 'cli-made', scopes: 'servers:read' });
    const leaked = await createToken(db, { email: 'ava@audit.test', name: 'leaked one', scopes: 'servers:read' });
    const cliId = await tokenId(db, 'cli-made');

    const s = await startServer(t, { dbPath: db });
    assert.equal((await s.del('/api/v1/token', { token: cliTok })).status, 204);
    assert.equal((await s.post('/api/v1/credentials/revoke', { body: { credentials: [leaked] } })).status, 202);

    const hdr = await signIn(s, 'ava@audit.test', password);
    const made = await s.post('/web/api/tokens', { headers: hdr, body: { name: 'web-made', scopes: ['servers:read'] } });
    assert.equal(made.status, 201, made.text);
    const webId = made.json.id;
    assert.equal((await s.post(`/web/api/tokens/${webId}/regenerate`, { headers: hdr })).status, 200);
    assert.equal((await s.post(`/web/api/tokens/${webId}/revoke`, { headers: hdr })).status, 200);
    assert.equal((await s.post(`/web/api/tokens/${webId}/revoke`, { headers: hdr })).status, 200); // no-op

    const page = await s.get('/web/api/audit?per_page=100', { headers: hdr });
    assert.equal(page.status, 200, page.text);
    const web = page.json.data.filter((e) => e.token_id === webId);
    assert.deepEqual(web.map((e) => `${e.action}/${e.via}/${e.token_name}`).reverse(), [
      'token.created/dashboard/web-made',
      'token.regenerated/dashboard/web-made',
      'token.revoked/dashboard/web-made',
    ]);
    for (const e of web) {
      assert.equal(e.actor?.email, 'ava@audit.test');
      assert.equal(e.addr, '127.0.0.1');
    }
    assert.equal((await s.post('/web/api/signout', { headers: hdr })).status, 204);
    await s.stop();

    const all = await auditJson(db);
    const byToken = (name) => all.filter((e) => e.token_name === name).map((e) => `${e.action}/${e.via}`).reverse();
    assert.deepEqual(byToken('cli-made'), ['token.created/cli', 'token.revoked/api']);
    assert.deepEqual(byToken('leaked one'), ['token.created/cli', 'token.revoked/leak_report']);
    const self = all.find((e) => e.via === 'api');
    assert.equal(self.token_id, cliId);
    assert.equal(self.actor?.email, 'ava@audit.test');
    for (const e of all) assert.ok('token_name' in e, 'every entry has the field');
    for (const e of all.filter((x) => x.token_id === null)) assert.equal(e.token_name, null);
    assert.deepEqual(all.filter((e) => e.action.startsWith('sign')).map((e) => `${e.action}/${e.via}`).reverse(),
      ['signin/dashboard', 'signout/dashboard']);

    const table = await cli(['audit', '--database', db]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`token\\.revoked\\s+api\\s+\\S+\\s+\\S+\\s+${cliId} \\(cli-made\\)`));
    assert.match(table.stdout, /\(leaked one\)/);
  });
});
