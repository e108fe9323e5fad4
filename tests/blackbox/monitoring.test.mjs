// SPEC 6 and issue 4: the per-token usage log (CLI), the audit log (CLI,
// self-revocation, leak reports), /metrics (checked by promtool when it is
// installed), /readyz, X-Request-Id, the JSON access log, trusted proxies,
// and a scan of everything these tests made the server and the CLI write
// for every secret they created.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, renameSync } from 'node:fs';
import path from 'node:path';
import {
  startServer, addUser, createToken, cli, run, tokenId, listTokens, newDatabase, tmpDir, sleep, T, RFC3339_UTC,
} from './lib/piora.mjs';
import { cutOff, isUrl } from '../lib/testdb.mjs';

// Every secret created here, and every text that must not contain them.
const secrets = [];
const outputs = [];
const servers = [];
const keep = (s) => { secrets.push(s); return s; };

async function usage(db, id, extra = []) {
  const r = await cli(['token', 'usage', String(id), '--json', '--database', db, ...extra]);
  outputs.push({ what: `piora token usage ${id}`, text: r.stdout + r.stderr });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function audit(db, extra = []) {
  const r = await cli(['audit', '--json', '--database', db, ...extra]);
  outputs.push({ what: 'piora audit', text: r.stdout + r.stderr });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// Polls until fn() is truthy (the usage writer flushes every second).
async function eventually(fn, ms = T(5000)) {
  const end = Date.now() + ms;
  let v;
  while (Date.now() < end) {
    v = await fn();
    if (v) return v;
    await sleep(100);
  }
  return v;
}

function accessLines(s) {
  return s.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

async function start(t, db, opts = {}) {
  const s = await startServer(t, { dbPath: db, ...opts });
  servers.push(s);
  return s;
}

describe('monitoring', () => {
  const db = newDatabase(tmpDir('mon'));
  let tok, readOnly, other;
  let s;

  before(async () => {
    keep(await addUser(db, { email: 'mona@mon.test', team: 'mon', password: 'Mona-Password-0001!' }));
    keep(await addUser(db, { email: 'otto@mon.test', team: 'mon2', password: 'Otto-Password-0002!' }));
    tok = keep(await createToken(db, { email: 'mona@mon.test', name: 'main', scopes: 'servers:read,servers:write' }));
    readOnly = keep(await createToken(db, { email: 'mona@mon.test', name: 'ro', scopes: 'servers:read' }));
    other = keep(await createToken(db, { email: 'otto@mon.test', name: 'other', scopes: 'servers:read' }));
  });

  after(async () => {
    for (const x of servers) if (!x.exit) await x.stop();
  });

  it('usage rows: every request of a known token, refused ones too, no query string', { timeout: T(60000) }, async (t) => {
    s = await start(t, db, { rateLimit: 3 });
    const ro = await tokenId(db, 'ro');
    const r1 = await s.get('/api/v1/servers?page=1&per_page=5&q=needle-in-query', {
      token: readOnly, headers: { 'User-Agent': 'mon-agent/1.0 (\u00fcber)' },
    });
    assert.equal(r1.status, 200);
    const r2 = await s.post('/api/v1/servers', { token: readOnly, body: { name: 'x', ip_address: '192.0.2.1' } });
    assert.equal(r2.status, 403);
    await s.get('/api/v1/servers', { token: readOnly });
    const r4 = await s.get('/api/v1/servers?again=1', { token: readOnly });
    assert.equal(r4.status, 429, 'the fourth request in a minute is over --rate-limit 3');
    // Within the flush interval (1 s), while the server runs.
    const rows = await eventually(async () => {
      const v = await usage(db, ro);
      return v.length >= 4 ? v : null;
    });
    assert.ok(rows, 'four usage rows appear within a few seconds');
    assert.deepEqual(rows.map((x) => x.status), [429, 200, 403, 200], 'newest first');
    for (const x of rows) {
      assert.match(x.time, RFC3339_UTC);
      assert.equal(x.addr, '127.0.0.1');
      assert.ok(!x.path.includes('?'), `no query string in ${x.path}`);
      assert.equal(x.path, '/api/v1/servers');
    }
    assert.equal(rows[3].method, 'GET');
    assert.equal(rows[2].method, 'POST');
    // The header travels as Latin-1: a byte that is not UTF-8 is stored as '?'.
    assert.equal(rows[3].user_agent, 'mon-agent/1.0 (?ber)');
    const all = JSON.stringify(rows);
    assert.ok(!all.includes('needle-in-query') && !all.includes('again=1'));

    // Filters.
    const only403 = await usage(db, ro, ['--status', '403']);
    assert.deepEqual(only403.map((x) => x.status), [403]);
    assert.equal((await usage(db, ro, ['--since', '1h'])).length, 4);
    assert.equal((await usage(db, ro, ['--since', '2099-01-01T00:00:00Z'])).length, 0);
    const table = await cli(['token', 'usage', String(ro), '--database', db]);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^TIME\s+METHOD\s+PATH\s+STATUS\s+ADDRESS\s+COUNT\s+USER AGENT/);
    assert.match(table.stdout, /POST\s+\/api\/v1\/servers\s+403\s+127\.0\.0\.1\s+1\s/);
    const bad = await run(['token', 'usage', String(ro), '--since', 'last tuesday', '--database', db]);
    assert.equal(bad.code, 2);
    const missing = await run(['token', 'usage', '999999', '--database', db]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no token with id 999999/);
    // Another token's rows are its own.
    assert.equal((await usage(db, await tokenId(db, 'other'))).length, 0);
  });

  it('401 for a revoked or expired known token is logged; unknown tokens are not', { timeout: T(60000) }, async (t) => {
    const short = keep(await createToken(db, { email: 'otto@mon.test', name: 'short', scopes: 'servers:read', expiresIn: '1s' }));
    const victim = keep(await createToken(db, { email: 'otto@mon.test', name: 'victim', scopes: 'servers:read' }));
    const sid = await tokenId(db, 'short');
    const vid = await tokenId(db, 'victim');
    assert.equal((await cli(['token', 'revoke', String(vid), '--database', db])).code, 0);
    await sleep(1200);
    const x = await start(t, db);
    const a = await x.get('/api/v1/servers', { token: victim });
    assert.equal(a.status, 401);
    const b = await x.get('/api/v1/servers', { token: short });
    assert.equal(b.status, 401);
    await x.stop(); // graceful stop writes what is queued
    const rv = await usage(db, vid);
    assert.equal(rv.length, 1);
    assert.equal(rv[0].status, 401);
    const rs = await usage(db, sid);
    assert.equal(rs.length, 1);
    assert.equal(rs[0].status, 401);
  });

  it('usage rows queued at SIGTERM are written before exit', { timeout: T(60000) }, async (t) => {
    const x = await start(t, db, { args: ['--usage-flush-interval', '60'] });
    const id = await tokenId(db, 'other');
    // Identical requests of one second share a row; count says how many.
    const requests = async () => (await usage(db, id)).reduce((a, r) => a + r.count, 0);
    const before = await requests();
    for (let i = 0; i < 5; i++) assert.equal((await x.get('/api/v1/servers', { token: other })).status, 200);
    await sleep(300);
    assert.equal(await requests(), before, 'not written yet: the interval is 60 s');
    await x.stop();
    assert.equal(await requests(), before + 5);
    const rows = await usage(db, id);
    assert.ok(rows.length < before + 5 || rows.every((r) => r.count === 1));
  });

  it('--usage-log off writes no usage rows', { timeout: T(60000) }, async (t) => {
    const x = await start(t, db, { args: ['--usage-log', 'off'] });
    const id = await tokenId(db, 'other');
    const before = (await usage(db, id)).length;
    await x.get('/api/v1/servers', { token: other });
    await x.stop();
    assert.equal((await usage(db, id)).length, before);
  });

  it('audit log: CLI actions, self-revocation, leak reports', { timeout: T(60000) }, async (t) => {
    const pw = keep('Nina-Password-0003!');
    await addUser(db, { email: 'nina@mon.test', team: 'mon', password: pw });
    const r = await cli(['user', 'password', '--email', 'nina@mon.test', '--password-stdin', '--database', db],
      { input: keep('Nina-New-Password-0004!') + '\n' });
    assert.equal(r.code, 0, r.stderr);
    const t1 = keep(await createToken(db, { email: 'nina@mon.test', name: 'n1', scopes: 'servers:read' }));
    const t2 = keep(await createToken(db, { email: 'nina@mon.test', name: 'n2', scopes: 'servers:read' }));
    const t3 = keep(await createToken(db, { email: 'nina@mon.test', name: 'n3', scopes: 'servers:read' }));
    const [id1, id2, id3] = [await tokenId(db, 'n1'), await tokenId(db, 'n2'), await tokenId(db, 'n3')];
    assert.equal((await cli(['token', 'revoke', String(id1), '--database', db])).code, 0);
    assert.equal((await cli(['token', 'revoke', String(id1), '--database', db])).code, 0); // no-op: no entry

    const x = await start(t, db, { args: ['--trusted-proxies', '127.0.0.1'] });
    assert.equal((await x.del('/api/v1/token', { token: t2 })).status, 204);
    const leak = await x.post('/api/v1/credentials/revoke', {
      body: { credentials: [t3, t1, 'not-a-token'] }, headers: { 'X-Forwarded-For': '198.51.100.23' },
    });
    assert.equal(leak.status, 202);
    await x.stop();

    const all = await audit(db, ['--email', 'nina@mon.test']);
    const seen = all.map((e) => `${e.action}/${e.via}/${e.token_id ?? '-'}`);
    assert.deepEqual(seen.reverse(), [
      'user.created/cli/-',
      'password.changed/cli/-',
      `token.created/cli/${id1}`,
      `token.created/cli/${id2}`,
      `token.created/cli/${id3}`,
      `token.revoked/cli/${id1}`,
      `token.revoked/api/${id2}`,
      `token.revoked/leak_report/${id3}`, // one per token revoked; t1 was already revoked
    ]);
    const self = all.find((e) => e.via === 'api');
    assert.equal(self.actor?.email, 'nina@mon.test');
    assert.equal(self.addr, '127.0.0.1');
    const rep = all.find((e) => e.via === 'leak_report');
    assert.equal(rep.actor, null);
    assert.equal(rep.addr, '198.51.100.23', 'the reporter behind a trusted proxy');
    for (const e of all) assert.match(e.time, RFC3339_UTC);
    const table = await cli(['audit', '--database', db]);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^TIME\s+ACTION\s+VIA/);
    assert.match(table.stdout, /token\.revoked\s+leak_report/);
    outputs.push({ what: 'piora audit (table)', text: table.stdout + table.stderr });
  });

  it('token list --stale says why', { timeout: T(30000) }, async () => {
    keep(await createToken(db, { email: 'otto@mon.test', name: 'soon', scopes: 'servers:read', expiresIn: '3d' }));
    const r = await cli(['token', 'list', '--stale', '--json', '--database', db]);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    const soon = v.find((x) => x.name === 'soon');
    assert.deepEqual(soon?.stale, ['expiring']);
    assert.ok(!v.find((x) => x.name === 'main'), 'a fresh 90-day token is not stale');
    assert.ok(!v.find((x) => x.name === 'victim'), 'a revoked token is not listed');
    const table = await cli(['token', 'list', '--stale', '--database', db]);
    assert.match(table.stdout, /STALE/);
    assert.match(table.stdout, /soon.*expiring/);
    // In 100 days every active token is old and unused (the test clock moves
    // through PIORA_TEST_CLOCK_OFFSET when the binary honours it; skip if not).
  });

  it('/metrics is Prometheus text with the promised families', { timeout: T(60000) }, async (t) => {
    const x = await start(t, db, { rateLimit: 1 });
    await x.get('/api/v1/servers', { token: tok });
    await x.get('/api/v1/servers', { token: tok }); // 429 token
    await x.get('/api/v1/servers'); // missing
    await x.get('/api/v1/servers', { token: 'piora_garbage' }); // invalid
    await x.post('/api/v1/servers', { token: readOnly, body: {} }); // 403 (rate limit per token: readOnly's first)
    await x.get('/api/v1/nothing-here');
    await x.get('/api/v1/servers?access_token=zzz-query-secret', { token: other }); // 400, invalid
    const m = await x.get('/metrics');
    assert.equal(m.status, 200);
    assert.match(m.h('content-type'), /^text\/plain; version=0\.0\.4/);
    assert.ok(m.h('x-request-id'));
    const text = m.text;
    outputs.push({ what: '/metrics', text });
    for (const re of [
      /^piora_http_requests_total\{method="GET",route="\/api\/v1\/servers",status="200"\} 1$/m,
      /^piora_http_requests_total\{method="GET",route="\/api\/v1\/servers",status="429"\} 1$/m,
      /^piora_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m,
      /^piora_http_requests_total\{method="POST",route="\/api\/v1\/servers",status="403"\} 1$/m,
      /^piora_auth_failures_total\{reason="missing"\} 1$/m,
      /^piora_auth_failures_total\{reason="invalid"\} [12]$/m,
      /^piora_auth_failures_total\{reason="insufficient_scope"\} 1$/m,
      /^piora_auth_failures_total\{reason="expired"\} 0$/m,
      /^piora_auth_failures_total\{reason="revoked"\} 0$/m,
      /^piora_rate_limited_total\{limiter="token"\} 1$/m,
      /^piora_rate_limited_total\{limiter="address"\} 0$/m,
      /^# TYPE piora_http_request_duration_seconds histogram$/m,
      /^piora_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+$/m,
      /^piora_db_duration_seconds_count\{op="token_lookup"\} \d+$/m,
      /^piora_usage_log_queue_depth \d+$/m,
      /^piora_usage_log_dropped_total 0$/m,
      /^piora_last_used_dropped_total 0$/m,
      /^piora_build_info\{version="[^"]+"\} 1$/m,
    ]) assert.match(text, re);
    assert.ok(!text.includes('zzz-query-secret') && !text.includes('access_token'));
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error?.code === 'ENOENT') {
      t.diagnostic('promtool not installed (Debian package prometheus): format check skipped');
    } else {
      assert.equal(promtool.status, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`);
    }
    await x.stop();
  });

  it('/readyz answers 200 only while the database answers', { timeout: T(60000) }, async (t) => {
    const d2 = tmpDir('ready');
    const db2 = newDatabase(d2);
    await addUser(db2, { email: 'r@ready.test', team: 'r' });
    const x = await start(t, db2);
    const ok = await x.get('/readyz');
    assert.equal(ok.status, 200);
    assert.ok(ok.h('x-request-id'));
    // The file goes away under the running server (PostgreSQL: the
    // database refuses new sessions and its open ones are cut).
    if (isUrl(db2)) {
      cutOff(db2);
    } else {
      renameSync(db2, db2 + '.moved');
      for (const f of readdirSync(d2)) if (f.startsWith('piora.db-')) rmSync(path.join(d2, f), { force: true });
    }
    const gone = await x.get('/readyz');
    assert.equal(gone.status, 503);
    assert.ok(gone.h('x-request-id'));
    assert.equal((await x.get('/healthz')).status, 200, 'liveness is not readiness');
    await x.stop();
  });

  it('X-Request-Id: echoed when sane, generated otherwise, on every answer', { timeout: T(30000) }, async (t) => {
    const x = await start(t, db);
    const echo = await x.get('/api/v1/servers', { token: tok, headers: { 'X-Request-Id': 'req-ABC_123.x' } });
    assert.equal(echo.h('x-request-id'), 'req-ABC_123.x');
    const seen = new Set();
    for (const [p, o] of [
      ['/api/v1/servers', {}], // 401
      ['/api/v1/nothing', { token: tok }], // 404
      ['/healthz', {}],
      ['/', {}], // dashboard
      ['/api/v1/servers', { token: tok, headers: { 'X-Request-Id': 'has space' } }],
      ['/api/v1/servers', { token: tok, headers: { 'X-Request-Id': 'x'.repeat(129) } }],
      ['/api/v1/servers', { token: tok, headers: { 'X-Request-Id': '' } }],
    ]) {
      const r = await x.get(p, o);
      const id = r.h('x-request-id');
      assert.match(id ?? '', /^[0-9a-f]{16}$/, `generated id on ${p} (${r.status})`);
      assert.ok(!seen.has(id));
      seen.add(id);
    }
    const big = await x.post('/api/v1/servers', { token: tok, body: 'x'.repeat(1100000) });
    assert.equal(big.status, 413);
    assert.match(big.h('x-request-id') ?? '', /^[0-9a-f]{16}$/);
    const long = 'a'.repeat(128);
    assert.equal((await x.get('/healthz', { headers: { 'X-Request-Id': long } })).h('x-request-id'), long);
    await x.stop();
  });

  it('access log: one JSON line per request on stdout; --access-log off', { timeout: T(30000) }, async (t) => {
    const x = await start(t, db);
    await x.get('/api/v1/servers?page=1&secret-ish=query', { token: tok, headers: { 'X-Request-Id': 'acc-1' } });
    await x.get('/api/v1/servers', { headers: { 'X-Request-Id': 'acc-2' } });
    await x.get('/healthz', { headers: { 'X-Request-Id': 'acc-3' } });
    await sleep(300);
    const lines = accessLines(x);
    const a1 = lines.find((l) => l.request_id === 'acc-1');
    const a2 = lines.find((l) => l.request_id === 'acc-2');
    assert.ok(a1 && a2 && lines.find((l) => l.request_id === 'acc-3'), x.stdout);
    assert.deepEqual(Object.keys(a1).sort(),
      ['addr', 'duration_ms', 'method', 'path', 'request_id', 'status', 'time', 'token_id']);
    assert.equal(a1.method, 'GET');
    assert.equal(a1.path, '/api/v1/servers');
    assert.equal(a1.status, 200);
    assert.equal(a1.token_id, await tokenId(db, 'main'));
    assert.equal(a1.addr, '127.0.0.1');
    assert.equal(typeof a1.duration_ms, 'number');
    assert.match(a1.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(a2.status, 401);
    assert.equal(a2.token_id, null);
    assert.ok(!x.stdout.includes('secret-ish'));
    await x.stop();
    outputs.push({ what: 'stdout', text: x.stdout }, { what: 'stderr', text: x.stderr });

    const y = await start(t, db, { args: ['--access-log', 'off'] });
    await y.get('/api/v1/servers', { token: tok });
    await sleep(200);
    await y.stop();
    assert.equal(accessLines(y).length, 0);
  });

  it('trusted proxies: X-Forwarded-For only from a listed peer', { timeout: T(30000) }, async (t) => {
    const x = await start(t, db); // no proxies trusted
    await x.get('/api/v1/servers', { token: tok, headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Request-Id': 'p-1' } });
    await sleep(200);
    assert.equal(accessLines(x).find((l) => l.request_id === 'p-1').addr, '127.0.0.1');
    await x.stop();

    const y = await start(t, db, { args: ['--trusted-proxies', '10.0.0.0/8,127.0.0.1'] });
    const hdr = (v, id) => ({ 'X-Forwarded-For': v, 'X-Request-Id': id });
    await y.get('/api/v1/servers', { token: tok, headers: hdr('203.0.113.9', 'p-2') });
    await y.get('/api/v1/servers', { token: tok, headers: hdr('6.6.6.6, 203.0.113.10, 10.1.2.3', 'p-3') });
    await y.get('/api/v1/servers', { token: tok, headers: hdr('not-an-address', 'p-4') });
    await sleep(200);
    const l = accessLines(y);
    assert.equal(l.find((e) => e.request_id === 'p-2').addr, '203.0.113.9');
    assert.equal(l.find((e) => e.request_id === 'p-3').addr, '203.0.113.10', 'right-most untrusted hop');
    assert.equal(l.find((e) => e.request_id === 'p-4').addr, '127.0.0.1');
    await y.stop();
    const rows = await usage(db, await tokenId(db, 'main'), ['--since', '1m']);
    assert.ok(rows.some((r) => r.addr === '203.0.113.10'), 'the usage log has the client address too');

    const bad = await run(['serve', '--trusted-proxies', '10.0.0.0/99', '--database', db]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /trusted-proxies/);
  });

  it('no secret in any log line, metric or usage row (secrets scan)', { timeout: T(60000) }, async (t) => {
    // A dashboard sign-in adds a session cookie (when the dashboard is built).
    const x = await start(t, db);
    const si = await x.post('/web/api/signin', { body: { email: 'mona@mon.test', password: 'Mona-Password-0001!' } });
    const cookie = si.h('set-cookie');
    if (si.status === 200 && cookie) {
      const m = /=([^;]+)/.exec(cookie);
      if (m) keep(m[1]);
    }
    await x.post('/web/api/signin', { body: { email: 'mona@mon.test', password: 'Wrong-Password-9999!' } });
    await x.get('/api/v1/servers', { token: tok });
    // A token pasted into the path is masked in the access and usage logs.
    assert.equal((await x.get(`/api/v1/${tok}`, { token: tok })).status, 404);
    assert.equal((await x.get(`/api/v1/servers?t=${tok}`, { token: tok })).status, 200);
    await x.stop();
    for (const sv of servers) outputs.push({ what: `server ${sv.port} stdout`, text: sv.stdout },
      { what: `server ${sv.port} stderr`, text: sv.stderr });
    for (const { id } of await listTokens(db)) {
      const r = await cli(['token', 'usage', String(id), '--json', '--limit', '100000', '--database', db]);
      outputs.push({ what: `usage ${id}`, text: r.stdout });
    }
    outputs.push({ what: 'audit', text: (await cli(['audit', '--json', '--limit', '100000', '--database', db])).stdout });
    assert.ok(secrets.length >= 10, 'the scan has secrets to look for');
    for (const sec of secrets) {
      for (const o of outputs) {
        assert.ok(!o.text.includes(sec), `a secret (${sec.slice(0, 12)}...) appears in ${o.what}`);
      }
    }
  });
});
