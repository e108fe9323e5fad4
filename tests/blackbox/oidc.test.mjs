// Issue 14 / SPEC 12: trusted publishing. A CI job's OIDC token from a
// real HTTPS issuer (tests/blackbox/lib/oidc-issuer.mjs: its own CA,
// discovery, JWKS, GitHub-like and GitLab-like tokens, RS256 and ES256)
// becomes a 15-minute token; everything else is a 401 that says why.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cli, run, startServer, newDatabase, tmpDir, T } from './lib/piora.mjs';
import { startIssuer, signJws, b64u, jsonB64u } from './lib/oidc-issuer.mjs';
import { noteSecret } from '../lib/journal.mjs';

const EMAIL = 'ada@oidc.test';

async function addUser(db, { email, team, admin = false }) {
  const password = `Oidc-test-pw-${crypto.randomUUID()}`;
  await cli(['user', 'add', '--email', email, '--team', team, ...(admin ? ['--admin'] : []),
    '--password-stdin', '--database', db], { input: password + '\n' });
  noteSecret(password);
}

async function addPublisher(db, args) {
  const r = await cli(['publisher', 'add', '--database', db, '--email', EMAIL, ...args]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\d+\n$/);
  return Number(r.stdout);
}

async function auditJson(db) {
  const r = await cli(['audit', '--json', '--limit', '1000', '--database', db]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('trusted publishing: POST /api/v1/oidc/token', () => {
  let issuer, down, db, s, gh, admin;
  const servers = [];

  before(async () => {
    issuer = await startIssuer();
    down = await startIssuer();
    down.state.jwksDown = true; // nothing will ever be cached for it
    const dir = tmpDir('oidc');
    db = newDatabase(dir);
    await addUser(db, { email: EMAIL, team: 'oidc', admin: true });
    // one CA file holding both test CAs (each issuer makes its own)
    const cas = path.join(dir, 'oidc-cas.pem');
    fs.writeFileSync(cas, fs.readFileSync(issuer.caFile) + fs.readFileSync(down.caFile));
    s = await startServer(null, { dbPath: db, args: ['--oidc-ca-file', cas,
      '--oidc-refresh-interval', '1', '--revoke-limit', '100000'] });
    // two servers, so that a publisher limited to one is seen to be
    admin = (await cli(['token', 'create', '--email', EMAIL, '--name', 'setup', '--scopes', 'servers:write',
      '--database', db])).stdout.trim();
    noteSecret(admin);
    for (const name of ['web-1', 'web-2']) {
      const r = await s.post('/api/v1/servers', { token: admin, body: { name, ip_address: '192.0.2.10' } });
      assert.equal(r.status, 201, r.text);
      servers.push(r.json.id);
    }
    gh = await addPublisher(db, ['--name', 'gh-deploy', '--issuer', issuer.url,
      '--claim', 'repository=acme/web', '--claim', 'repository_owner_id=4242',
      '--claim', 'environment=production', '--ref-glob', 'refs/heads/main',
      '--scopes', 'applications:deploy,applications:read']);
    await addPublisher(db, ['--name', 'gl-deploy', '--issuer', issuer.url, '--audience', 'piora-gl',
      '--claim', 'project_path=acme/api', '--claim', 'namespace_id=71', '--ref-glob', 'main',
      '--scopes', 'servers:read', '--resources', `servers:${servers[1]}`]);
    await addPublisher(db, ['--name', 'down', '--issuer', down.url, '--scopes', 'servers:read']);
  });
  after(async () => {
    await s?.stop(); // a clean exit 0: under ASan, no leak and no report
    await issuer?.close();
    await down?.close();
  });

  const exchange = (token) => s.post('/api/v1/oidc/token', { body: { token } });
  async function refused(token, detail) {
    const r = await exchange(token);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.code, 'invalid_token', r.text);
    assert.match(r.json.detail, detail);
    assert.match(r.h('www-authenticate'), /Bearer realm="piora", error="invalid_token"/);
    assert.doesNotMatch(r.text, /piora_token_/);
    return r;
  }

  it('a GitHub-like RS256 token becomes a 15-minute token that works, is listed and revocable',
    { timeout: T(30000) }, async () => {
      const before = Math.floor(Date.now() / 1000);
      const r = await exchange(issuer.mint());
      assert.equal(r.status, 201, r.text);
      noteSecret(r.json.token);
      assert.match(r.json.token, /^piora_token_[0-9A-Za-z]{36}$/);
      assert.deepEqual(r.json.scopes, ['applications:read', 'applications:deploy']);
      assert.equal(r.json.resources, null);
      const exp = Date.parse(r.json.expires_at) / 1000;
      assert.ok(exp >= before + 900 - 2 && exp <= before + 900 + 5, `expires_at ${r.json.expires_at}`);

      const self = await s.get('/api/v1/token', { token: r.json.token });
      assert.equal(self.status, 200, self.text);
      assert.equal(self.json.name, 'via trusted publisher gh-deploy');
      assert.equal(self.json.owner.email, EMAIL);
      assert.equal((await s.get('/api/v1/servers', { token: r.json.token })).status, 403);

      const list = await cli(['token', 'list', '--json', '--database', db]);
      assert.ok(JSON.parse(list.stdout).some((t) => t.name === 'via trusted publisher gh-deploy'));

      assert.equal((await s.del('/api/v1/token', { token: r.json.token })).status, 204);
      assert.equal((await s.get('/api/v1/token', { token: r.json.token })).status, 401);

      const audit = await auditJson(db);
      const ok = audit.find((e) => e.action === 'oidc.exchanged');
      assert.ok(ok, 'the exchange is audited');
      assert.equal(ok.via, 'oidc');
      assert.equal(ok.addr, '127.0.0.1');
      assert.match(ok.detail, /publisher gh-deploy \(id \d+\); repository acme\/web; ref refs\/heads\/main; commit e3b0c44298fc1c149afbf4c8996fb92427ae41e4; run 9000001/);
    });

  it('a GitLab-like ES256 token with its own audience gets its publisher\'s resources', async () => {
    const r = await exchange(issuer.mint({ kind: 'gitlab', kid: 'ec-1', claims: { aud: 'piora-gl' } }));
    assert.equal(r.status, 201, r.text);
    noteSecret(r.json.token);
    assert.deepEqual(r.json.scopes, ['servers:read']);
    assert.deepEqual(r.json.resources, { servers: [servers[1]], applications: [], databases: [] });
    const self = await s.get('/api/v1/token', { token: r.json.token });
    assert.equal(self.status, 200, self.text);
    assert.deepEqual(self.json.resources, { servers: [servers[1]], applications: [], databases: [] });
    const seen = await s.get('/api/v1/servers', { token: r.json.token });
    assert.equal(seen.status, 200, seen.text);
    assert.deepEqual(seen.json.data.map((x) => x.id), [servers[1]], 'the token sees only its publisher\'s server');
    assert.equal((await s.get(`/api/v1/servers/${servers[0]}`, { token: r.json.token })).status, 404);
    const audit = await auditJson(db);
    assert.ok(audit.some((e) => e.action === 'oidc.exchanged' && /repository acme\/api; ref main; .*run 5550001/.test(e.detail)));
  });

  it('aud as an array holding the audience is accepted; one without it is not', async () => {
    const r = await exchange(issuer.mint({ claims: { aud: ['other', 'piora'] } }));
    assert.equal(r.status, 201, r.text);
    noteSecret(r.json.token);
    await refused(issuer.mint({ claims: { aud: ['other', 'piora-x'] } }), /aud/);
    await refused(issuer.mint({ claims: { aud: 'sigstore' } }), /aud/);
  });

  it('time rules: expired, not yet valid, issued in the future (30 s leeway)', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(issuer.mint({ claims: { exp: now - 120, iat: now - 600, nbf: now - 600 } }), /expired/);
    await refused(issuer.mint({ claims: { nbf: now + 120 } }), /nbf/);
    await refused(issuer.mint({ claims: { iat: now + 120 } }), /iat/);
    const r = await exchange(issuer.mint({ claims: { exp: now - 10 } })); // inside the leeway
    assert.equal(r.status, 201, r.text);
    noteSecret(r.json.token);
  });

  it('alg none, HS256 keyed with the public key, a tampered payload, a token of another issuer', async () => {
    const claims = issuer.github();
    const none = `${jsonB64u({ alg: 'none', typ: 'JWT' })}.${jsonB64u(claims)}.`;
    await refused(none, /algorithm|signature/);

    const rsa = issuer.keyOf('rsa-1');
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    const input = `${jsonB64u({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' })}.${jsonB64u(issuer.github())}`;
    const hs = `${input}.${b64u(crypto.createHmac('sha256', pem).update(input).digest())}`;
    await refused(hs, /algorithm/);

    // RS256 header over an ES256 key id: the key decides, not the header
    const mixed = signJws({ alg: 'RS256', kid: 'ec-1' }, issuer.github(), rsa);
    await refused(mixed, /algorithm does not match|signature/);

    const good = issuer.mint();
    const [h, , sig] = good.split('.');
    const evil = `${h}.${jsonB64u({ ...issuer.github(), repository_owner_id: '4242', repository: 'acme/web', environment: 'production', sub: 'evil' })}.${sig}`;
    await refused(evil, /signature does not verify/);

    await refused(issuer.mint({ claims: { iss: 'https://token.actions.example.com' } }), /no trusted publisher has this issuer/);
  });

  it('claim conditions: wrong repository_owner_id, missing environment, ref outside the glob', async () => {
    await refused(issuer.mint({ claims: { repository_owner_id: '4243' } }), /repository_owner_id does not match/);
    await refused(issuer.mint({ claims: { environment: undefined } }), /environment is missing/);
    await refused(issuer.mint({ claims: { ref: 'refs/heads/feature' } }), /ref is outside the publisher's ref glob/);
  });

  it('a publisher whose resource was deleted mints nothing', async () => {
    await addPublisher(db, ['--name', 'gone', '--issuer', issuer.url, '--audience', 'piora-gone',
      '--scopes', 'servers:read', '--resources', `servers:${servers[0]}`]);
    assert.equal((await s.del(`/api/v1/servers/${servers[0]}`, { token: admin })).status, 204);
    await refused(issuer.mint({ claims: { aud: 'piora-gone' } }), /resources are no longer all the team's objects/);
  });

  it('a jti is accepted once', async () => {
    const tok = issuer.mint();
    const r = await exchange(tok);
    assert.equal(r.status, 201, r.text);
    noteSecret(r.json.token);
    await refused(tok, /jti was already used/);
    await refused(issuer.mint({ claims: { jti: undefined } }), /jti is missing/);
    // at once, from several connections: still exactly one token
    const same = issuer.mint();
    const all = await Promise.all(Array.from({ length: 6 }, () => exchange(same)));
    for (const x of all) if (x.status === 201) noteSecret(x.json.token);
    assert.deepEqual(all.map((x) => x.status).sort(), [201, 401, 401, 401, 401, 401]);
  });

  it('an oversized JWT and a malformed one', async () => {
    const big = issuer.mint({ claims: { padding: 'x'.repeat(9000) } });
    await refused(big, /too large/);
    await refused('not.a.jwt!', /base64url|JWS/);
    const r = await exchange(42);
    assert.equal(r.status, 422, r.text);
  });

  it('unknown kid: refetched (at most once per interval), then accepted', { timeout: T(30000) }, async () => {
    const stray = issuer.strayKey('RS256', 'rsa-stray');
    const fetches = issuer.state.jwksFetches;
    await new Promise((r) => setTimeout(r, 1100)); // past --oidc-refresh-interval 1
    // Five at once, so all five fall inside one interval however slow the
    // machine (one after another, a sanitizer build under load took 2.4 s
    // each, and each was then rightly allowed its own refetch).
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 5 }, () =>
      refused(signJws({ alg: 'RS256', kid: 'rsa-stray' }, issuer.github(), stray), /key id is not in the issuer's JWKS/)));
    const n = issuer.state.jwksFetches - fetches;
    // one refetch for the unknown kid; a second only if the five spread past the interval
    const allowed = 1 + Math.floor((Date.now() - t0) / 1000);
    assert.ok(n >= 1, 'an unknown kid makes Piora fetch the JWKS again');
    assert.ok(n <= allowed, `JWKS fetched ${n} times for 5 unknown kids in ${Date.now() - t0} ms (at most once per second)`);

    issuer.addKey('ES256', 'ec-2'); // the issuer rotates
    await new Promise((r) => setTimeout(r, 1100));
    const r = await exchange(issuer.mint({ kid: 'ec-2' }));
    assert.equal(r.status, 201, r.text);
    noteSecret(r.json.token);
  });

  it('JWKS down: cached keys still work; an issuer never fetched answers 401 fast', { timeout: T(30000) }, async () => {
    issuer.state.jwksDown = true;
    try {
      await new Promise((r) => setTimeout(r, 1100));
      const r = await exchange(issuer.mint());
      assert.equal(r.status, 201, r.text);
      noteSecret(r.json.token);
    } finally {
      issuer.state.jwksDown = false;
    }
    const t0 = Date.now();
    const claims = { iss: down.url };
    const tok = signJws({ alg: 'RS256', kid: 'rsa-1' }, { ...down.github(), ...claims }, down.keyOf('rsa-1'));
    await refused(tok, /issuer's keys are unavailable/);
    assert.ok(Date.now() - t0 < T(4000), `401 took ${Date.now() - t0} ms`);
  });

  it('an oversized JWKS is refused', { timeout: T(30000) }, async () => {
    down.state.jwksDown = false;
    down.state.jwksHuge = true;
    await new Promise((r) => setTimeout(r, 1100));
    const tok = signJws({ alg: 'RS256', kid: 'rsa-1' }, down.github(), down.keyOf('rsa-1'));
    await refused(tok, /too large/);
  });

  it('every refusal is audited with its reason; removing the publisher stops its jobs', async () => {
    const audit = await auditJson(db);
    const failed = audit.filter((e) => e.action === 'oidc.failed').map((e) => e.detail);
    for (const re of [/aud does not include/, /expired/, /jti was already used/, /environment is missing/,
      /no trusted publisher has this issuer/, /signature does not verify/, /too large/])
      assert.ok(failed.some((d) => re.test(d)), `an oidc.failed entry matching ${re}: ${failed.join(' | ')}`);
    for (const d of failed) assert.doesNotMatch(d, /eyJ/, 'no JWT in the audit log');

    const list = await cli(['publisher', 'list', '--json', '--database', db]);
    assert.equal(list.code, 0, list.stderr);
    const pubs = JSON.parse(list.stdout);
    const p = pubs.find((x) => x.id === gh);
    assert.deepEqual(p.claims, { repository: 'acme/web', repository_owner_id: '4242', environment: 'production' });
    assert.equal(p.ref_glob, 'refs/heads/main');
    assert.equal(p.audience, 'piora');

    const rm = await cli(['publisher', 'remove', String(gh), '--database', db]);
    assert.equal(rm.code, 0, rm.stderr);
    const after = await auditJson(db);
    assert.ok(after.some((e) => e.action === 'publisher.removed' && /gh-deploy/.test(e.detail)));
    assert.ok(after.some((e) => e.action === 'publisher.added' && /gh-deploy/.test(e.detail)));
    await refused(issuer.mint(), /aud does not include|claim/); // only gl-deploy is left for this issuer
  });
});

describe('a cold cache', () => {
  it('jobs starting together make one fetch and all get their token', { timeout: T(30000) }, async (t) => {
    const iss = await startIssuer();
    t.after(() => iss.close());
    const db = newDatabase(tmpDir('oidc-cold'));
    await addUser(db, { email: EMAIL, team: 'cold', admin: true });
    await addPublisher(db, ['--name', 'matrix', '--issuer', iss.url, '--scopes', 'servers:read']);
    const srv = await startServer(t, { dbPath: db, args: ['--oidc-ca-file', iss.caFile, '--revoke-limit', '1000',
      '--hash-threads', '4'] });
    const all = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      srv.post('/api/v1/oidc/token', { body: { token: iss.mint({ kid: i % 2 ? 'ec-1' : 'rsa-1' }) } })));
    for (const r of all) if (r.status === 201) noteSecret(r.json.token);
    assert.deepEqual(all.map((r) => r.status), [201, 201, 201, 201, 201, 201], all.map((r) => r.text).join('\n'));
    assert.equal(iss.state.discoveryFetches, 1);
    assert.equal(iss.state.jwksFetches, 1);
    await srv.stop();
  });
});

describe('an offboarded owner', () => {
  it('a publisher whose admin was disabled mints nothing (issue 13 meets SPEC 12)', { timeout: T(30000) }, async (t) => {
    const iss = await startIssuer();
    t.after(() => iss.close());
    const db = newDatabase(tmpDir('oidc-off'));
    await addUser(db, { email: EMAIL, team: 'off', admin: true });
    await addUser(db, { email: 'bo@oidc.test', team: 'off', admin: true });
    await addPublisher(db, ['--name', 'ci', '--issuer', iss.url, '--scopes', 'servers:read']);
    const srv = await startServer(t, { dbPath: db, args: ['--oidc-ca-file', iss.caFile, '--revoke-limit', '1000'] });
    const ok = await srv.post('/api/v1/oidc/token', { body: { token: iss.mint() } });
    assert.equal(ok.status, 201, ok.text);
    noteSecret(ok.json.token);
    const off = await cli(['user', 'disable', '--email', EMAIL, '--database', db]);
    assert.equal(off.code, 0, off.stderr);
    const r = await srv.post('/api/v1/oidc/token', { body: { token: iss.mint() } });
    assert.equal(r.status, 401, r.text);
    assert.match(r.json.detail, /owner is disabled/);
    assert.equal((await srv.get('/api/v1/token', { token: ok.json.token })).status, 401, 'its minted token went with it');
    await srv.stop();
  });
});

describe('issuer TLS', () => {
  it('an issuer whose CA is not trusted (no --oidc-ca-file) is never believed', { timeout: T(30000) }, async (t) => {
    const iss = await startIssuer();
    t.after(() => iss.close());
    const db = newDatabase(tmpDir('oidc-tls'));
    await addUser(db, { email: EMAIL, team: 'tls', admin: true });
    await addPublisher(db, ['--name', 'p', '--issuer', iss.url, '--scopes', 'servers:read']);
    const srv = await startServer(t, { dbPath: db });
    const r = await srv.post('/api/v1/oidc/token', { body: { token: iss.mint({ claims: { environment: undefined } }) } });
    assert.equal(r.status, 401, r.text);
    assert.match(r.json.detail, /issuer's keys are unavailable/);
    assert.equal(iss.state.discoveryFetches, 0, 'the TLS handshake failed before any request');
    await srv.stop();
  });
});

describe('piora publisher add: bad input', () => {
  it('refuses a non-admin, an http issuer, an unknown claim and a bad scope', async () => {
    const db = newDatabase(tmpDir('oidc-cli'));
    await addUser(db, { email: 'boss@cli.test', team: 'c', admin: true });
    await addUser(db, { email: 'bob@cli.test', team: 'c' });
    const add = (email, extra) => run(['publisher', 'add', '--database', db, '--email', email, '--name', 'p',
      '--scopes', 'servers:read', ...extra]);
    let r = await add('bob@cli.test', ['--issuer', 'https://gitlab.com']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /admin/);
    r = await add('boss@cli.test', ['--issuer', 'http://gitlab.com']);
    assert.match(r.stderr, /issuer: must be an https/);
    r = await add('boss@cli.test', ['--issuer', 'https://gitlab.com', '--claim', 'iss=x']);
    assert.match(r.stderr, /claims:/);
    r = await add('boss@cli.test', ['--issuer', 'https://gitlab.com', '--resources', 'users:1']);
    assert.match(r.stderr, /resources:/);
    r = await add('boss@cli.test', ['--issuer', 'https://gitlab.com']);
    assert.equal(r.code, 0, r.stderr);
    r = await add('boss@cli.test', ['--issuer', 'https://gitlab.com']);
    assert.match(r.stderr, /already has a trusted publisher named/);
  });
});
