// Offboarding (issue 13, SPEC 7): `piora user disable|enable|remove` and the
// dashboard's member endpoints end the user's sessions and revoke their
// tokens at once, also for a server that was started before the CLI ran;
// the team's last admin stays; admins see and revoke every team token.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { addUser, cli, createToken, run, startServer, newDatabase, tmpDir } from './lib/piora.mjs';
import { noteSecret } from '../lib/journal.mjs';

async function addAdmin(db, email, team) {
  const password = 'Adm1n-pw-' + email;
  await cli(['user', 'add', '--email', email, '--team', team, '--admin', '--password-stdin', '--database', db],
    { input: password + '\n' });
  noteSecret(password);
  return password;
}

async function signIn(s, email, password) {
  const r = await s.post('/web/api/signin', { body: { email, password } });
  assert.equal(r.status, 200, r.text);
  const cookie = (r.h('set-cookie') ?? '').split(';')[0];
  noteSecret(cookie.split('=').slice(1).join('='));
  return { Cookie: cookie, 'X-CSRF-Token': r.json.csrf, Origin: s.base };
}

describe('offboarding from the CLI', () => {
  it('disable revokes the tokens a running server accepts, ends sessions, refuses sign-in; enable lets them back', async (t) => {
    const db = newDatabase(tmpDir('off'));
    await addAdmin(db, 'ada@off.test', 'off');
    const pw = await addUser(db, { email: 'bob@off.test', team: 'off' });
    const tok = await createToken(db, { email: 'bob@off.test', name: 'bob-ci', scopes: 'servers:read' });
    const s = await startServer(t, { dbPath: db });
    assert.equal((await s.get('/api/v1/servers', { token: tok })).status, 200);
    const bob = await signIn(s, 'bob@off.test', pw);
    assert.equal((await s.get('/web/api/tokens', { headers: bob })).status, 200);

    const r = await run(['user', 'disable', '--email', 'Bob@off.test', '--database', db]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'disabled bob@off.test: sessions ended, 1 token revoked\n');

    const after = await s.get('/api/v1/servers', { token: tok });
    assert.equal(after.status, 401, 'the very next request is refused');
    assert.equal(after.json.code, 'token_revoked');
    assert.equal((await s.get('/web/api/tokens', { headers: bob })).status, 401, 'the session is gone');
    const again = await s.post('/web/api/signin', { body: { email: 'bob@off.test', password: pw } });
    assert.equal(again.status, 401, 'a disabled user cannot sign in');
    const made = await run(['token', 'create', '--email', 'bob@off.test', '--name', 'x', '--scopes', 'servers:read', '--database', db]);
    assert.equal(made.code, 1);
    assert.match(made.stderr, /disabled/);
    assert.equal(made.stdout, '');

    const list = JSON.parse((await cli(['user', 'list', '--json', '--database', db])).stdout);
    assert.equal(list.find((u) => u.email === 'bob@off.test').disabled, true);
    const table = (await cli(['user', 'list', '--database', db])).stdout;
    assert.match(table, /bob@off\.test\s+off\s+no\s+\S+\s+disabled/);

    const en = await run(['user', 'enable', '--email', 'bob@off.test', '--database', db]);
    assert.equal(en.code, 0, en.stderr);
    assert.match(en.stdout, /^enabled bob@off\.test/);
    assert.equal((await s.post('/web/api/signin', { body: { email: 'bob@off.test', password: pw } })).status, 200);
    assert.equal((await s.get('/api/v1/servers', { token: tok })).status, 401, 'tokens stay revoked');

    const audit = JSON.parse((await cli(['audit', '--json', '--database', db])).stdout);
    const entries = Array.isArray(audit) ? audit : audit.data;
    const actions = entries.map((e) => e.action);
    assert.ok(actions.includes('user.disabled'), actions.join());
    assert.ok(actions.includes('user.enabled'), actions.join());
    const dis = entries.find((e) => e.action === 'user.disabled');
    assert.equal(dis.via, 'cli');
    assert.equal(dis.email, 'bob@off.test');
    await s.stop();
  });

  it('remove takes the user off the lists but keeps their objects and their name in the audit log; the last admin stays', async (t) => {
    const db = newDatabase(tmpDir('rm'));
    await addAdmin(db, 'ada@rm.test', 'rm');
    await addUser(db, { email: 'cy@rm.test', team: 'rm' });
    const tok = await createToken(db, { email: 'cy@rm.test', name: 'cy-ci', scopes: 'servers:write' });
    const s = await startServer(t, { dbPath: db });
    const made = await s.post('/api/v1/servers', { token: tok, body: { name: 'web-1', ip_address: '203.0.113.7' } });
    assert.equal(made.status, 201, made.text);

    const r = await run(['user', 'remove', '--email', 'cy@rm.test', '--database', db]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'removed cy@rm.test: sessions ended, 1 token revoked\n');
    assert.equal((await s.get('/api/v1/servers', { token: tok })).status, 401);
    const users = JSON.parse((await cli(['user', 'list', '--json', '--database', db])).stdout);
    assert.deepEqual(users.map((u) => u.email), ['ada@rm.test']);
    const gone = await run(['user', 'remove', '--email', 'cy@rm.test', '--database', db]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr.trim().split('\n').length, 1);
    assert.match(gone.stderr, /no user with email cy@rm\.test/);

    // The server the removed user made is the team's.
    const admTok = await createToken(db, { email: 'ada@rm.test', name: 'ada', scopes: 'servers:read' });
    const servers = await s.get('/api/v1/servers', { token: admTok });
    assert.deepEqual(servers.json.data.map((x) => x.name), ['web-1']);
    const audit = JSON.parse((await cli(['audit', '--json', '--database', db])).stdout);
    const entries = Array.isArray(audit) ? audit : audit.data;
    assert.ok(entries.some((e) => e.action === 'user.removed' && e.email === 'cy@rm.test'));

    for (const verb of ['disable', 'remove']) {
      const last = await run(['user', verb, '--email', 'ada@rm.test', '--database', db]);
      assert.equal(last.code, 1, verb);
      assert.match(last.stderr, /ada@rm\.test is the last admin of team rm/);
    }
    assert.equal((await s.get('/api/v1/servers', { token: admTok })).status, 200, 'the admin kept their token');

    const usage = await run(['user', 'disable', '--database', db]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--email is required/);
    const none = await run(['user', 'disable', '--email', 'nobody@rm.test', '--database', db]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no user with email nobody@rm\.test/);
    await s.stop();
  });
});

describe('offboarding from the dashboard', () => {
  it('an admin lists and revokes a member\'s token, disables, promotes and removes members; a member may not', async (t) => {
    const db = newDatabase(tmpDir('offw'));
    const apw = await addAdmin(db, 'ada@offw.test', 'offw');
    const bpw = await addUser(db, { email: 'bob@offw.test', team: 'offw' });
    await addUser(db, { email: 'eve@other.test', team: 'other' });
    const tok = await createToken(db, { email: 'bob@offw.test', name: 'bob-ci', scopes: 'servers:read' });
    const tok2 = await createToken(db, { email: 'bob@offw.test', name: 'bob-cron', scopes: 'servers:read' });
    await createToken(db, { email: 'eve@other.test', name: 'eve-ci', scopes: 'servers:read' });
    const s = await startServer(t, { dbPath: db });
    const ada = await signIn(s, 'ada@offw.test', apw);
    const bob = await signIn(s, 'bob@offw.test', bpw);

    const mine = await s.get('/web/api/tokens', { headers: ada });
    assert.equal(mine.json.meta.total, 0, 'by default a user sees their own tokens');
    const all = await s.get('/web/api/tokens?owner=all', { headers: ada });
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.json.data.map((k) => [k.name, k.owner]).sort(),
      [['bob-ci', 'bob@offw.test'], ['bob-cron', 'bob@offw.test']], 'the team\'s tokens only, with owners');
    assert.equal((await s.get('/web/api/tokens?owner=all', { headers: bob })).status, 403);
    assert.equal((await s.get('/web/api/tokens?owner=nobody', { headers: ada })).status, 422);

    const ci = all.json.data.find((k) => k.name === 'bob-ci');
    const rv = await s.post(`/web/api/tokens/${ci.id}/revoke`, { headers: ada });
    assert.equal(rv.status, 200, rv.text);
    assert.equal((await s.get('/api/v1/servers', { token: tok })).status, 401);
    assert.equal((await s.get('/api/v1/servers', { token: tok2 })).status, 200);
    assert.equal((await s.post(`/web/api/tokens/${ci.id}/regenerate`, { headers: ada })).status, 404,
      'an admin never gets a member\'s new secret');

    const users = (await s.get('/web/api/users', { headers: ada })).json.data;
    const bobId = users.find((u) => u.email === 'bob@offw.test').id;
    const adaId = users.find((u) => u.email === 'ada@offw.test').id;
    assert.equal((await s.post(`/web/api/users/${adaId}/disable`, { headers: bob })).status, 403);
    const last = await s.post(`/web/api/users/${adaId}/role`, { headers: ada, body: { is_admin: false } });
    assert.equal(last.status, 409);
    assert.equal(last.json.code, 'last_admin');

    const dis = await s.post(`/web/api/users/${bobId}/disable`, { headers: ada });
    assert.equal(dis.status, 200, dis.text);
    assert.equal(dis.json.disabled, true);
    assert.equal((await s.get('/api/v1/servers', { token: tok2 })).status, 401);
    assert.equal((await s.get('/web/api/tokens', { headers: bob })).status, 401);

    const en = await s.post(`/web/api/users/${bobId}/enable`, { headers: ada });
    assert.equal(en.json.disabled, false);
    const up = await s.post(`/web/api/users/${bobId}/role`, { headers: ada, body: { is_admin: true } });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.json.is_admin, true);
    assert.equal((await s.post(`/web/api/users/${bobId}/role`, { headers: ada, body: { is_admin: 'yes' } })).status, 422);
    // Two admins now: ada may step down.
    assert.equal((await s.post(`/web/api/users/${adaId}/role`, { headers: ada, body: { is_admin: false } })).status, 200);

    const eve = (await cli(['user', 'list', '--json', '--database', db])).stdout;
    const eveId = JSON.parse(eve).find((u) => u.email === 'eve@other.test').id;
    const bobNow = await signIn(s, 'bob@offw.test', bpw);
    assert.equal((await s.post(`/web/api/users/${eveId}/disable`, { headers: bobNow })).status, 404, 'another team\'s user is not found');
    const rm = await s.post(`/web/api/users/${adaId}/remove`, { headers: bobNow });
    assert.equal(rm.status, 204, rm.text);
    const left = (await s.get('/web/api/users', { headers: bobNow })).json.data.map((u) => u.email);
    assert.deepEqual(left, ['bob@offw.test']);
    const audit = (await s.get('/web/api/audit', { headers: bobNow })).json.data.map((e) => e.action);
    for (const a of ['user.disabled', 'user.enabled', 'user.made_admin', 'user.made_member', 'user.removed'])
      assert.ok(audit.includes(a), `${a} in ${audit.join()}`);
    await s.stop();
  });
});
