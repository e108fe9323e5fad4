// Two-factor sign-in (issue 13): enrolment confirmed with a code the test
// computes (tests/lib/totp.mjs), the sign-in's second step, each code once,
// recovery codes once, disabling, and a team's requirement.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cli, startServer, newDatabase, tmpDir, addUser } from './lib/piora.mjs';
import { noteSecret } from '../lib/journal.mjs';
import { totp } from '../lib/totp.mjs';

async function addAdmin(db, email, team) {
  const password = 'Adm1n-pw-' + email;
  await cli(['user', 'add', '--email', email, '--team', team, '--admin', '--password-stdin', '--database', db],
    { input: password + '\n' });
  noteSecret(password);
  return password;
}

function cookieOf(r) {
  const cookie = (r.h('set-cookie') ?? '').split(';')[0];
  noteSecret(cookie.split('=').slice(1).join('='));
  return cookie;
}

async function signIn(s, email, password) {
  const r = await s.post('/web/api/signin', { body: { email, password } });
  assert.equal(r.status, 200, r.text);
  return { Cookie: cookieOf(r), 'X-CSRF-Token': r.json.csrf, Origin: s.base };
}

// Codes of the step before, the current one and the next: the server takes
// all three once each, in increasing order.
const codeAt = (secret, d) => totp(secret, { time: Date.now() / 1000 + 30 * d });
// The steps are 30 s long: start a run of codes well inside one, so that
// "the step before" means the same to the test and to the server.
async function awayFromStepEdge() {
  const into = (Date.now() / 1000) % 30;
  if (into > 22) await new Promise((r) => setTimeout(r, (31 - into) * 1000));
}

describe('two-factor sign-in', () => {
  it('enrol, sign in with a code, a used code and a recovery code, disable', async (t) => {
    const db = newDatabase(tmpDir('mfa'));
    const pw = await addAdmin(db, 'ada@mfa.test', 'mfa');
    const s = await startServer(t, { dbPath: db });
    const ada = await signIn(s, 'ada@mfa.test', pw);
    const start = await s.post('/web/api/account/totp/start', { headers: ada });
    assert.equal(start.status, 200, start.text);
    const secret = start.json.secret;
    noteSecret(secret);
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.equal(start.json.uri, `otpauth://totp/Piora:ada@mfa.test?secret=${secret}&issuer=Piora&algorithm=SHA1&digits=6&period=30`);
    const wrong = await s.post('/web/api/account/totp/confirm', { headers: ada, body: { code: '000000' === totp(secret) ? '111111' : '000000' } });
    assert.equal(wrong.status, 422);
    await awayFromStepEdge();
    const ok = await s.post('/web/api/account/totp/confirm', { headers: ada, body: { code: codeAt(secret, -1) } });
    assert.equal(ok.status, 200, ok.text);
    const codes = ok.json.recovery_codes;
    codes.forEach(noteSecret);
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
    const sess = await s.get('/web/api/session', { headers: ada });
    assert.equal(sess.json.user.totp_enabled, true);
    assert.equal(JSON.stringify(sess.json).includes(secret), false, 'the key is never shown again');
    assert.equal((await s.post('/web/api/account/totp/start', { headers: ada })).status, 409);

    // The password alone signs in nothing: a ticket, no cookie.
    const step1 = await s.post('/web/api/signin', { body: { email: 'ada@mfa.test', password: pw } });
    assert.equal(step1.status, 200, step1.text);
    assert.equal(step1.json.second_factor, 'totp');
    assert.equal(step1.h('set-cookie'), null);
    noteSecret(step1.json.ticket);
    const bad = await s.post('/web/api/signin/totp', { headers: { Origin: s.base }, body: { ticket: step1.json.ticket, code: '12345' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.code, 'invalid_code');
    // The code used to enrol does not work twice; the next step's does, once.
    const used = await s.post('/web/api/signin/totp', { headers: { Origin: s.base }, body: { ticket: step1.json.ticket, code: codeAt(secret, -1) } });
    assert.equal(used.status, 401, 'each code works once');
    const code = codeAt(secret, 0);
    const step2 = await s.post('/web/api/signin/totp', { headers: { Origin: s.base }, body: { ticket: step1.json.ticket, code } });
    assert.equal(step2.status, 200, step2.text);
    const hd = { Cookie: cookieOf(step2), 'X-CSRF-Token': step2.json.csrf, Origin: s.base };
    assert.equal((await s.get('/web/api/tokens', { headers: hd })).status, 200);
    const again = await s.post('/web/api/signin/totp', { headers: { Origin: s.base }, body: { ticket: step1.json.ticket, code } });
    assert.equal(again.status, 401, 'the ticket is gone');
    assert.equal(again.json.code, 'signin_expired');

    // A recovery code, once.
    const r1 = await s.post('/web/api/signin', { body: { email: 'ada@mfa.test', password: pw } });
    noteSecret(r1.json.ticket);
    const rec = await s.post('/web/api/signin/totp', { headers: { Origin: s.base }, body: { ticket: r1.json.ticket, recovery_code: codes[3].toLowerCase() } });
    assert.equal(rec.status, 200, rec.text);
    cookieOf(rec);
    const r2 = await s.post('/web/api/signin', { body: { email: 'ada@mfa.test', password: pw } });
    noteSecret(r2.json.ticket);
    const rec2 = await s.post('/web/api/signin/totp', { headers: { Origin: s.base }, body: { ticket: r2.json.ticket, recovery_code: codes[3] } });
    assert.equal(rec2.status, 401, 'a recovery code works once');

    // Off: password and a fresh code.
    const off1 = await s.post('/web/api/account/totp/disable', { headers: hd, body: { password: 'wrong password!', code: codeAt(secret, 1) } });
    assert.equal(off1.status, 422);
    const stale = await s.post('/web/api/account/totp/disable', { headers: hd, body: { password: pw, code: codeAt(secret, 0) } });
    assert.equal(stale.status, 422, 'a used step stays used');
    const off = await s.post('/web/api/account/totp/disable', { headers: hd, body: { password: pw, code: codeAt(secret, 1) } });
    assert.equal(off.status, 204, off.text);
    const plain = await s.post('/web/api/signin', { body: { email: 'ada@mfa.test', password: pw } });
    assert.ok(plain.json.user, 'a password alone signs in again');
    cookieOf(plain);
    const acts = (await s.get('/web/api/audit', { headers: hd })).json.data.map((e) => e.action);
    for (const a of ['mfa.enabled', 'mfa.recovery_code_used', 'mfa.disabled']) assert.ok(acts.includes(a), `${a}: ${acts.join()}`);
    await s.stop();
  });

  // Reads the SQLite file itself (in both modes): what a copy of the database gives away.
  it('the key is kept sealed with the master key; a key stored before sealing still signs in', async (t) => {
    const db = path.join(tmpDir('mfaseal'), 'piora.db');
    const pw = await addAdmin(db, 'bo@mfa.test', 'mfaseal');
    const s = await startServer(t, { dbPath: db });
    const sql = (q) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, q], { encoding: 'utf8' }).trim();
    const bo = await signIn(s, 'bo@mfa.test', pw);
    const start = await s.post('/web/api/account/totp/start', { headers: bo });
    assert.equal(start.status, 200, start.text);
    const secret = start.json.secret;
    noteSecret(secret);
    const pending = sql("SELECT totp_pending FROM users WHERE email = 'bo@mfa.test'");
    assert.match(pending, /^sealed1:[A-Za-z0-9_-]{96}$/, 'the pending key is sealed');
    assert.equal(pending.includes(secret), false);
    await awayFromStepEdge();
    const ok = await s.post('/web/api/account/totp/confirm', { headers: bo, body: { code: codeAt(secret, -1) } });
    assert.equal(ok.status, 200, ok.text);
    ok.json.recovery_codes.forEach(noteSecret);
    const stored = sql("SELECT totp_secret FROM users WHERE email = 'bo@mfa.test'");
    assert.match(stored, /^sealed1:/, 'the confirmed key is sealed');
    assert.equal(stored, pending, 'confirming moves the sealed key, never the plain one');
    const dump = execFileSync('sqlite3', [db, '.dump'], { encoding: 'utf8' });
    assert.equal(dump.includes(secret), false, 'the key appears nowhere in the database');

    // A row written by an earlier version holds the key in plain base32.
    sql(`UPDATE users SET totp_secret = '${secret}' WHERE email = 'bo@mfa.test'`);
    const step1 = await s.post('/web/api/signin', { body: { email: 'bo@mfa.test', password: pw } });
    assert.equal(step1.json.second_factor, 'totp', step1.text);
    noteSecret(step1.json.ticket);
    const step2 = await s.post('/web/api/signin/totp', { headers: { Origin: s.base }, body: { ticket: step1.json.ticket, code: codeAt(secret, 0) } });
    assert.equal(step2.status, 200, step2.text);
    cookieOf(step2);
    await s.stop();
  });

  it('a team that requires it sends members to enrolment and lets them do nothing else', async (t) => {
    const db = newDatabase(tmpDir('mfat'));
    const pw = await addAdmin(db, 'ada@mfat.test', 'mfat');
    const mpw = await addUser(db, { email: 'mo@mfat.test', team: 'mfat' });
    const s = await startServer(t, { dbPath: db });
    const ada = await signIn(s, 'ada@mfat.test', pw);
    const early = await s.post('/web/api/team/require-2fa', { headers: ada, body: { required: true } });
    assert.equal(early.status, 409, 'not before the admin has it');
    const st = await s.post('/web/api/account/totp/start', { headers: ada });
    noteSecret(st.json.secret);
    (await s.post('/web/api/account/totp/confirm', { headers: ada, body: { code: totp(st.json.secret) } })).json.recovery_codes.forEach(noteSecret);
    const mo0 = await signIn(s, 'mo@mfat.test', mpw);
    assert.equal((await s.post('/web/api/team/require-2fa', { headers: mo0, body: { required: true } })).status, 403);
    assert.equal((await s.post('/web/api/team/require-2fa', { headers: ada, body: { required: true } })).status, 200);

    const mo = await signIn(s, 'mo@mfat.test', mpw);
    const who = await s.get('/web/api/session', { headers: mo });
    assert.equal(who.json.user.must_enrol, true);
    const blocked = await s.get('/web/api/tokens', { headers: mo });
    assert.equal(blocked.status, 403);
    assert.equal(blocked.json.code, 'mfa_enrolment_required');
    assert.equal((await s.get('/web/api/v1/servers', { headers: mo })).status, 403, 'the API through the dashboard too');
    const ms = await s.post('/web/api/account/totp/start', { headers: mo });
    assert.equal(ms.status, 200, ms.text);
    noteSecret(ms.json.secret);
    const mc = await s.post('/web/api/account/totp/confirm', { headers: mo, body: { code: totp(ms.json.secret) } });
    assert.equal(mc.status, 200);
    mc.json.recovery_codes.forEach(noteSecret);
    assert.equal((await s.get('/web/api/tokens', { headers: mo })).status, 200, 'enrolled: everything again');
    const keep = await s.post('/web/api/account/totp/disable', { headers: mo, body: { password: mpw, code: '000000' } });
    assert.equal(keep.status, 409);
    assert.equal(keep.json.code, 'mfa_required_by_team');
    await s.stop();
  });
});
