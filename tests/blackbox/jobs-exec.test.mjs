// jobs/exec.h against a real sshd (tests/jobs/exec_probe.c drives it): the
// script on stdin under its own process group, stdout and stderr in order,
// input streamed after the script, host key pinning and TOFU, auth failure,
// a closed port, cancel and timeout killing the remote group.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import { BIN, T, sleep, tmpDir, freePort } from './lib/piora.mjs';
import { startSshd, makeKeyPair } from './lib/sshd.mjs';

const PROBE = path.join(path.dirname(BIN), 'piora-exec-probe');
let sshd;
let keys;
let other;

before(async () => {
  sshd = await startSshd({ users: ['app'] });
  const d = tmpDir('keys');
  keys = makeKeyPair(d, 'team');
  other = makeKeyPair(d, 'other');
  sshd.authorize('app', keys.publicLine);
});
after(async () => { await sshd?.stop(); });

// Runs the probe; resolves {code, records: [{s, text}], result: {...}, stderr, ms}.
function probe({ mode = 'run', script = '', input, keyFiles = [keys.privateFile], pin = '-', timeout = 0,
  port = sshd.port, user = sshd.userName('app'), onStart } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const p = spawn(PROBE, ['127.0.0.1', String(port), user, keyFiles.join(','), pin, String(timeout), mode],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = Buffer.alloc(0);
    let err = '';
    p.stdout.on('data', (d) => { out = Buffer.concat([out, d]); });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.stdin.on('error', () => { /* check mode exits without reading stdin */ });
    p.stdin.end(input === undefined ? script : `${script}--piora-input--\n${input}`);
    onStart?.(p);
    p.on('close', (code) => {
      const records = [];
      let i = 0;
      let result = null;
      while (i < out.length) {
        const nl = out.indexOf(10, i);
        const head = out.subarray(i, nl).toString();
        const m = /^([OE]) (\d+)$/.exec(head);
        if (m) {
          const n = Number(m[2]);
          records.push({ s: m[1], text: out.subarray(nl + 1, nl + 1 + n).toString() });
          i = nl + 1 + n;
        } else {
          const r = /^RESULT code=(\S+) exit=(-?\d+) key=(-?\d+) fp=(\S+)$/.exec(head);
          if (r) result = { code: r[1], exit: Number(r[2]), key: Number(r[3]), fp: r[4] };
          i = nl + 1;
        }
      }
      resolve({ code, records, result, stderr: err, ms: Date.now() - t0 });
    });
  });
}

const joined = (recs, s) => recs.filter((r) => r.s === s).map((r) => r.text).join('');

test('a script runs with bash from stdin; stdout and stderr arrive apart and in order', async () => {
  // sshd reads the two pipes apart, so order across them holds only as far
  // as the server sent them: the pauses make that order definite.
  const r = await probe({ script: 'echo one\nsleep 0.2\necho two >&2\nsleep 0.2\necho three\nexit 7\n' });
  assert.equal(r.result.code, 'ok', r.stderr);
  assert.equal(r.result.exit, 7);
  assert.equal(r.result.key, 0);
  assert.equal(r.result.fp, sshd.fingerprint());
  assert.equal(joined(r.records, 'O'), 'one\nthree\n');
  assert.equal(joined(r.records, 'E'), 'two\n');
  // order across the streams: one, two, three
  const seq = r.records.map((x) => x.text.trim()).filter(Boolean).join(',');
  assert.equal(seq, 'one,two,three');
});

test('the script is in its own process group and not on any command line', async () => {
  const r = await probe({ script: 'ps -o pgid= -p $$; ps -o sid= -p $$; ps -o args= -p $$\n# secret-marker-xyz\n' });
  assert.equal(r.result.code, 'ok', r.stderr);
  const [pgid, sid, args] = joined(r.records, 'O').trim().split('\n').map((x) => x.trim());
  assert.equal(pgid, sid, 'a session leader of its own (setsid)');
  assert.doesNotMatch(args, /secret-marker/);
});

test('input streams after the script to the command that reads stdin, bytes exact', async () => {
  const big = 'x'.repeat(300000) + 'END';
  const r = await probe({ script: 'exec wc -c\n', input: big });
  assert.equal(r.result.code, 'ok', r.stderr);
  assert.equal(Number(joined(r.records, 'O').trim()), big.length);
});

test('large output arrives whole', async () => {
  const r = await probe({ script: 'head -c 2000000 /dev/zero | tr "\\0" a\n' });
  assert.equal(r.result.code, 'ok', r.stderr);
  assert.equal(joined(r.records, 'O').length, 2000000);
});

test('check: pinned right key passes, a wrong pin runs nothing (host_key_mismatch)', async () => {
  const ok = await probe({ mode: 'check', pin: sshd.fingerprint() });
  assert.equal(ok.result.code, 'ok', ok.stderr);
  const marker = path.join(sshd.home('app'), 'ran');
  const bad = await probe({ script: `touch ${marker}\n`, pin: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  assert.equal(bad.result.code, 'host_key_mismatch');
  assert.equal(bad.result.fp, sshd.fingerprint(), 'the key seen is reported');
  const check = await probe({ script: `test -e ${marker} && echo yes || echo no\n` });
  assert.equal(joined(check.records, 'O').trim(), 'no');
});

test('a key the server does not know: auth_failed; the second key offered is used', async () => {
  const r = await probe({ mode: 'check', keyFiles: [other.privateFile] });
  assert.equal(r.result.code, 'auth_failed');
  const fb = await probe({ mode: 'check', keyFiles: [other.privateFile, keys.privateFile] });
  assert.equal(fb.result.code, 'ok', fb.stderr);
  assert.equal(fb.result.key, 1);
});

test('a key pair made by Piora (auth/sshkey.c) authenticates through libssh', async () => {
  const d = tmpDir('keys');
  const file = path.join(d, 'piora');
  const made = execFileSync(PROBE, ['genkey', file]).toString().trim().split('\n');
  assert.match(made[0], /^ssh-ed25519 AAAA\S+ piora-probe$/);
  const u = sshd.userName('app');
  sshd.authorize('app', made[0]);
  try {
    const r = await probe({ script: 'echo via-piora-key\n', keyFiles: [file], user: u });
    assert.equal(r.result.code, 'ok', r.stderr);
    assert.equal(joined(r.records, 'O'), 'via-piora-key\n');
    assert.match(sshd.log(), new RegExp(made[1].replace(/[+/]/g, '.')), 'sshd logged that key');
  } finally {
    sshd.authorize('app', keys.publicLine);
  }
});

test('a closed port: unreachable within 10 s', async () => {
  const port = await freePort();
  const r = await probe({ mode: 'check', port });
  assert.equal(r.result.code, 'unreachable');
  assert.ok(r.ms < 10000, `${r.ms} ms`);
});

async function waitGone(pattern, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!pattern.test(sshd.processes('app'))) return true;
    await sleep(200);
  }
  return false;
}

test('cancel kills the remote process group, TERM-ignoring children included', async () => {
  let child;
  const started = probe({
    script: 'echo started\n(trap "" TERM; sleep 611) &\nsleep 600\n',
    onStart: (p) => { child = p; },
  });
  const until = Date.now() + T(10000);
  while (!/sleep 600/.test(sshd.processes('app')) && Date.now() < until) await sleep(100);
  assert.match(sshd.processes('app'), /sleep 600/);
  const t0 = Date.now();
  child.kill('SIGUSR1');
  const r = await started;
  assert.equal(r.result.code, 'cancelled', r.stderr);
  assert.ok(Date.now() - t0 < 15000, `${Date.now() - t0} ms`);
  assert.ok(await waitGone(/sleep 6(00|11)/, T(2000)), sshd.processes('app'));
});

test('timeout kills the remote group and says timeout', async () => {
  const r = await probe({ script: 'sleep 622\n', timeout: 2 });
  assert.equal(r.result.code, 'timeout', r.stderr);
  assert.ok(r.ms < T(8000), `${r.ms} ms`);
  assert.ok(await waitGone(/sleep 622/, T(2000)), sshd.processes('app'));
});

test('the host key changes: mismatch against the old pin', async () => {
  const old = sshd.fingerprint();
  await sshd.restartWithNewHostKey();
  assert.notEqual(sshd.fingerprint(), old);
  const r = await probe({ mode: 'check', pin: old });
  assert.equal(r.result.code, 'host_key_mismatch');
  assert.equal(r.result.fp, sshd.fingerprint());
});
