// SPEC 2 "At rest", SPEC 6/7: secrets are never stored or logged; the token
// list shows only hints; last_used_at reaches the database without a write
// per request and is flushed by a graceful stop; SIGTERM exits 0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, addUser, createToken, cli, listTokens, newDatabase, tmpDir, sleep, ALL_SCOPES, RFC3339_UTC, flipLast,
} from './lib/piora.mjs';
import { atRest } from '../lib/testdb.mjs';

// Every byte of the database and its -wal / -shm / -journal companions
// (SQLite), or of its pg_dump (PostgreSQL).
function dbBytes(db) {
  return atRest(db).map(([f, b]) => ({ f, b }));
}

function assertAbsent(haystacks, secret, what) {
  for (const { f, b } of haystacks) {
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b);
    assert.equal(buf.indexOf(secret), -1, `${what} found in ${f}`);
    // UTF-16 copies would hide from a plain search.
    assert.equal(buf.indexOf(Buffer.from(secret, 'utf16le')), -1, `${what} (UTF-16) found in ${f}`);
  }
}

describe('secrets at rest and in logs', () => {
  it('no token or password in the database files, server output or CLI output', { timeout: 120000 }, async (t) => {
    const db = newDatabase(tmpDir('secret'));
    const passwords = [
      await addUser(db, { email: 'sue@secret.test', team: 'secret', password: 'Correct-Horse-Battery-Staple-7731' }),
      await addUser(db, { email: 'tim@secret.test', team: 'other', password: 'p@ss w0rd with spaces & ünïcödé 42' }),
    ];
    const cliOut = [];
    const tokens = [];
    for (const [i, scopes] of [ALL_SCOPES.join(','), 'servers:read', 'applications:deploy'].entries()) {
      tokens.push(await createToken(db, { email: 'sue@secret.test', name: `t${i}`, scopes }));
    }
    const s2 = await startOn(t, db);
    // Use the tokens in every way a client might, including the wrong ones.
    for (const tok of tokens) {
      await s2.get('/api/v1/servers', { token: tok });
      await s2.get(`/api/v1/servers?access_token=${tok}`, { token: tok });
      await s2.get(`/api/v1/servers?access_token=${tok}`);
      await s2.post('/api/v1/servers', { token: tok, body: { name: tok, ip_address: tok } });
      await s2.get('/api/v1/token', { token: tok });
      await s2.get('/api/v1/servers', { auth: `Basic ${Buffer.from(`sue:${tok}`).toString('base64')}` });
      await s2.get('/api/v1/servers', { auth: `Token ${tok}` });
      await s2.get(`/api/v1/${tok}`, { token: tok });
      await s2.get('/api/v1/servers', { token: flipLast(tok) });
    }
    // Tokens made while the server runs, one revoked through the API.
    const late = await createToken(db, { email: 'tim@secret.test', name: 'late', scopes: 'servers:read' });
    tokens.push(late);
    assert.equal((await s2.get('/api/v1/servers', { token: late })).status, 200);
    const leaked = await createToken(db, { email: 'tim@secret.test', name: 'leaked', scopes: 'servers:read' });
    tokens.push(leaked);
    assert.equal((await s2.post('/api/v1/credentials/revoke', { body: { credentials: [leaked] } })).status, 202);
    // A password sent where a token should be.
    for (const pw of passwords) await s2.get('/api/v1/servers', { auth: `Bearer ${pw}` });
    cliOut.push((await cli(['token', 'list', '--database', db])).stdout);
    cliOut.push((await cli(['token', 'list', '--json', '--database', db])).stdout);
    cliOut.push((await cli(['token', 'list', '--email', 'sue@secret.test', '--database', db])).stdout);
    cliOut.push((await cli(['user', 'list', '--database', db])).stdout);
    cliOut.push((await cli(['user', 'list', '--json', '--database', db])).stdout);
    await s2.stop();

    const files = dbBytes(db);
    assert.ok(files.length >= 1);
    const out = [
      { f: 'server stdout', b: s2.stdout }, { f: 'server stderr', b: s2.stderr },
      ...cliOut.map((b, i) => ({ f: `cli output ${i}`, b })),
    ];
    for (const tok of tokens) {
      assertAbsent(files, tok, `token ${tok.slice(0, 16)}…`);
      assertAbsent(files, tok.slice(12, 42), 'the random part of a token');
      assertAbsent(out, tok, `token ${tok.slice(0, 16)}…`);
      assertAbsent(out, tok.slice(12, 42), 'the random part of a token');
    }
    for (const pw of passwords) {
      assertAbsent(files, pw, 'a password');
      assertAbsent(out, pw, 'a password');
    }
  });

  it('token list shows the SPEC 2 fields and a hint, never the secret', async () => {
    const db = newDatabase(tmpDir('list'));
    await addUser(db, { email: 'lea@list.test', team: 'list' });
    const tok = await createToken(db, { email: 'lea@list.test', name: 'ci-cd-pipeline', scopes: 'servers:read,applications:deploy', expiresIn: '30d' });
    const never = await createToken(db, { email: 'lea@list.test', name: 'forever', scopes: 'backups:read', expiresIn: 'never' });
    const arr = await listTokens(db);
    const x = arr.find((e) => e.name === 'ci-cd-pipeline');
    for (const k of ['id', 'name', 'scopes', 'created_at', 'last_used_at', 'expires_at', 'status']) {
      assert.ok(k in x, `field ${k} in ${JSON.stringify(x)}`);
    }
    const hintKey = Object.keys(x).find((k) => /hint/.test(k));
    assert.ok(hintKey, `a hint field in ${JSON.stringify(x)}`);
    assert.equal(x[hintKey], `piora_token_${tok.slice(12, 16)}…${tok.slice(-4)}`);
    assert.equal(x.status, 'active');
    assert.equal(x.last_used_at, null);
    assert.match(x.created_at, RFC3339_UTC);
    const days = (Date.parse(x.expires_at) - Date.parse(x.created_at)) / 86400e3;
    assert.ok(Math.abs(days - 30) < 0.01, `--expires-in 30d gives ${x.expires_at}`);
    const scopes = Array.isArray(x.scopes) ? x.scopes : String(x.scopes).split(/[ ,]+/);
    assert.deepEqual(scopes.sort(), ['applications:deploy', 'servers:read']);
    assert.equal(arr.find((e) => e.name === 'forever').expires_at, null);
    const text = (await cli(['token', 'list', '--database', db])).stdout;
    assert.ok(text.includes('ci-cd-pipeline') && text.includes('forever'), text);
    assert.ok(text.includes(`${tok.slice(12, 16)}…${tok.slice(-4)}`), `hint in the text list: ${text}`);
    for (const secret of [tok, never]) {
      assert.ok(!text.includes(secret) && !JSON.stringify(arr).includes(secret));
      assert.ok(!text.includes(secret.slice(12, 42)));
    }
  });

  it('last_used_at is written by the background flush and by a graceful stop', { timeout: 60000 }, async (t) => {
    const db = newDatabase(tmpDir('lu'));
    await addUser(db, { email: 'uma@used.test', team: 'used' });
    await createToken(db, { email: 'uma@used.test', name: 'flushed', scopes: 'servers:read' });
    const tok2 = await createToken(db, { email: 'uma@used.test', name: 'onstop', scopes: 'servers:read' });
    // Interval 1 s: the periodic flush is seen while the server runs.
    const s = await startOn(t, db, ['--last-used-interval', '1']);
    const flushedTok = await createToken(db, { email: 'uma@used.test', name: 'flushed2', scopes: 'servers:read' });
    const before = Date.now();
    assert.equal((await s.get('/api/v1/servers', { token: flushedTok })).status, 200);
    let seen = null;
    for (let i = 0; i < 40 && !seen; i++) {
      await sleep(250);
      seen = (await listTokens(db)).find((e) => e.name === 'flushed2').last_used_at;
    }
    assert.ok(seen, 'last_used_at written within 10 s with --last-used-interval 1');
    assert.ok(Date.parse(seen) >= Math.floor(before / 1000) * 1000 - 1000, `last_used_at ${seen} is the request time`);
    await s.stop();

    // Default interval (15 s): only the graceful stop can have written it.
    const s2 = await startOn(t, db);
    assert.equal((await s2.get('/api/v1/servers', { token: tok2 })).status, 200);
    const stopAt = Date.now();
    await s2.stop();
    const row = (await listTokens(db)).find((e) => e.name === 'onstop');
    assert.ok(row.last_used_at, 'last_used_at flushed on SIGTERM');
    assert.match(row.last_used_at, RFC3339_UTC);
    assert.ok(Date.parse(row.last_used_at) <= stopAt + 1000);
    assert.ok(Date.parse(row.last_used_at) >= stopAt - 60000);
    assert.equal((await listTokens(db)).find((e) => e.name === 'flushed').last_used_at, null, 'unused token stays null');
  });

  it('SIGTERM with requests in flight still exits 0', { timeout: 60000 }, async (t) => {
    const db = newDatabase(tmpDir('term'));
    await addUser(db, { email: 'val@term.test', team: 'term' });
    const tok = await createToken(db, { email: 'val@term.test', name: 'x', scopes: 'servers:write' });
    const s = await startOn(t, db);
    const inflight = Array.from({ length: 20 }, (_, i) => s.post('/api/v1/servers', {
      token: tok, body: { name: `n${i}`, ip_address: '10.0.0.1' },
    }).catch((e) => ({ status: 'error', e })));
    await sleep(5);
    await s.stop();
    const res = await Promise.all(inflight);
    // Whatever was answered was answered fully; what was stored is consistent.
    const created = res.filter((r) => r.status === 201).length;
    const s2 = await startOn(t, db);
    const total = (await s2.get('/api/v1/servers', { token: tok })).json.meta.total;
    assert.ok(total >= created, `${created} answered 201 but ${total} stored`);
    await s2.stop();
  });
});

function startOn(t, db, args = []) {
  return startServer(t, { dbPath: db, args });
}
