// SPEC 10, Host keys, through `piora serve` and a real sshd: POST
// /servers/{id}/check answers what it found; trust on first use (audited);
// a changed host key is host_key_mismatch until PATCH clears the pin; a pin
// given at creation; the team key missing (auth_failed), rotation with the
// previous key as fallback; a closed port (unreachable within 10 s).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { addUser, cli, createToken, startServer, newDatabase, tmpDir, freePort, T, RFC3339_UTC } from './lib/piora.mjs';
import { startSshd } from './lib/sshd.mjs';

let sshd;
before(async () => { sshd = await startSshd({ users: ['app'] }); });
after(async () => { await sshd?.stop(); });

describe('server checks and pinned host keys', () => {
  it('TOFU, mismatch, clear, pin at creation, auth_failed, rotation fallback, closed port', { timeout: T(90000) }, async (t) => {
    const db = newDatabase(tmpDir('hostkeys'));
    await addUser(db, { email: 'hk@hostkeys.test', team: 'hk' });
    const tok = await createToken(db, { email: 'hk@hostkeys.test', name: 'rw', scopes: 'servers:read,servers:write' });
    const ro = await createToken(db, { email: 'hk@hostkeys.test', name: 'ro', scopes: 'servers:read' });
    const s = await startServer(t, { dbPath: db });
    const o = { token: tok };

    const key = (await s.get('/api/v1/ssh-key', o)).json;
    sshd.authorize('app', key.public_key);
    const made = await s.post('/api/v1/servers', { ...o, body: { name: 'box', ip_address: '127.0.0.1', ssh_port: sshd.port, ssh_user: sshd.userName('app') } });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.json.host_key_fingerprint, null);
    assert.equal(made.json.checked_at, null);
    const id = made.json.id;
    const check = async () => {
      const r = await s.post(`/api/v1/servers/${id}/check`, o);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.json).sort(), ['detail', 'host_key_fingerprint', 'status']);
      return r.json;
    };
    const server = async () => (await s.get(`/api/v1/servers/${id}`, o)).json;

    assert.equal((await s.post(`/api/v1/servers/${id}/check`, { token: ro })).status, 403);

    // first use: trusted and recorded
    const first = await check();
    assert.equal(first.status, 'reachable', first.detail);
    assert.equal(first.host_key_fingerprint, sshd.fingerprint());
    let srv = await server();
    assert.equal(srv.host_key_fingerprint, sshd.fingerprint());
    assert.equal(srv.status, 'reachable');
    assert.match(srv.checked_at, RFC3339_UTC);
    const audit = JSON.parse((await cli(['audit', '--json', '--database', db])).stdout);
    assert.ok(audit.some((e) => e.action === 'server.host_key_trusted' && e.via === 'api'), JSON.stringify(audit.map((e) => e.action)));

    // the host key changes: mismatch, the pin stays, the answer shows the new key
    const old = sshd.fingerprint();
    await sshd.restartWithNewHostKey();
    const logBefore = sshd.log().length;
    const mm = await check();
    assert.equal(mm.status, 'host_key_mismatch');
    assert.equal(mm.host_key_fingerprint, sshd.fingerprint());
    srv = await server();
    assert.equal(srv.host_key_fingerprint, old);
    assert.equal(srv.status, 'host_key_mismatch');
    // nothing ran: Piora left before authenticating
    assert.doesNotMatch(sshd.log().slice(logBefore), /Accepted publickey/);

    // cleared by a servers:write PATCH, then trusted again
    const cleared = await s.patch(`/api/v1/servers/${id}`, { ...o, body: { host_key_fingerprint: null } });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.json.host_key_fingerprint, null);
    assert.equal((await check()).status, 'reachable');
    assert.equal((await server()).host_key_fingerprint, sshd.fingerprint());

    // a pin given at creation: a wrong one is a mismatch; a malformed one 422
    const bad = await s.post('/api/v1/servers', { ...o, body: { name: 'pinned', ip_address: '127.0.0.1', ssh_port: sshd.port, ssh_user: sshd.userName('app'), host_key_fingerprint: old } });
    assert.equal(bad.status, 201, bad.text);
    const r2 = await s.post(`/api/v1/servers/${bad.json.id}/check`, o);
    assert.equal(r2.json.status, 'host_key_mismatch');
    assert.equal((await s.get(`/api/v1/servers/${bad.json.id}`, o)).json.host_key_fingerprint, old);
    const pins = JSON.parse((await cli(['audit', '--json', '--database', db])).stdout).map((e) => e.action);
    assert.ok(pins.includes('server.host_key_cleared'), pins.join(','));
    assert.ok(pins.includes('server.host_key_pinned'), pins.join(','));
    const malformed = await s.post('/api/v1/servers', { ...o, body: { name: 'x', ip_address: '127.0.0.1', host_key_fingerprint: 'MD5:aa:bb' } });
    assert.equal(malformed.status, 422, malformed.text);

    // the team key missing from authorized_keys
    sshd.authorize('app');
    assert.equal((await check()).status, 'auth_failed');
    assert.equal((await server()).status, 'auth_failed');

    // rotation: the previous key is still offered until deleted
    sshd.authorize('app', key.public_key);
    const rot = await s.post('/api/v1/ssh-key/rotate', o);
    assert.equal(rot.status, 200);
    assert.equal((await check()).status, 'reachable', 'the previous key is the fallback');
    assert.equal((await s.del('/api/v1/ssh-key/previous', o)).status, 204);
    assert.equal((await check()).status, 'auth_failed');
    sshd.authorize('app', rot.json.public_key);
    assert.equal((await check()).status, 'reachable');

    // a closed port: unreachable within 10 s
    const closed = await s.post('/api/v1/servers', { ...o, body: { name: 'gone', ip_address: '127.0.0.1', ssh_port: await freePort(), ssh_user: 'nobody' } });
    const t0 = Date.now();
    const c = await s.post(`/api/v1/servers/${closed.json.id}/check`, o);
    assert.equal(c.json.status, 'unreachable');
    assert.equal(c.json.host_key_fingerprint, null);
    assert.ok(Date.now() - t0 < 10000, `${Date.now() - t0} ms`);
    assert.equal((await s.get(`/api/v1/servers/${closed.json.id}`, o)).json.status, 'unreachable');

    // no such server
    assert.equal((await s.post('/api/v1/servers/999999/check', o)).status, 404);
  });
});
