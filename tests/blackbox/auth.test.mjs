// SPEC 2 and 3: the authentication pipeline as a client sees it — challenges,
// problem bodies and codes, token format, revocation on every path, expiry.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeTemplate, startServer, assertProblem, parseChallenge, forgeToken, flipLast,
  checksum62, cli, run, tokenId, listTokens, createToken, sleep, T, one, RFC3339_UTC,
} from './lib/piora.mjs';

const SERVERS = '/api/v1/servers';
let tpl;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'ann@alpha.test', team: 'alpha' }],
    tokens: [
      { email: 'ann@alpha.test', name: 'reader', scopes: 'servers:read' },
      { email: 'ann@alpha.test', name: 'victim', scopes: 'servers:read', expiresIn: 'never' },
      { email: 'ann@alpha.test', name: 'selfrevoke', scopes: 'servers:read' },
      { email: 'ann@alpha.test', name: 'leaked', scopes: 'servers:read,servers:write' },
    ],
  });
});

function assertInvalidTokenChallenge(res, code, descWord) {
  const b = assertProblem(res, 401, code);
  const c = parseChallenge(res.h('www-authenticate'));
  assert.equal(c.scheme, 'Bearer');
  assert.equal(c.params.realm, 'piora');
  assert.equal(c.params.error, 'invalid_token', c.raw);
  assert.ok(c.params.error_description, `error_description present: ${c.raw}`);
  if (descWord) assert.match(c.params.error_description, descWord, c.raw);
  assert.match(c.raw, /^Bearer realm="piora", error="invalid_token", error_description="[^"]+"/);
  return b;
}

describe('token format (SPEC 2)', () => {
  it('a created token has the prefix, 30 base62 characters and the CRC-32 base62 checksum', () => {
    for (const tok of Object.values(tpl.tokens)) {
      assert.match(tok, /^piora_token_[0-9A-Za-z]{36}$/);
      const random = tok.slice(12, 42);
      assert.equal(tok.slice(42), checksum62(random), `checksum of ${tok.slice(0, 16)}...`);
    }
    const all = Object.values(tpl.tokens);
    assert.equal(new Set(all).size, all.length, 'tokens are distinct');
  });
});

describe('authentication pipeline (SPEC 3)', () => {
  it('no Authorization header: 401 missing_token with a bare Bearer challenge', async (t) => {
    const s = await startServer(t, { template: tpl });
    const r = await s.get(SERVERS);
    assertProblem(r, 401, 'missing_token');
    assert.equal(r.h('www-authenticate'), 'Bearer realm="piora"');
    await s.stop();
  });

  it('token in the URL with an Authorization header: 400 invalid_request', async (t) => {
    const s = await startServer(t, { template: tpl });
    const tok = tpl.tokens.reader;
    const r = await s.get(`${SERVERS}?access_token=${tok}`, { token: tok });
    assertProblem(r, 400, 'invalid_request');
    const c = parseChallenge(r.h('www-authenticate'));
    assert.equal(c.scheme, 'Bearer');
    assert.equal(c.params.realm, 'piora');
    assert.equal(c.params.error, 'invalid_request', c.raw);
    // Also when the query has other parameters around it.
    const r2 = await s.get(`${SERVERS}?page=1&access_token=x&per_page=5`, { token: tok });
    assertProblem(r2, 400, 'invalid_request');
    // Without any Authorization header the first check wins.
    const r3 = await s.get(`${SERVERS}?access_token=${tok}`);
    assertProblem(r3, 401, 'missing_token');
    assert.equal(r3.h('www-authenticate'), 'Bearer realm="piora"');
    await s.stop();
  });

  it('other schemes are invalid_token; the Bearer scheme is case-insensitive', async (t) => {
    const s = await startServer(t, { template: tpl });
    const tok = tpl.tokens.reader;
    const basic = 'Basic ' + Buffer.from(`ann@alpha.test:${tok}`).toString('base64');
    assertInvalidTokenChallenge(await s.get(SERVERS, { auth: basic }), 'invalid_token', /invalid/i);
    assertInvalidTokenChallenge(await s.get(SERVERS, { auth: `Token ${tok}` }), 'invalid_token', /invalid/i);
    assertInvalidTokenChallenge(await s.get(SERVERS, { auth: tok }), 'invalid_token', /invalid/i);
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const r = await s.get(SERVERS, { auth: `${scheme} ${tok}` });
      assert.equal(r.status, 200, `${scheme} scheme: ${r.text}`);
    }
    await s.stop();
  });

  it('malformed, bad-checksum and unknown tokens are 401 invalid_token', async (t) => {
    const s = await startServer(t, { template: tpl });
    const tok = tpl.tokens.reader;
    const bad = [
      'Bearer ',
      'Bearer abc',
      'Bearer piora_token_',
      `Bearer ${tok}x`,
      `Bearer ${tok.slice(0, -1)}`,
      `Bearer ${tok.replace('piora_token_', 'PIORA_TOKEN_')}`,
      `Bearer ${tok.slice(0, 20)}-${tok.slice(21)}`,
      `Bearer ${flipLast(tok)}`,
      `Bearer ${forgeToken('unknown-1')}`,
      `Bearer ${forgeToken('unknown-2')}`,
    ];
    for (const auth of bad) {
      const r = await s.get(SERVERS, { auth });
      assertInvalidTokenChallenge(r, 'invalid_token', /invalid/i);
    }
    // And the good one still works after all that.
    assert.equal((await s.get(SERVERS, { token: tok })).status, 200);
    await s.stop();
  });

  it('GET /token describes the calling token, never its secret', async (t) => {
    const s = await startServer(t, { template: tpl });
    const tok = tpl.tokens.reader;
    const r = await s.get('/api/v1/token', { token: tok });
    assert.equal(r.status, 200, r.text);
    const o = one(r.json);
    assert.equal(o.name, 'reader');
    const scopes = Array.isArray(o.scopes) ? o.scopes : String(o.scopes).split(/[ ,]+/);
    assert.deepEqual(scopes, ['servers:read']);
    assert.ok('expires_at' in o, 'expires_at present');
    assert.match(o.expires_at, RFC3339_UTC);
    const days = (Date.parse(o.expires_at) - Date.now()) / 86400e3;
    assert.ok(days > 89 && days < 91, `default expiry is 90 days, got ${o.expires_at}`);
    assert.ok(o.owner !== undefined && o.owner !== null, 'owner present');
    assert.match(JSON.stringify(o.owner), /ann@alpha\.test/, 'owner names the creating user');
    assert.ok(!r.text.includes(tok), 'the secret is not echoed');
    assert.ok(!r.text.includes(tok.slice(12, 42)), 'no part of the secret is echoed');
    await s.stop();
  });

  it('DELETE /token revokes the calling token at once', async (t) => {
    const s = await startServer(t, { template: tpl });
    const tok = tpl.tokens.selfrevoke;
    assert.equal((await s.get(SERVERS, { token: tok })).status, 200);
    const d = await s.del('/api/v1/token', { token: tok });
    assert.ok(d.status === 204 || d.status === 200, `DELETE /token: ${d.status} ${d.text}`);
    assertInvalidTokenChallenge(await s.get(SERVERS, { token: tok }), 'token_revoked', /revoked/i);
    assertInvalidTokenChallenge(await s.get('/api/v1/token', { token: tok }), 'token_revoked', /revoked/i);
    // Other tokens are unaffected.
    assert.equal((await s.get(SERVERS, { token: tpl.tokens.reader })).status, 200);
    await s.stop();
    const arr = await listTokens(s.db);
    assert.equal(arr.find((x) => x.name === 'selfrevoke').status, 'revoked');
  });

  it('POST /credentials/revoke answers 202 for anything and revokes leaked tokens', async (t) => {
    const s = await startServer(t, { template: tpl });
    const leaked = tpl.tokens.leaked;
    assert.equal((await s.get(SERVERS, { token: leaked })).status, 200);
    // Unknown and garbage credentials: still 202, no token needed.
    const r1 = await s.post('/api/v1/credentials/revoke', {
      body: { credentials: [forgeToken('nobody'), 'not-a-token', flipLast(leaked)] },
    });
    assert.equal(r1.status, 202, r1.text);
    assert.equal((await s.get(SERVERS, { token: leaked })).status, 200, 'a wrong checksum revokes nothing');
    const r2 = await s.post('/api/v1/credentials/revoke', { body: { credentials: [leaked] } });
    assert.equal(r2.status, 202, r2.text);
    assert.ok(!r2.text.includes(leaked), 'the answer does not echo the credential');
    assertInvalidTokenChallenge(await s.get(SERVERS, { token: leaked }), 'token_revoked', /revoked/i);
    // The answer is the same whether the token was known or not.
    const r3 = await s.post('/api/v1/credentials/revoke', { body: { credentials: [leaked] } });
    assert.equal(r3.status, 202);
    assert.equal((await s.get(SERVERS, { token: tpl.tokens.reader })).status, 200);
    await s.stop();
  });

  it('POST /credentials/revoke with a malformed body is a 4xx problem, not a crash', async (t) => {
    const s = await startServer(t, { template: tpl });
    const r1 = await s.post('/api/v1/credentials/revoke', { body: '{"credentials": [' });
    assertProblem(r1, 400);
    const r2 = await s.post('/api/v1/credentials/revoke', { body: { credentials: 'x' } });
    assert.ok(r2.status === 400 || r2.status === 422, `${r2.status} ${r2.text}`);
    await s.healthy();
    await s.stop();
  });

  it('piora token revoke from another process: the very next request is 401 token_revoked', async (t) => {
    const s = await startServer(t, { template: tpl });
    const tok = tpl.tokens.victim;
    // Warm whatever cache the server keeps for this token.
    for (let i = 0; i < 5; i++) assert.equal((await s.get(SERVERS, { token: tok })).status, 200);
    const id = await tokenId(s.db, 'victim');
    await cli(['token', 'revoke', String(id), '--database', s.db]);
    const r = await s.get(SERVERS, { token: tok });
    assertInvalidTokenChallenge(r, 'token_revoked', /revoked/i);
    // Still revoked on later requests and on every route.
    assertInvalidTokenChallenge(await s.get('/api/v1/token', { token: tok }), 'token_revoked');
    assertInvalidTokenChallenge(await s.get(`${SERVERS}/1`, { token: tok }), 'token_revoked');
    assert.equal((await s.get(SERVERS, { token: tpl.tokens.reader })).status, 200);
    await s.stop();
  });

  it('a token created by the CLI while serving works at once, and revoking it works at once, ten times over', async (t) => {
    const s = await startServer(t, { template: tpl });
    for (let i = 0; i < 10; i++) {
      const name = `cycle-${i}`;
      const tok = await createToken(s.db, { email: 'ann@alpha.test', name, scopes: 'servers:read' });
      assert.equal((await s.get(SERVERS, { token: tok })).status, 200, `fresh token ${i}`);
      const id = await tokenId(s.db, name);
      await cli(['token', 'revoke', String(id), '--database', s.db]);
      const r = await s.get(SERVERS, { token: tok });
      assert.equal(r.status, 401, `revoked token ${i} answered ${r.status}`);
      assert.equal(r.json?.code, 'token_revoked');
    }
    await s.stop();
  });

  it('under concurrent traffic, no request sent after piora token revoke returned succeeds', { timeout: T(60000) }, async (t) => {
    const s = await startServer(t, { template: tpl });
    const tok = tpl.tokens.victim;
    const id = await tokenId(s.db, 'victim');
    const log = [];
    let stop = false;
    const deadline = Date.now() + T(15000);
    const loop = async () => {
      for (let i = 0; i < 5000 && !stop && Date.now() < deadline; i++) {
        const at = performance.now();
        const r = await s.get(SERVERS, { token: tok });
        log.push({ at, status: r.status, code: r.json?.code });
      }
    };
    const loops = Array.from({ length: 4 }, loop);
    await sleep(200);
    await cli(['token', 'revoke', String(id), '--database', s.db]);
    const revokedAt = performance.now();
    await sleep(300);
    stop = true;
    await Promise.all(loops);
    const before = log.filter((e) => e.at < revokedAt);
    const after = log.filter((e) => e.at > revokedAt);
    assert.ok(before.some((e) => e.status === 200), 'the token worked before the revoke');
    assert.ok(after.length > 10, `requests after the revoke: ${after.length}`);
    const leaks = after.filter((e) => e.status !== 401 || e.code !== 'token_revoked');
    assert.deepEqual(leaks, [], `${leaks.length} of ${after.length} requests after the revoke were not 401 token_revoked`);
    await s.stop();
  });

  it('piora token revoke of an unknown id fails with a message', async (t) => {
    const s = await startServer(t, { template: tpl });
    const r = await run(['token', 'revoke', '987654', '--database', s.db]);
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.trim().length > 0, 'a message on stderr');
    await s.stop();
  });

  it('a token created with --expires-in 2s works, then is 401 token_expired', async (t) => {
    const s = await startServer(t, { template: tpl });
    const tok = await createToken(s.db, {
      email: 'ann@alpha.test', name: 'shortlived', scopes: 'servers:read', expiresIn: '2s',
    });
    const t0 = Date.now();
    const r1 = await s.get(SERVERS, { token: tok });
    assert.equal(r1.status, 200, r1.text);
    assert.ok(Date.now() - t0 < 1500, 'first request made well before expiry');
    await sleep(3000 - (Date.now() - t0) + 200);
    const r2 = await s.get(SERVERS, { token: tok });
    assertInvalidTokenChallenge(r2, 'token_expired', /expired/i);
    const arr = await listTokens(s.db);
    assert.equal(arr.find((x) => x.name === 'shortlived').status, 'expired');
    await s.stop();
  });

  it('token create rejects unknown scopes and an empty scope list', { timeout: T(30000) }, async (t) => {
    const s = await startServer(t, { template: tpl });
    for (const scopes of ['servers:admin', 'servers:read,nope', '']) {
      const r = await run(['token', 'create', '--email', 'ann@alpha.test', '--name', 'bad',
        '--scopes', scopes, '--database', s.db]);
      assert.notEqual(r.code, 0, `scopes ${JSON.stringify(scopes)} accepted: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /piora_token_/);
    }
    await s.stop();
  });
});
