// Real database engines for the backup tests (issue 11), each its own
// instance in a temporary directory on 127.0.0.1 and a free port, started by
// the test and stopped by its pid: PostgreSQL 15 (initdb + postgres as the
// postgres user, peer authentication on its own socket directory), MariaDB
// (mariadb-install-db into a temporary datadir, mariadbd on a port and a
// socket, unix_socket authentication) and Redis (redis-server --port --dir).
// A test grants an OS user access the way docs/backups.md says a server
// does it: a role of the same name (peer) or a unix_socket user, so no
// password exists anywhere. Needs root (it runs the engines as their users).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, tmpDir, sleep, T } from './piora.mjs';

const PG_BIN = '/usr/lib/postgresql/15/bin';

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });
}

// A directory the engine's user owns and every local user may enter (the
// socket lives there and the dumping user connects through it).
function engineDir(tag, owner) {
  const d = tmpDir(tag);
  fs.chmodSync(d, 0o755);
  if (owner) sh('chown', [`${owner}:${owner}`, d]);
  return d;
}

async function waitFor(what, fn, ms = T(30000), proc) {
  const end = Date.now() + ms;
  let err;
  while (Date.now() < end) {
    if (proc && proc.exitCode !== null) throw new Error(`${what}: the engine exited ${proc.exitCode}`);
    try { if (await fn()) return; } catch (e) { err = e; }
    await sleep(100);
  }
  throw new Error(`${what} not ready within ${ms} ms: ${err?.message ?? ''}`);
}

function started(proc, log) {
  proc.stdout?.on('data', (d) => { log.text += d; });
  proc.stderr?.on('data', (d) => { log.text += d; });
  return new Promise((r) => proc.on('close', r));
}

async function stopPid(proc, exited, ms = T(15000)) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(ms).then(() => false)]);
  if (!done) { proc.kill('SIGKILL'); await exited; }
}

export async function startPostgres() {
  const dir = engineDir('pg', 'postgres');
  const data = path.join(dir, 'data');
  sh('runuser', ['-u', 'postgres', '--', `${PG_BIN}/initdb`, '-D', data, '--auth-local=peer',
    '--auth-host=reject', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const log = { text: '' };
  const proc = spawn('runuser', ['-u', 'postgres', '--', `${PG_BIN}/postgres`, '-D', data, '-p', String(port),
    '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = started(proc, log);
  await waitFor('PostgreSQL', () => {
    sh('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_isready`, '-q', '-h', dir, '-p', String(port)]);
    return true;
  }, T(30000), proc);
  const psql = (sqlText, db = 'postgres', as = 'postgres') => sh('runuser', ['-u', as, '--', 'psql', '-X', '-q', '-A', '-t',
    '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-d', db, '-c', sqlText]).trim();
  return {
    engine: 'postgresql', dir, port, socket: dir, log, pid: proc.pid, psql,
    // a login role named as the OS user: peer authentication lets it in
    grant(user) { psql(`CREATE ROLE "${user}" LOGIN CREATEDB`); },
    createDb(name, owner) { psql(`CREATE DATABASE "${name}" OWNER "${owner}"`); },
    async stop() { await stopPid(proc, exited); },
  };
}

export async function startMariadb() {
  const dir = engineDir('maria', 'mysql');
  const data = path.join(dir, 'data');
  sh('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=mysql',
    '--auth-root-authentication-method=socket', '--skip-test-db']);
  const port = await freePort();
  const socket = path.join(dir, 'mysqld.sock');
  const log = { text: '' };
  const proc = spawn('/usr/sbin/mariadbd', ['--no-defaults', `--datadir=${data}`, '--user=mysql', `--port=${port}`,
    '--bind-address=127.0.0.1', `--socket=${socket}`, `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
    '--skip-log-bin', '--innodb-flush-log-at-trx-commit=0', '--skip-name-resolve'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = started(proc, log);
  const sqlAs = (sqlText, db, as) => {
    const args = ['--no-defaults', '-N', '-B', `--socket=${socket}`, '-u', as ?? 'root', '-e', sqlText];
    if (db) args.push(db);
    return (as ? sh('runuser', ['-u', as, '--', 'mariadb', ...args]) : sh('mariadb', args)).trim();
  };
  await waitFor('MariaDB', () => { sqlAs('SELECT 1'); return true; }, T(30000), proc);
  return {
    engine: 'mariadb', dir, port, socket, log, pid: proc.pid, sql: sqlAs,
    // unix_socket: the OS user is the database user, no password exists
    grant(user) {
      sqlAs(`CREATE USER '${user}'@'localhost' IDENTIFIED VIA unix_socket`);
      sqlAs(`GRANT ALL PRIVILEGES ON *.* TO '${user}'@'localhost'`);
    },
    createDb(name) { sqlAs(`CREATE DATABASE \`${name}\``); },
    async stop() { await stopPid(proc, exited); },
  };
}

export async function startRedis() {
  const dir = engineDir('redis', 'redis');
  const port = await freePort();
  const log = { text: '' };
  const proc = spawn('runuser', ['-u', 'redis', '--', 'redis-server', '--port', String(port), '--bind', '127.0.0.1',
    '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = started(proc, log);
  const cli = (...args) => sh('redis-cli', ['-p', String(port), ...args]).trim();
  await waitFor('Redis', () => cli('PING') === 'PONG', T(15000), proc);
  return {
    engine: 'redis', dir, port, log, pid: proc.pid, cli,
    async stop() { await stopPid(proc, exited); },
  };
}

// An OS user with a clean home under a temporary directory, as the dumping
// user of a server (the sshd harness of issue 9 makes its SSH users alike).
export function makeOsUser(tag = 'bk') {
  const name = `pb${tag}${process.pid % 100000}${Math.floor(Math.random() * 1000)}`.slice(0, 30);
  const home = path.join(tmpDir('home'), name);
  sh('useradd', ['-m', '-d', home, '-s', '/bin/bash', name]);
  return {
    name, home,
    // runs a command line in that user's login shell; resolves {code, stdout: Buffer, stderr}
    run(cmdline, { input } = {}) {
      return new Promise((resolve) => {
        const p = spawn('runuser', ['-u', name, '--', 'bash', '-c', cmdline], { cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
        const out = [];
        let err = '';
        p.stdout.on('data', (d) => out.push(d));
        p.stderr.on('data', (d) => { err += d; });
        p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
        if (input) p.stdin.end(input); else p.stdin.end();
      });
    },
    remove() { try { sh('userdel', ['-r', name]); } catch { /* gone */ } },
  };
}
