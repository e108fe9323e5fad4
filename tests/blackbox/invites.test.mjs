// Invitations (issue 13, SPEC 7): `piora user invite` prints a one-time
// link (secret after '#', 7 days, the base from --public-url); the invitee
// opens it, chooses a password and is signed in; admins list and revoke
// pending ones; every step is audited.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { addUser, cli, run, startServer, newDatabase, tmpDir } from './lib/piora.mjs';
import { noteSecret } from '../lib/journal.mjs';

async function addAdmin(db, email, team) {
  const password = 'Adm1n-pw-' + email;
  await cli(['user', 'add', '--email', email, '--team', team, '--admin', '--password-stdin', '--database', db],
    { input: password + '\n' });
  noteSecret(password);
  return password;
}

function secretOf(link) {
  const s = link.trim().split('#')[1];
  noteSecret(s);
  return s;
}

async function signIn(s, email, password) {
  const r = await s.post('/web/api/signin', { body: { email, password } });
  assert.equal(r.status, 200, r.text);
  const cookie = (r.h('set-cookie') ?? '').split(';')[0];
  noteSecret(cookie.split('=').slice(1).join('='));
  return { Cookie: cookie, 'X-CSRF-Token': r.json.csrf, Origin: s.base };
}

describe('piora user invite', () => {
  it('prints a one-time link the invitee uses once to join with the role given', async (t) => {
    const db = newDatabase(tmpDir('inv'));
    await addAdmin(db, 'ada@inv.test', 'inv');
    const r = await run(['user', 'invite', '--email', 'Ben@Inv.test', '--admin', '--database', db]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^http:\/\/127\.0\.0\.1:8080\/invite#[A-Za-z0-9_-]{20,}\n$/);
    const secret = secretOf(r.stdout);
    const pub = await run(['user', 'invite', '--email', 'cy@inv.test', '--database', db],
      { env: { PIORA_PUBLIC_URL: 'https://piora.example.com/' } });
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stdout, /^https:\/\/piora\.example\.com\/invite#/);
    secretOf(pub.stdout);

    const s = await startServer(t, { dbPath: db });
    const origin = { Origin: s.base };
    const chk = await s.post('/web/api/invite/check', { headers: origin, body: { secret } });
    assert.equal(chk.status, 200, chk.text);
    assert.deepEqual([chk.json.email, chk.json.team, chk.json.is_admin], ['ben@inv.test', 'inv', true]);
    const exp = Date.parse(chk.json.expires_at) - Date.now();
    assert.ok(exp > 6.9 * 86400e3 && exp <= 7 * 86400e3, `expires in ${exp} ms`);

    const short = await s.post('/web/api/invite/accept', { headers: origin, body: { secret, password: 'short' } });
    assert.equal(short.status, 422, short.text);
    const ok = await s.post('/web/api/invite/accept', { headers: origin, body: { secret, password: 'bens own password' } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.user.email, 'ben@inv.test');
    assert.equal(ok.json.user.is_admin, true);
    assert.match(ok.h('set-cookie') ?? '', /piora_session=.*HttpOnly/i, 'signed in');
    noteSecret((ok.h('set-cookie') ?? '').split(';')[0].split('=').slice(1).join('='));
    const again = await s.post('/web/api/invite/accept', { headers: origin, body: { secret, password: 'another password' } });
    assert.equal(again.status, 404);
    assert.equal(again.json.code, 'invite_invalid');
    assert.equal((await s.post('/web/api/invite/check', { headers: origin, body: { secret: 'x'.repeat(43) } })).status, 404);
    await signIn(s, 'ben@inv.test', 'bens own password');

    // A user exists with that email now: no invitation for it.
    const dup = await run(['user', 'invite', '--email', 'ben@inv.test', '--database', db]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /a user with email ben@inv\.test exists already/);
    assert.equal(dup.stdout, '');
    const audit = JSON.parse((await cli(['audit', '--json', '--database', db])).stdout);
    const entries = Array.isArray(audit) ? audit : audit.data;
    assert.ok(entries.some((e) => e.action === 'user.invited' && e.email === 'ben@inv.test' && e.via === 'cli'));
    const made = entries.find((e) => e.action === 'user.created' && e.email === 'ben@inv.test');
    assert.equal(made.actor.email, 'ben@inv.test', 'the invitee creates their own account');
    await s.stop();
  });

  it('usage errors: exit 2 and one line; several teams need --team', async () => {
    const db = newDatabase(tmpDir('inv2'));
    await addAdmin(db, 'ada@a.test', 'a');
    await addUser(db, { email: 'bo@b.test', team: 'b' });
    let r = await run(['user', 'invite', '--database', db]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--email is required/);
    r = await run(['user', 'invite', '--email', 'x@a.test', '--database', db]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /several teams: name one with --team/);
    r = await run(['user', 'invite', '--email', 'x@a.test', '--team', 'nope', '--database', db]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no team named 'nope'/);
    r = await run(['user', 'invite', '--email', 'x@a.test', '--team', 'b', '--public-url', 'ftp://x', '--database', db]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid --public-url/);
    r = await run(['user', 'invite', '--email', 'x@a.test', '--team', 'b', '--database', db]);
    assert.equal(r.code, 0, r.stderr);
    secretOf(r.stdout);
    // a missing SQLite file (in both modes): the test is about the path
    r = await run(['user', 'invite', '--email', 'x@a.test', '--database', path.join(tmpDir('inv3'), 'missing.db')]);
    assert.equal(r.code, 1);
  });
});

describe('invitations on the dashboard', () => {
  it('an admin invites, lists and revokes; a newer link replaces an older one; members may not invite', async (t) => {
    const db = newDatabase(tmpDir('invw'));
    const apw = await addAdmin(db, 'ada@invw.test', 'invw');
    const mpw = await addUser(db, { email: 'mo@invw.test', team: 'invw' });
    const s = await startServer(t, { dbPath: db, args: ['--public-url', 'https://piora.example.com'] });
    const ada = await signIn(s, 'ada@invw.test', apw);
    const mo = await signIn(s, 'mo@invw.test', mpw);
    assert.equal((await s.post('/web/api/invites', { headers: mo, body: { email: 'z@invw.test' } })).status, 403);
    assert.equal((await s.get('/web/api/invites', { headers: mo })).status, 403);
    const bad = await s.post('/web/api/invites', { headers: ada, body: { email: 'not an email' } });
    assert.equal(bad.status, 422);
    assert.equal((await s.post('/web/api/invites', { headers: ada, body: { email: 'mo@invw.test' } })).status, 422);

    const first = await s.post('/web/api/invites', { headers: ada, body: { email: 'zed@invw.test' } });
    assert.equal(first.status, 201, first.text);
    noteSecret(first.json.secret);
    assert.equal(first.json.link, `https://piora.example.com/invite#${first.json.secret}`);
    assert.equal(first.json.is_admin, false);
    const second = await s.post('/web/api/invites', { headers: ada, body: { email: 'zed@invw.test', is_admin: true } });
    noteSecret(second.json.secret);
    const origin = { Origin: s.base };
    assert.equal((await s.post('/web/api/invite/check', { headers: origin, body: { secret: first.json.secret } })).status, 404,
      'the newer invitation replaced the older');
    let list = (await s.get('/web/api/invites', { headers: ada })).json.data;
    assert.deepEqual(list.map((i) => [i.email, i.is_admin]), [['zed@invw.test', true]]);
    assert.equal(JSON.stringify(list).includes(second.json.secret), false, 'the list never shows a secret');

    assert.equal((await s.post(`/web/api/invites/${list[0].id}/revoke`, { headers: ada })).status, 204);
    assert.equal((await s.post(`/web/api/invites/${list[0].id}/revoke`, { headers: ada })).status, 404);
    const dead = await s.post('/web/api/invite/accept', { headers: origin, body: { secret: second.json.secret, password: 'zeds password' } });
    assert.equal(dead.status, 404);
    list = (await s.get('/web/api/invites', { headers: ada })).json.data;
    assert.equal(list.length, 0);
    const acts = (await s.get('/web/api/audit', { headers: ada })).json.data.map((e) => e.action);
    assert.ok(acts.includes('user.invited') && acts.includes('invite.revoked'), acts.join());
    await s.stop();
  });
});
