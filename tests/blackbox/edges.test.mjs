// Issue 13's server-side rough edges: the last use of a token shows at once
// (not a flush later), and the first-run link and the API document.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  addUser, createToken, freePort, run, makeTemplate, parseLink, Server, sleep, startServer, dbArgs, newDatabase, tmpDir, RFC3339_UTC, T,
} from './lib/piora.mjs';

// A dashboard session: cookie and CSRF token for state-changing calls.
async function signIn(s, email, password) {
  const r = await s.post('/web/api/signin', { body: { email, password } });
  assert.equal(r.status, 200, r.text);
  const cookie = /^([^;]+)/.exec(r.h('set-cookie'))[1];
  return { Cookie: cookie, 'X-CSRF-Token': r.json.csrf };
}

const listOf = (json) => (Array.isArray(json) ? json : json.data);

describe('last used shows the in-memory value', () => {
  it('a request with a token sets last_used_at in the API and the dashboard at once', { timeout: T(30000) }, async (t) => {
    const db = newDatabase(tmpDir('lastused'));
    const password = await addUser(db, { email: 'lu@edge.test', team: 'edge' });
    const used = await createToken(db, { email: 'lu@edge.test', name: 'used', scopes: 'servers:read' });
    await createToken(db, { email: 'lu@edge.test', name: 'idle', scopes: 'servers:read' });
    // The default interval (15 s) is far longer than this test's reads.
    const s = await startServer(t, { dbPath: db });
    const hdr = await signIn(s, 'lu@edge.test', password);
    const before = await s.get('/web/api/tokens', { headers: hdr });
    assert.equal(listOf(before.json).find((x) => x.name === 'used').last_used_at, null);

    const at = Date.now();
    assert.equal((await s.get('/api/v1/servers', { token: used })).status, 200);
    const web = listOf((await s.get('/web/api/tokens', { headers: hdr })).json);
    const w = web.find((x) => x.name === 'used');
    assert.match(w.last_used_at || '', RFC3339_UTC, `dashboard list: ${JSON.stringify(w)}`);
    assert.ok(Math.abs(Date.parse(w.last_used_at) - at) < 3000, w.last_used_at);
    assert.ok(w.last_used_addr, `the address too: ${JSON.stringify(w)}`);
    assert.ok(!(w.flags || []).includes('unused'));
    assert.equal(web.find((x) => x.name === 'idle').last_used_at, null, 'an unused token stays null');
    const one = await s.get(`/web/api/tokens/${w.id}`, { headers: hdr });
    assert.equal((one.json.data || one.json).last_used_at, w.last_used_at);
    const self = await s.get('/api/v1/token', { token: used });
    assert.match((self.json.data || self.json).last_used_at || '', RFC3339_UTC);
    await s.stop();
  });
});

// What generated clients and linters need of the API document (issue 13).
describe('OpenAPI document for generated clients', () => {
  it('has servers, a license, a 4XX answer on every operation, only used components, no PATCH defaults', async (t) => {
    const s = await startServer(t);
    const r = await s.get('/api/v1/openapi.json');
    assert.equal(r.status, 200);
    const doc = r.json;
    assert.ok(Array.isArray(doc.servers) && doc.servers.length && doc.servers[0].url, 'a servers entry');
    assert.ok(doc.info.license && doc.info.license.name, 'a license');
    const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const m of methods.filter((x) => item[x])) {
        const codes = Object.keys(item[m].responses);
        assert.ok(codes.some((c) => /^4(\d\d|XX)$/.test(c)), `${m} ${p} has a 4XX answer: ${codes}`);
      }
    }
    const refs = new Set(r.text.match(/"#\/components\/[^"]+"/g).map((x) => x.slice(1, -1)));
    for (const [sec, items] of Object.entries(doc.components)) {
      if (sec === 'securitySchemes') continue;
      for (const name of Object.keys(items)) {
        assert.ok(refs.has(`#/components/${sec}/${name}`), `components/${sec}/${name} is used`);
      }
    }
    for (const ref of refs) {
      const [, , sec, name] = ref.split('/');
      assert.ok(doc.components[sec]?.[name], `${ref} resolves`);
    }
    const updates = Object.entries(doc.components.schemas).filter(([n]) => n.endsWith('Update'));
    assert.ok(updates.length >= 3, 'the PATCH bodies are components');
    for (const [n, sch] of updates) {
      for (const [f, fs] of Object.entries(sch.properties)) {
        assert.equal(fs.default, undefined, `${n}.${f} has no default (a PATCH leaves it as it is)`);
      }
    }
    // A create body states its defaults in words: openapi-typescript reads
    // `default` as "always present" and made ssh_port/ssh_user required.
    const port = doc.components.schemas.ServerCreate.properties.ssh_port;
    assert.equal(port.default, undefined, 'no default keyword in a request body');
    assert.match(port.description, /Default when left out: 22\./, 'create says its default');
    assert.equal(doc.components.schemas.Server.properties.ssh_port.default, 22, 'the response keeps it');
    await s.stop();
  });
});

async function waitFor(get, re, ms = T(5000)) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (re.test(get())) return;
  assert.match(get(), re);
}

// Standard output is the JSON access log: every line parses, no secret.
function assertJsonLines(out) {
  for (const line of out.split('\n').filter(Boolean)) {
    assert.doesNotThrow(() => JSON.parse(line), `a JSON line on stdout: ${line}`);
  }
  assert.ok(!/setup#/.test(out), 'no setup link on stdout');
}

describe('--public-url and the first-run line', () => {
  it('the setup link goes to stderr only, on the public URL', { timeout: T(30000) }, async (t) => {
    const s = await startServer(t, { env: { PIORA_PUBLIC_URL: 'https://piora.example.com/ops/' } });
    await waitFor(() => s.stderr, /setup#/);
    assert.match(s.stderr, /First run: open https:\/\/piora\.example\.com\/ops\/setup#[A-Za-z0-9_-]{43} /);
    assert.equal((await s.get('/healthz')).status, 200);
    await s.stop();
    assertJsonLines(s.stdout);
  });

  it('a wildcard listen says so instead of printing 127.0.0.1 silently', { timeout: T(30000) }, async (t) => {
    const dir = tmpDir('wild');
    const port = await freePort();
    const db = newDatabase(dir);
    const s = new Server(port, db, dir, ['serve', '--listen', `0.0.0.0:${port}`, ...dbArgs(db)]);
    t.after(() => s.kill());
    await s.ready();
    await waitFor(() => s.stderr, /every address/);
    assert.match(s.stderr, new RegExp(`First run: open http://127\\.0\\.0\\.1:${port}/setup#`));
    assert.match(s.stderr, /every address \(0\.0\.0\.0\).*--public-url/);
    await s.stop();
    assertJsonLines(s.stdout);
  });

  it('a bad --public-url is refused at start', async () => {
    // refused before any database is opened: a SQLite path in both modes
    const r = await run(['serve', '--public-url', 'piora.example.com', '--database', path.join(tmpDir('bad'), 'p.db')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--public-url/);
  });

  it('Link headers are absolute on --public-url, relative without', { timeout: T(30000) }, async (t) => {
    const tpl = await makeTemplate({
      users: [{ email: 'pu@edge.test', team: 'pu' }],
      tokens: [{ email: 'pu@edge.test', name: 'r', scopes: 'servers:write' }],
    });
    const s = await startServer(t, { template: tpl, args: ['--public-url', 'https://piora.example.com'] });
    const r = await s.get('/api/v1/servers?per_page=5', { token: tpl.tokens.r });
    const l = parseLink(r.h('link'));
    assert.equal(l.first, 'https://piora.example.com/api/v1/servers?page=1&per_page=5', r.h('link'));
    await s.stop();
    const s2 = await startServer(t, { template: tpl });
    const l2 = parseLink((await s2.get('/api/v1/servers?per_page=5', { token: tpl.tokens.r })).h('link'));
    assert.equal(l2.first, '/api/v1/servers?page=1&per_page=5');
    await s2.stop();
  });
});

// The dashboard's token and member lists page like the API lists.
describe('dashboard lists page', () => {
  it('/web/api/tokens and /web/api/users answer page, per_page and total', { timeout: T(30000) }, async (t) => {
    const db = newDatabase(tmpDir('webpage'));
    const password = await addUser(db, { email: 'pg@edge.test', team: 'pg' });
    await addUser(db, { email: 'pg2@edge.test', team: 'pg' });
    for (let i = 0; i < 3; i++) await createToken(db, { email: 'pg@edge.test', name: `t${i}`, scopes: 'servers:read' });
    const s = await startServer(t, { dbPath: db });
    const hdr = await signIn(s, 'pg@edge.test', password);
    const p1 = await s.get('/web/api/tokens?per_page=2', { headers: hdr });
    assert.deepEqual(p1.json.meta, { page: 1, per_page: 2, total: 3 });
    assert.deepEqual(p1.json.data.map((x) => x.name), ['t2', 't1'], 'newest first');
    const p2 = await s.get('/web/api/tokens?per_page=2&page=2', { headers: hdr });
    assert.deepEqual(p2.json.data.map((x) => x.name), ['t0']);
    const u = await s.get('/web/api/users?per_page=1&page=2', { headers: hdr });
    assert.deepEqual(u.json.meta, { page: 2, per_page: 1, total: 2 });
    assert.equal(u.json.data.length, 1);
    assert.equal((await s.get('/web/api/users?per_page=0', { headers: hdr })).status, 422);
    await s.stop();
  });
});
