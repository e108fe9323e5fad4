// A throw-away redis-server for tests: our own child on a free loopback
// port, no persistence, its files in a temporary directory. stop() ends it
// by its pid (never by name: other engineers' tests run redis-server too);
// start() again brings a fresh, empty server back on the same port, which
// is what a node configured with one --redis URL sees after an outage.
// Used by redis-limits.test.mjs and the multi-node suites.
import { spawn, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { freePort, tmpDir, sleep, T } from './piora.mjs';

const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export class Redis {
  constructor(port, dir) {
    this.port = port;
    this.dir = dir;
    this.url = `redis://127.0.0.1:${port}`;
    this.proc = null;
    this.log = '';
  }

  // Runs redis-cli against this server; returns its trimmed stdout.
  cli(...args) {
    const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...args],
      { encoding: 'utf8', timeout: T(5000) });
    return (r.stdout ?? '').trim();
  }

  async start(timeoutMs = T(10000)) {
    assert.equal(this.proc, null, 'redis-server already running');
    const p = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(p);
    this.proc = p;
    this.exited = new Promise((resolve) => p.on('close', (code, signal) => {
      live.delete(p);
      resolve({ code, signal });
    }));
    p.stdout.on('data', (d) => { if (this.log.length < 1 << 20) this.log += d; });
    p.stderr.on('data', (d) => { if (this.log.length < 1 << 20) this.log += d; });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (p.exitCode !== null) break;
      if (this.cli('PING') === 'PONG') return this;
      await sleep(50);
    }
    this.kill();
    throw new Error(`redis-server on port ${this.port} did not answer PING: ${this.log.slice(-2000)}`);
  }

  // SIGTERM by pid and wait for the exit (SIGKILL after timeoutMs).
  async stop(timeoutMs = T(5000)) {
    const p = this.proc;
    if (!p) return;
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      p.kill('SIGCONT'); // a pause()d server acts on the SIGTERM only once continued
    }
    let timer;
    const done = await Promise.race([this.exited,
      new Promise((r) => { timer = setTimeout(() => r(null), timeoutMs); })]);
    clearTimeout(timer);
    if (!done) {
      p.kill('SIGKILL');
      await this.exited;
    }
    this.proc = null;
  }

  // SIGSTOP: the server keeps its port and accepts connections (the
  // kernel does) but answers nothing, a hung or overloaded Redis.
  pause() {
    assert.ok(this.proc, 'redis-server running');
    this.proc.kill('SIGSTOP');
  }

  resume() {
    if (this.proc) this.proc.kill('SIGCONT');
  }

  kill() {
    if (this.proc) {
      try { this.proc.kill('SIGKILL'); } catch { /* gone */ }
    }
    this.proc = null;
  }
}

// Starts a redis-server; with the test context t it is stopped after the
// test. redis-server missing is a failure, never a skip.
export async function startRedis(t) {
  const r = new Redis(await freePort(), tmpDir('redis'));
  if (t && typeof t.after === 'function') t.after(() => r.stop());
  return r.start();
}
