// A real OpenSSH server for the job tests: `/usr/sbin/sshd -D -e -f CONF` as
// root on 127.0.0.1:freePort(), with its own ed25519 host key, config,
// authorized_keys directory and PidFile in a temp dir, and test users whose
// homes live in that temp dir (so each test file starts from clean homes).
// Stop it with stop(): it ends sshd by its pid and deletes the users.
//
//   const sshd = await startSshd({ users: ['app'] });
//   sshd.authorize('app', publicKeyLine);
//   sshd.userName('app'), sshd.port, sshd.fingerprint(), sshd.home('app')
//   await sshd.restartWithNewHostKey(); await sshd.stop();
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, mkdirSync, chmodSync, rmSync, existsSync, appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { freePort, tmpDir, T, sleep } from './piora.mjs';

const SSHD = '/usr/sbin/sshd';

const live = new Set();
process.on('exit', () => {
  for (const s of live) s.stopSync();
});

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }).toString();
}

// "SHA256:..." of a public key file, as ssh-keygen -l prints it.
export function fingerprintOf(pubFile) {
  return sh('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile]).split(/\s+/)[1];
}

// A new ed25519 key pair in dir: {privateFile, publicFile, publicLine}.
export function makeKeyPair(dir, name = 'id_ed25519') {
  const f = path.join(dir, name);
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `piora-test-${name}`, '-f', f]);
  return { privateFile: f, publicFile: `${f}.pub`, publicLine: readFileSync(`${f}.pub`, 'utf8').trim() };
}

function waitPort(port, timeoutMs) {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const c = net.connect(port, '127.0.0.1');
      c.once('data', () => { c.destroy(); resolve(); }); // sshd's banner
      c.once('error', () => {
        c.destroy();
        if (Date.now() > until) reject(new Error(`sshd did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startSshd({ users = ['app'] } = {}) {
  if (process.getuid() !== 0) throw new Error('the sshd harness runs as root (sshd, useradd)');
  const dir = tmpDir('sshd');
  chmodSync(dir, 0o755); // the test users must reach their homes inside it
  const keysDir = path.join(dir, 'authorized_keys');
  const homes = path.join(dir, 'home');
  mkdirSync(keysDir, { mode: 0o755 });
  mkdirSync(homes, { mode: 0o755 });
  const port = await freePort();
  const conf = path.join(dir, 'sshd_config');
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const log = [];
  const tag = randomBytes(4).toString('hex');
  const names = new Map(); // short name -> real user name
  let proc = null;

  const newHostKey = () => {
    rmSync(hostKey, { force: true });
    rmSync(`${hostKey}.pub`, { force: true });
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  };
  const writeConf = () => writeFileSync(conf, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${keysDir}/%u`,
    'UsePAM no',
    'StrictModes no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin no',
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'PrintMotd no',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n'));

  const start = async () => {
    // sshd refuses to start without its privilege separation directory,
    // which only the openssh-server service makes (at boot, under /run): a
    // fresh machine that never ran the service has none.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    proc = spawn(SSHD, ['-D', '-e', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr.on('data', (d) => { log.push(d.toString()); });
    await waitPort(port, T(10000));
  };
  const stopProc = async () => {
    if (!proc || proc.exitCode !== null) return;
    const p = proc;
    const done = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([done, sleep(T(5000))]);
    if (p.exitCode === null) p.kill('SIGKILL');
  };

  for (const u of users) {
    const name = `pt${tag}${u}`.slice(0, 31);
    const home = path.join(homes, name);
    sh('useradd', ['-M', '-d', home, '-s', '/bin/bash', '-U', name]);
    mkdirSync(home, { mode: 0o755 });
    sh('chown', [`${name}:${name}`, home]);
    // An account with '!' in its password field is locked for sshd without PAM.
    sh('usermod', ['-p', '*', name]);
    names.set(u, name);
  }

  newHostKey();
  writeConf();
  await start();

  const api = {
    dir,
    host: '127.0.0.1',
    port,
    userName: (u) => names.get(u),
    home: (u) => path.join(homes, names.get(u)),
    fingerprint: () => fingerprintOf(`${hostKey}.pub`),
    log: () => log.join(''),
    // Replaces the user's authorized_keys with these lines.
    authorize(u, ...lines) {
      writeFileSync(path.join(keysDir, names.get(u)), lines.map((l) => `${l}\n`).join(''), { mode: 0o644 });
    },
    addAuthorized(u, line) {
      appendFileSync(path.join(keysDir, names.get(u)), `${line}\n`);
    },
    // The process table of one test user: "pid pgid args" lines.
    processes(u) {
      try {
        return sh('ps', ['-o', 'pid=,pgid=,args=', '-u', names.get(u)]);
      } catch {
        return ''; // ps exits 1 when the user has none
      }
    },
    async restartWithNewHostKey() {
      await stopProc();
      newHostKey();
      await start();
    },
    async stop() {
      live.delete(api);
      await stopProc();
      api.removeUsers();
    },
    removeUsers() {
      for (const name of names.values()) {
        // What the tests left running as this user (e.g. a killed job's
        // children), ended by pid: the user exists only for this file.
        let pids = '';
        try { pids = sh('ps', ['-o', 'pid=', '-u', name]); } catch { /* none */ }
        for (const pid of pids.split(/\s+/).filter(Boolean)) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
        }
        try { sh('userdel', ['-f', name]); } catch { /* already gone */ }
      }
      names.clear();
    },
    stopSync() {
      try { if (proc && proc.exitCode === null) proc.kill('SIGKILL'); } catch { /* gone */ }
      api.removeUsers();
    },
  };
  live.add(api);
  return api;
}

export const SSHD_AVAILABLE = existsSync(SSHD);
