// Issue 8, auth edges (items 7, 10, 11, 12, 13, 14): each test here failed
// on the code before its fix.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeTemplate, startServer, assertProblem, forgeToken, sleep, T, cli, tokenId,
} from './lib/piora.mjs';

const SERVERS = '/api/v1/servers';
let tpl;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'eve@edges.test', team: 'edges' }],
    tokens: [
      { email: 'eve@edges.test', name: 'ci', scopes: 'servers:read' },
      { email: 'eve@edges.test', name: 'all', scopes: 'servers:write,applications:write,applications:deploy,databases:write,backups:write' },
      { email: 'eve@edges.test', name: 'dbw', scopes: 'databases:write' },
      { email: 'eve@edges.test', name: 'appw', scopes: 'applications:write' },
    ],
  });
});

function accessLines(s) {
  return s.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

describe('item 7: others\' failures never refuse a valid token', () => {
  it('past --auth-fail-limit from one address, a valid token the cache has not seen is 200', async (t) => {
    const s = await startServer(t, { template: tpl, authFailLimit: 3 });
    for (let i = 0; i < 3; i++) {
      assertProblem(await s.get(SERVERS, { auth: `Bearer ${forgeToken(`n${i}`)}` }), 401, 'invalid_token');
    }
    assertProblem(await s.get(SERVERS, { auth: `Bearer ${forgeToken('n9')}` }), 429, 'rate_limited');
    const ok = await s.get(SERVERS, { token: tpl.tokens.ci });
    assert.equal(ok.status, 200, ok.text);
    // The guesser's own answers stay 429, a repeated unknown token too.
    assertProblem(await s.get(SERVERS, { auth: `Bearer ${forgeToken('n0')}` }), 429, 'rate_limited');
    await s.stop();
  });
});

describe('item 12: an oversized X-Forwarded-For still names the client', () => {
  it('the right-most untrusted entry is taken whatever the header length', async (t) => {
    const s = await startServer(t, { template: tpl, args: ['--trusted-proxies', '127.0.0.1,10.0.0.0/8'] });
    const cases = [
      ['x1', `${'6.6.6.6, '.repeat(600)}203.0.113.7`, '203.0.113.7'],
      ['x2', `${'z'.repeat(5000)}, 203.0.113.8, 10.0.0.1`, '203.0.113.8'],
      // A cut at the buffer's front must not turn "110.0.0.1" into "10.0.0.1".
      ['x3', `${'1'.repeat(4000)}10.0.0.1, 203.0.113.9`, '203.0.113.9'],
      ['x4', '203.0.113.10', '203.0.113.10'],
    ];
    for (const [id, xff] of cases) {
      const r = await s.get(SERVERS, { token: tpl.tokens.ci, headers: { 'X-Forwarded-For': xff, 'X-Request-Id': id } });
      assert.equal(r.status, 200, r.text);
    }
    await sleep(300);
    const lines = accessLines(s);
    for (const [id, , want] of cases) {
      const l = lines.find((e) => e.request_id === id);
      assert.ok(l, `access line for ${id}`);
      assert.equal(l.addr, want, `client address for ${id}`);
    }
    await s.stop();
  });
});

describe('item 10: token masking in the logs survives encoding and a missing prefix', () => {
  it('neither the access log nor the usage log holds the token', { timeout: T(30000) }, async (t) => {
    const s = await startServer(t, { template: tpl });
    const tok = tpl.tokens.ci;
    const body = tok.slice('piora_token_'.length);
    const enc = (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    const paths = [
      `/api/v1/servers/%70iora_token_${body}`,
      `/api/v1/servers/piora_token_${enc(body[0])}${body.slice(1)}`,
      `/api/v1/servers/${body}`,
      `/api/v1/${body.slice(0, 10)}${body.slice(10).split('').map(enc).join('')}`,
    ];
    for (const p of paths) await s.get(p, { token: tok });
    // Only routed requests reach the usage log: the token in the User-Agent.
    const agents = [`ci-bot/${body}`, `x %70iora_token_${body}`];
    for (const ua of agents) {
      const r = await s.get(SERVERS, { token: tok, headers: { 'User-Agent': ua } });
      assert.equal(r.status, 200, r.text);
    }
    await sleep(T(1500)); // the usage writer flushes every second
    await s.stop();
    const lines = accessLines(s).filter((l) => l.path.startsWith('/api/v1/'));
    assert.ok(lines.length >= paths.length, s.stdout);
    const leaks = (text) => text.includes(body.slice(2, 22)) || text.includes(body.slice(16));
    for (const l of lines) assert.ok(!leaks(l.path), `access log path leaks the token: ${l.path}`);
    assert.ok(!leaks(s.stdout + s.stderr), 'nothing the server wrote holds the token');
    const u = await cli(['token', 'usage', String(await tokenId(s.db, 'ci')), '--json', '--database', s.db]);
    assert.equal(u.code, 0, u.stderr);
    const rows = JSON.parse(u.stdout);
    assert.equal(rows.filter((r) => r.path === SERVERS).length, agents.length, u.stdout);
    assert.ok(!leaks(u.stdout), `usage log leaks the token: ${u.stdout}`);
  });
});

describe('item 11: the CLI prints control characters escaped', () => {
  it('a failed sign-in\'s email with escape codes reaches `piora audit` harmless', { timeout: T(30000) }, async (t) => {
    const s = await startServer(t, { template: tpl });
    const nasty = 'x\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202e@evil.test';
    const r = await s.post('/web/api/signin', { body: { email: nasty, password: 'wrong-password-123' } });
    assert.ok(r.status === 401 || r.status === 400, `${r.status} ${r.text}`);
    await s.stop();
    // eslint-disable-next-line no-control-regex
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
    const table = await cli(['audit', '--database', s.db]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /signin/, table.stdout);
    assert.ok(!raw.test(table.stdout), `raw control characters in the table: ${JSON.stringify(table.stdout)}`);
    assert.match(table.stdout, /x\\x1b\]0;pwned\\x07\\x1b\[2J\\xc2\\x9b31m\\xe2\\x80\\xae@evil\.test/);
    const json = await cli(['audit', '--json', '--database', s.db]);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(!raw.test(json.stdout), `raw control characters in --json: ${JSON.stringify(json.stdout)}`);
    assert.ok(JSON.parse(json.stdout).some((e) => e.email === nasty), 'the JSON still says the same');
  });
});

describe('item 13: a delete that takes children needs their write scope too', () => {
  it('databases:write alone cannot delete a database and its backups; applications:write alone an application', { timeout: T(30000) }, async (t) => {
    const s = await startServer(t, { template: tpl });
    const all = tpl.tokens.all;
    const post = async (p, body) => {
      const r = await s.post(p, { token: all, body });
      assert.ok(r.status === 201 || r.status === 202, `${p}: ${r.status} ${r.text}`);
      return r.json.data ?? r.json;
    };
    const srv = await post('/api/v1/servers', { name: 'edge-1', ip_address: '203.0.113.20' });
    const db = await post('/api/v1/databases', { name: 'main', engine: 'postgresql', version: '16', server_id: srv.id });
    const bk = await post('/api/v1/backups', { database_id: db.id });
    const app = await post('/api/v1/applications', {
      name: 'shop', server_id: srv.id, repository: 'https://github.com/example/shop.git', domain: 'shop.example.com',
    });

    const d1 = await s.del(`/api/v1/databases/${db.id}`, { token: tpl.tokens.dbw });
    const b1 = assertProblem(d1, 403, 'insufficient_scope');
    assert.deepEqual([...b1.required_scopes].sort(), ['backups:write', 'databases:write']);
    assert.match(b1.detail, /backups:write/);
    assert.match(d1.h('www-authenticate') ?? '', /error="insufficient_scope".*scope="databases:write backups:write"/);
    assert.equal((await s.get(`/api/v1/backups/${bk.id}`, { token: all })).status, 200, 'the backup is still there');

    assertProblem(await s.del(`/api/v1/applications/${app.id}`, { token: tpl.tokens.appw }), 403, 'insufficient_scope');
    assert.equal((await s.get(`/api/v1/applications/${app.id}`, { token: all })).status, 200);

    // With both scopes the delete goes through, children and all.
    assert.equal((await s.del(`/api/v1/databases/${db.id}`, { token: all })).status, 204);
    assert.equal((await s.get(`/api/v1/backups/${bk.id}`, { token: all })).status, 404);
    assert.equal((await s.del(`/api/v1/applications/${app.id}`, { token: all })).status, 204);
    await s.stop();
  });
});

describe('item 14: a token cannot flush its own misuse out of the usage log', () => {
  it('with --usage-max-rows 3, denied rows survive a flood of good ones', { timeout: T(40000) }, async (t) => {
    const args = ['--usage-max-rows', '3'];
    const s = await startServer(t, { template: tpl, args });
    const tok = tpl.tokens.ci; // servers:read only
    for (let i = 0; i < 2; i++) {
      const r = await s.post(SERVERS, { token: tok, body: { name: `x${i}`, ip_address: '192.0.2.1' } });
      assertProblem(r, 403, 'insufficient_scope');
      await sleep(1100); // one row each: identical requests of one second share a row
    }
    for (let i = 1; i <= 6; i++) {
      const r = await s.get(`${SERVERS}/${i}`, { token: tok });
      assert.equal(r.status, 404);
    }
    await s.stop();
    // Retention runs at start over every token.
    const again = await startServer(t, { dbPath: s.db, args });
    await again.stop();
    const u = await cli(['token', 'usage', String(await tokenId(s.db, 'ci')), '--json', '--database', s.db]);
    assert.equal(u.code, 0, u.stderr);
    const rows = JSON.parse(u.stdout);
    assert.equal(rows.filter((r) => r.status === 403).length, 2, `the denied rows are kept: ${u.stdout}`);
    assert.equal(rows.filter((r) => r.status === 404).length, 3, `the cap still holds for the rest: ${u.stdout}`);
  });
});
