// Sudo mode (issue 13): the server, not only the page, refuses to make or
// regenerate a token on a session whose last password is older than
// --sudo-window (403 reauth_required), until the password is given again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { addUser, sleep, startServer, newDatabase, tmpDir } from './lib/piora.mjs';
import { noteSecret } from '../lib/journal.mjs';

describe('sudo mode', () => {
  it('a stale session cannot create or regenerate a token without re-authenticating', async (t) => {
    const db = newDatabase(tmpDir('sudo'));
    const pw = await addUser(db, { email: 'sue@sudo.test', team: 'sudo' });
    const s = await startServer(t, { dbPath: db, args: ['--sudo-window', '1'] });
    const r = await s.post('/web/api/signin', { body: { email: 'sue@sudo.test', password: pw } });
    assert.equal(r.status, 200, r.text);
    const cookie = (r.h('set-cookie') ?? '').split(';')[0];
    noteSecret(cookie.split('=').slice(1).join('='));
    const hd = { Cookie: cookie, 'X-CSRF-Token': r.json.csrf, Origin: s.base };
    const body = { name: 'fresh', scopes: ['servers:read'] };
    const fresh = await s.post('/web/api/tokens', { headers: hd, body });
    assert.equal(fresh.status, 201, 'right after sign-in: allowed');
    noteSecret(fresh.json.token);

    await sleep(2100);
    const stale = await s.post('/web/api/tokens', { headers: hd, body: { ...body, name: 'stale' } });
    assert.equal(stale.status, 403, stale.text);
    assert.equal(stale.json.code, 'reauth_required');
    assert.equal(stale.json.sudo_window, 1);
    const regen = await s.post(`/web/api/tokens/${fresh.json.id}/regenerate`, { headers: hd });
    assert.equal(regen.status, 403);
    assert.equal(regen.json.code, 'reauth_required');
    assert.equal((await s.get('/web/api/tokens', { headers: hd })).json.meta.total, 1, 'nothing was made');
    // Reading and revoking stay open: only what mints a secret needs sudo.
    assert.equal((await s.get(`/web/api/tokens/${fresh.json.id}`, { headers: hd })).status, 200);

    const wrong = await s.post('/web/api/session/reauth', { headers: hd, body: { password: 'not the password' } });
    assert.equal(wrong.status, 422);
    assert.equal((await s.post('/web/api/tokens', { headers: hd, body: { ...body, name: 'stale' } })).status, 403);
    const ok = await s.post('/web/api/session/reauth', { headers: hd, body: { password: pw } });
    assert.equal(ok.status, 204, ok.text);
    const made = await s.post('/web/api/tokens', { headers: hd, body: { ...body, name: 'stale' } });
    assert.equal(made.status, 201, made.text);
    noteSecret(made.json.token);
    const rg = await s.post(`/web/api/tokens/${fresh.json.id}/regenerate`, { headers: hd });
    assert.equal(rg.status, 200, rg.text);
    noteSecret(rg.json.token);

    const audit = (await s.get('/web/api/audit', { headers: hd })).json.data.map((e) => e.action);
    assert.ok(audit.includes('signin.reauth'), audit.join());
    await s.stop();
  });
});
