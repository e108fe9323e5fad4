// Token notes, renames, "secret regenerated at" and removing revoked or
// expired tokens from the list (issue 13): session-only endpoints
// PATCH/DELETE /web/api/tokens/{id}, the CLI's --note and list columns. A
// removed token is gone from every list but its secret still answers 401
// token_revoked and the audit log keeps it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { addAdmin, addUser, assertProblem, cli, createToken, listTokens, run, startServer, newDatabase, tmpDir, webSignIn as signIn, RFC3339_UTC } from './lib/piora.mjs';
import { noteSecret } from '../lib/journal.mjs';

async function auditOf(db, tokenId) {
  const j = JSON.parse((await cli(['audit', '--json', '--limit', '500', '--database', db])).stdout);
  return (Array.isArray(j) ? j : j.data).filter((e) => e.token_id === tokenId);
}

async function webList(s, h, extra = '') {
  const r = await s.get('/web/api/tokens?per_page=100' + extra, { headers: h });
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

describe('token notes and renames', () => {
  it('creates with a note, renames and edits the note; bad input is 422 and changes nothing; each change is audited', async (t) => {
    const db = newDatabase(tmpDir('tnote'));
    const pw = await addUser(db, { email: 'nia@notes.test', team: 'notes' });
    const s = await startServer(t, { dbPath: db });
    const h = await signIn(s, 'nia@notes.test', pw);

    const made = await s.post('/web/api/tokens', {
      headers: h, body: { name: 'ci', scopes: ['servers:read'], expiry: '30', note: 'GitHub Actions, repo infra' },
    });
    assert.equal(made.status, 201, made.text);
    noteSecret(made.json.token);
    const id = made.json.id;
    assert.equal(made.json.note, 'GitHub Actions, repo infra');
    assert.equal(made.json.regenerated_at, null);
    const self = await s.get('/api/v1/token', { token: made.json.token });
    assert.equal(self.status, 200, self.text);
    assert.equal(self.json.note, 'GitHub Actions, repo infra', 'GET /api/v1/token shows the note');

    const badCreate = await s.post('/web/api/tokens', {
      headers: h, body: { name: 'x', scopes: ['servers:read'], note: 'a\nb' },
    });
    assertProblem(badCreate, 422, 'validation_failed');
    assert.ok(badCreate.json.errors.some((e) => e.field === 'note'), badCreate.text);

    const ren = await s.patch(`/web/api/tokens/${id}`, { headers: h, body: { name: 'ci-deploy' } });
    assert.equal(ren.status, 200, ren.text);
    assert.equal(ren.json.name, 'ci-deploy');
    assert.equal(ren.json.note, 'GitHub Actions, repo infra', 'a rename keeps the note');

    for (const [body, field] of [
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ name: 'tab\there' }, 'name'],
      [{ name: 42 }, 'name'],
      [{ note: 'n'.repeat(501) }, 'note'],
      [{ note: 'line\nbreak' }, 'note'],
      [{ note: ['x'] }, 'note'],
      [{}, 'name'],
      [{ name: 'never-applied', note: 'z'.repeat(501) }, 'note'],
    ]) {
      const r = await s.patch(`/web/api/tokens/${id}`, { headers: h, body });
      assertProblem(r, 422, 'validation_failed', JSON.stringify(body));
      assert.ok(r.json.errors.some((e) => e.field === field), `${JSON.stringify(body)}: ${r.text}`);
    }
    const got = await s.get(`/web/api/tokens/${id}`, { headers: h });
    assert.equal(got.json.name, 'ci-deploy', 'a refused PATCH renamed nothing');

    const note = await s.patch(`/web/api/tokens/${id}`, { headers: h, body: { note: 'ünïcode ok — 500 bytes max' } });
    assert.equal(note.status, 200, note.text);
    assert.equal(note.json.note, 'ünïcode ok — 500 bytes max');
    const full = await s.patch(`/web/api/tokens/${id}`, { headers: h, body: { note: 'n'.repeat(500) } });
    assert.equal(full.status, 200, '500 bytes is allowed');
    const cleared = await s.patch(`/web/api/tokens/${id}`, { headers: h, body: { note: null } });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.json.note, null);
    const same = await s.patch(`/web/api/tokens/${id}`, { headers: h, body: { name: 'ci-deploy' } });
    assert.equal(same.status, 200, 'an unchanged name is fine');

    const entries = await auditOf(db, id);
    const renamed = entries.filter((e) => e.action === 'token.renamed');
    assert.equal(renamed.length, 1, 'one rename, the unchanged one records nothing');
    assert.equal(renamed[0].token_name, 'ci-deploy');
    assert.match(renamed[0].detail, /ci/);
    assert.equal(renamed[0].via, 'dashboard');
    const notes = entries.filter((e) => e.action === 'token.note_changed').map((e) => e.detail);
    assert.deepEqual(notes.sort(), ['note cleared', 'note set', 'note set']);
    assert.ok(!JSON.stringify(entries).includes('ünïcode'), 'the note itself stays out of the audit log');
    await s.stop();
  });

  it('a revoked token leaves the lists (still 401 revoked, still in the audit); an active one is 409; another team is 404', async (t) => {
    const db = newDatabase(tmpDir('thide'));
    const pw = await addUser(db, { email: 'oto@hide.test', team: 'hide' });
    const adminPw = await addAdmin(db, 'ada@hide.test', 'hide');
    const otherPw = await addUser(db, { email: 'eve@else.test', team: 'else' });
    const tok = await createToken(db, { email: 'oto@hide.test', name: 'old-ci', scopes: 'servers:read' });
    const keep = await createToken(db, { email: 'oto@hide.test', name: 'keep', scopes: 'servers:read' });
    const s = await startServer(t, { dbPath: db });
    const h = await signIn(s, 'oto@hide.test', pw);
    const eve = await signIn(s, 'eve@else.test', otherPw);
    const ada = await signIn(s, 'ada@hide.test', adminPw);
    const id = (await webList(s, h)).find((x) => x.name === 'old-ci').id;
    noteSecret(keep);

    assertProblem(await s.del(`/web/api/tokens/${id}`, { headers: h }), 409, 'conflict');
    assertProblem(await s.del(`/web/api/tokens/${id}`, { headers: eve }), 404, 'not_found');
    assertProblem(await s.patch(`/web/api/tokens/${id}`, { headers: eve, body: { name: 'mine' } }), 404, 'not_found');
    assertProblem(await s.patch('/web/api/tokens/999999', { headers: h, body: { name: 'x' } }), 404, 'not_found');

    const byAdmin = await s.patch(`/web/api/tokens/${id}`, { headers: ada, body: { note: 'leaver: oto' } });
    assert.equal(byAdmin.status, 200, 'a team admin may annotate a member\'s token');
    assert.equal((await s.post(`/web/api/tokens/${id}/revoke`, { headers: h })).status, 200);
    const gone = await s.del(`/web/api/tokens/${id}`, { headers: h });
    assert.equal(gone.status, 204, gone.text);

    assert.ok(!(await webList(s, h)).some((x) => x.id === id), 'gone from the owner\'s list');
    assert.ok(!(await webList(s, ada, '&owner=all')).some((x) => x.id === id), 'gone from the admin\'s list');
    assert.ok((await webList(s, h)).some((x) => x.name === 'keep'));
    assert.ok(!(await listTokens(db)).some((x) => x.id === id), 'gone from `piora token list`');
    assertProblem(await s.get(`/web/api/tokens/${id}`, { headers: h }), 404, 'not_found');
    assertProblem(await s.del(`/web/api/tokens/${id}`, { headers: h }), 404, 'not_found');
    assertProblem(await s.patch(`/web/api/tokens/${id}`, { headers: h, body: { name: 'back' } }), 404, 'not_found');
    const use = await s.get('/api/v1/servers', { token: tok });
    assert.equal(use.status, 401);
    assert.equal(use.json.code, 'token_revoked', 'a removed token still answers revoked');

    const entries = await auditOf(db, id);
    const removed = entries.find((e) => e.action === 'token.removed_from_list');
    assert.ok(removed, entries.map((e) => e.action).join());
    assert.equal(removed.token_name, 'old-ci');
    assert.ok(entries.some((e) => e.action === 'token.created'), 'the audit keeps its history');
    await s.stop();
  });

  it('an expired token can be removed too; the session API only (a bearer token gets no /web/api)', async (t) => {
    const db = newDatabase(tmpDir('texp'));
    const pw = await addUser(db, { email: 'pia@exp.test', team: 'exp' });
    const tok = await createToken(db, { email: 'pia@exp.test', name: 'brief', scopes: 'servers:read', expiresIn: '1s' });
    const s = await startServer(t, { dbPath: db });
    const h = await signIn(s, 'pia@exp.test', pw);
    const id = (await webList(s, h)).find((x) => x.name === 'brief').id;
    const bearer = await s.del(`/web/api/tokens/${id}`, { token: tok });
    assert.equal(bearer.status, 401, 'no session: refused');
    let st;
    for (let i = 0; i < 100; i++) {
      st = (await s.get(`/web/api/tokens/${id}`, { headers: h })).json.status;
      if (st === 'expired') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(st, 'expired');
    assert.equal((await s.del(`/web/api/tokens/${id}`, { headers: h })).status, 204);
    assert.equal((await webList(s, h)).length, 0);
    await s.stop();
  });

  it('regenerated_at is set by a regeneration; the CLI takes --note and lists NOTE and REGENERATED', async (t) => {
    const db = newDatabase(tmpDir('tregen'));
    const pw = await addUser(db, { email: 'rui@regen.test', team: 'regen' });
    const r = await run(['token', 'create', '--email', 'rui@regen.test', '--name', 'deploy', '--scopes', 'servers:read',
      '--note', 'nightly deploy job', '--database', db]);
    assert.equal(r.code, 0, r.stderr);
    noteSecret(r.stdout.trim());
    const bad = await run(['token', 'create', '--email', 'rui@regen.test', '--name', 'x', '--scopes', 'servers:read',
      '--note', 'n'.repeat(501), '--database', db]);
    assert.equal(bad.code, 1, 'a note over 500 bytes is refused');
    assert.match(bad.stderr, /note/);
    assert.equal(bad.stdout, '');

    let [tk] = await listTokens(db);
    assert.equal(tk.note, 'nightly deploy job');
    assert.equal(tk.regenerated_at, null);
    const table = (await cli(['token', 'list', '--database', db])).stdout;
    const [head, row] = table.split('\n');
    assert.match(head, /\bNOTE\b/);
    assert.match(head, /\bREGENERATED\b/);
    assert.match(row, /nightly deploy job\s+never/);

    const s = await startServer(t, { dbPath: db });
    const h = await signIn(s, 'rui@regen.test', pw);
    const before = Date.now() - 2000;
    const g = await s.post(`/web/api/tokens/${tk.id}/regenerate`, { headers: h });
    assert.equal(g.status, 200, g.text);
    noteSecret(g.json.token);
    assert.match(g.json.regenerated_at, RFC3339_UTC);
    assert.ok(Date.parse(g.json.regenerated_at) >= before);
    const listed = (await webList(s, h)).find((x) => x.id === tk.id);
    assert.equal(listed.regenerated_at, g.json.regenerated_at);
    [tk] = await listTokens(db);
    assert.equal(tk.regenerated_at, g.json.regenerated_at);
    const row2 = (await cli(['token', 'list', '--database', db])).stdout.split('\n')[1];
    assert.ok(row2.includes(`nightly deploy job  ${g.json.regenerated_at}`) || new RegExp(`nightly deploy job\\s+${g.json.regenerated_at}`).test(row2), row2);
    await s.stop();
  });
});
