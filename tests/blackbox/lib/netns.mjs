// A black-holed address for the tests (issue 9): a network namespace with a
// veth pair to the host and an nftables rule inside that drops every TCP
// SYN, so a connection to the namespace's address neither succeeds nor is
// refused: it hangs until the client's connect timeout. Needs root (the
// CI runs as root). Every namespace is named piora-bh-<pid>-<n> and removed
// by its cleanup, at process exit, and (when its process is gone) by the
// next run's sweep, so a failing or killed test leaves nothing behind:
// removing deletes the host's veth end (and so the pair), then the
// namespace with the nftables table that lives in it.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const live = new Set();
let seq = 0;

function sh(args, input) {
  return execFileSync(args[0], args.slice(1), { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 10000 }).toString();
}

// Host-side veth name of namespace piora-bh-<pid>-<n> (at most 15 bytes).
const hostLink = (pid, n) => `pbh${(pid % 100000).toString(36)}${n}a`;

// The host's veth end first: deleting it takes the peer with it at once,
// where deleting the namespace alone frees the pair later, in the kernel's
// own time. Then the namespace, with its nftables table.
function remove(ns) {
  const m = /^piora-bh-(\d+)-(\d+)$/.exec(ns);
  if (m) {
    try { sh(['ip', 'link', 'del', hostLink(Number(m[1]), Number(m[2]))]); } catch { /* already gone */ }
  }
  try { sh(['ip', 'netns', 'del', ns]); } catch { /* already gone */ }
  live.delete(ns);
}

process.on('exit', () => { for (const ns of [...live]) remove(ns); });

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

// Namespaces left by runs whose process died (SIGKILL skips 'exit').
export function sweep() {
  let names = [];
  try { names = readdirSync('/run/netns'); } catch { return; }
  for (const n of names) {
    const m = /^piora-bh-(\d+)-\d+$/.exec(n);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) remove(n);
  }
}

// Resolves { addr, ns, cleanup }: addr is an IPv4 address that black-holes
// TCP connections. cleanup() is idempotent; register it with t.after.
export function blackhole() {
  if (process.getuid && process.getuid() !== 0) {
    throw new Error('the black-hole test makes a network namespace and needs root (scripts/test.sh runs as root)');
  }
  sweep();
  const n = seq++;
  const ns = `piora-bh-${process.pid}-${n}`;
  // Interface names are at most 15 bytes; the subnet is per process and
  // namespace so parallel runs do not collide.
  const host = hostLink(process.pid, n);
  const peer = `${host.slice(0, -1)}b`;
  const oct2 = 200 + (Math.floor(process.pid / 64) % 50);
  const oct3 = (process.pid % 64) * 4 + (n % 4);
  const net = `10.${oct2}.${oct3}`;
  const addr = `${net}.2`;
  live.add(ns);
  const cleanup = () => remove(ns);
  try {
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
    sh(['ip', 'link', 'set', peer, 'netns', ns]);
    sh(['ip', 'addr', 'add', `${net}.1/30`, 'dev', host]);
    sh(['ip', 'link', 'set', host, 'up']);
    sh(['ip', '-n', ns, 'addr', 'add', `${addr}/30`, 'dev', peer]);
    sh(['ip', '-n', ns, 'link', 'set', peer, 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    sh(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'],
      'table inet piora_blackhole {\n'
      + '  chain input { type filter hook input priority 0; policy accept; tcp flags syn drop; }\n'
      + '}\n');
  } catch (e) {
    cleanup();
    throw new Error(`cannot make the black-hole namespace: ${e.stderr?.toString() ?? e.message}`);
  }
  return { addr, ns, host, cleanup };
}

// Whether the namespace and the host's veth end are gone (for asserting
// the cleanup itself).
export function gone({ ns, host }) {
  let names = [];
  try { names = readdirSync('/run/netns'); } catch { /* no namespaces at all */ }
  let link = true;
  try { sh(['ip', 'link', 'show', host]); link = false; } catch { /* absent */ }
  return !names.includes(ns) && link;
}
