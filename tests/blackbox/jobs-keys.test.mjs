// SPEC 10, Keys: each team's Ed25519 pair made by Piora, shown (public half
// only) by GET /api/v1/ssh-key and `piora ssh-key show`, rotated with the
// previous key kept until DELETE /ssh-key/previous, every change audited; the
// master key file made 0600 beside the database; no private key in plain in
// the database file, the logs or any answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PG_MODE, addUser, cli, run, createToken, newDatabase, startServer, tmpDir, T } from './lib/piora.mjs';
import { atRest } from '../lib/testdb.mjs';

// What any unencrypted OpenSSH private key text holds: its armour, and the
// base64 of "openssh-key-v1\0" that starts its body.
const PLAIN_KEY = [/PRIVATE KEY/, /b3BlbnNzaC1rZXktdjEA/];

function fingerprintOfLine(line) {
  const dir = tmpDir('fp');
  const f = path.join(dir, 'k.pub');
  writeFileSync(f, `${line}\n`);
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', f]).toString().split(/\s+/)[1];
}

function assertNoPlainKey(label, text) {
  for (const re of PLAIN_KEY) assert.doesNotMatch(text, re, `${label} holds a private key in plain`);
}

describe('team SSH keys', () => {
  it('made on first use, shown, rotated with fallback, audited, never in plain', { timeout: T(60000) }, async (t) => {
    // on PostgreSQL the harness passes --secret-key-file DIR/piora.key: the same path
    const dir = tmpDir('keys');
    const db = newDatabase(dir);
    await addUser(db, { email: 'kim@keys.test', team: 'keys' });
    await addUser(db, { email: 'lou@other.test', team: 'other' });
    const rw = await createToken(db, { email: 'kim@keys.test', name: 'rw', scopes: 'servers:read,servers:write' });
    const ro = await createToken(db, { email: 'kim@keys.test', name: 'ro', scopes: 'servers:read' });
    const apps = await createToken(db, { email: 'kim@keys.test', name: 'apps', scopes: 'applications:read' });
    const other = await createToken(db, { email: 'lou@other.test', name: 'o', scopes: 'servers:read' });

    const s = await startServer(t, { dbPath: db });
    const keyFile = path.join(dir, 'piora.key');
    const keyArgs = PG_MODE ? ['--secret-key-file', keyFile] : []; // a URL has no file beside it
    assert.ok(existsSync(keyFile), `no piora.key beside the database: ${readdirSync(dir)}`);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(keyFile).size, 32);

    const first = await s.get('/api/v1/ssh-key', { token: ro });
    assert.equal(first.status, 200, first.text);
    const k1 = first.json;
    assert.deepEqual(Object.keys(k1).sort(), ['created_at', 'fingerprint', 'previous', 'public_key']);
    assert.match(k1.public_key, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ piora-keys$/);
    assert.match(k1.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(fingerprintOfLine(k1.public_key), k1.fingerprint, 'the fingerprint is ssh-keygen\'s');
    assert.equal(k1.previous, null);
    assertNoPlainKey('GET /ssh-key', first.text);

    // the same pair on every read; another team has its own
    assert.equal((await s.get('/api/v1/ssh-key', { token: rw })).json.fingerprint, k1.fingerprint);
    const theirs = await s.get('/api/v1/ssh-key', { token: other });
    assert.equal(theirs.status, 200);
    assert.notEqual(theirs.json.fingerprint, k1.fingerprint);
    assert.match(theirs.json.public_key, / piora-other$/);

    // scopes: reading needs servers:read, changing servers:write
    assert.equal((await s.get('/api/v1/ssh-key', { token: apps })).status, 403);
    assert.equal((await s.post('/api/v1/ssh-key/rotate', { token: ro })).status, 403);
    assert.equal((await s.del('/api/v1/ssh-key/previous', { token: ro })).status, 403);

    assert.equal((await s.del('/api/v1/ssh-key/previous', { token: rw })).status, 404);
    const rot = await s.post('/api/v1/ssh-key/rotate', { token: rw });
    assert.equal(rot.status, 200, rot.text);
    assert.notEqual(rot.json.fingerprint, k1.fingerprint);
    assert.equal(rot.json.previous.fingerprint, k1.fingerprint);
    assert.equal(rot.json.previous.public_key, k1.public_key);
    assertNoPlainKey('POST /ssh-key/rotate', rot.text);
    const again = await s.get('/api/v1/ssh-key', { token: ro });
    assert.equal(again.json.fingerprint, rot.json.fingerprint);
    assert.equal(again.json.previous.fingerprint, k1.fingerprint);

    const cliShow = await cli(['ssh-key', 'show', '--team', 'keys', '--json', '--database', db, ...keyArgs]);
    assert.equal(cliShow.code, 0, cliShow.stderr);
    const shown = JSON.parse(cliShow.stdout);
    assert.equal(shown.fingerprint, rot.json.fingerprint);
    assert.equal(shown.previous.fingerprint, k1.fingerprint);
    const text = await cli(['ssh-key', 'show', '--team', 'keys', '--database', db, ...keyArgs]);
    assert.equal(text.code, 0, text.stderr);
    assert.ok(text.stdout.includes(rot.json.public_key), text.stdout);
    assertNoPlainKey('piora ssh-key show', text.stdout + text.stderr + cliShow.stdout);
    const ambiguous = await run(['ssh-key', 'show', '--database', db, ...keyArgs]);
    assert.equal(ambiguous.code, 2, 'two teams: --team is needed');

    assert.equal((await s.del('/api/v1/ssh-key/previous', { token: rw })).status, 204);
    const after = await s.get('/api/v1/ssh-key', { token: ro });
    assert.equal(after.json.previous, null);
    assert.equal(after.json.fingerprint, rot.json.fingerprint);

    const audit = JSON.parse((await cli(['audit', '--json', '--database', db])).stdout);
    const mine = audit.filter((e) => e.action.startsWith('ssh_key.') && e.team_id === audit.find((x) => x.actor?.email === 'kim@keys.test')?.team_id);
    const actions = mine.map((e) => e.action).reverse();
    assert.deepEqual(actions, ['ssh_key.created', 'ssh_key.rotated', 'ssh_key.previous_deleted']);
    for (const e of mine) {
      assert.equal(e.via, 'api');
      assert.equal(e.actor.email, 'kim@keys.test');
      assert.ok(e.token_id, 'the entry names the token');
    }

    await s.stop();
    // the database (and its WAL, if any; or its pg_dump) holds only sealed private keys
    for (const [f, bytes] of atRest(db)) assertNoPlainKey(f, bytes.toString('latin1'));
    assertNoPlainKey('serve log', s.stdout + s.stderr);

    // the same master key must come back: a restart keeps the pair
    const s2 = await startServer(t, { dbPath: db });
    assert.equal((await s2.get('/api/v1/ssh-key', { token: ro })).json.fingerprint, rot.json.fingerprint);
    await s2.stop();
  });

  it('a master key file others may read is refused at start', { timeout: T(30000) }, async () => {
    const dir = tmpDir('keys');
    const db = newDatabase(dir);
    await addUser(db, { email: 'mo@keys.test', team: 'mo' });
    const keyFile = path.join(dir, 'loose.key');
    writeFileSync(keyFile, Buffer.alloc(32, 1), { mode: 0o644 });
    const r = await run(['serve', '--database', db, '--listen', '127.0.0.1:1', '--secret-key-file', keyFile,
      '--backup-dir', path.join(dir, 'backups')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /readable by others/);
  });
});
