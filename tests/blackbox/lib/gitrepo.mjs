// A git repository on the test sshd's "server" (lib/sshd.mjs), owned by a
// test user: a bare repository with one commit on `main`, at a path that
// git on that server accepts as the application's `repository`.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const asUser = (user, script) => execFileSync('su', [user, '-s', '/bin/bash', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

// Resolves { url, head }: url is the bare repository's path, head its commit.
export function makeRepo(sshd, u, name = 'app') {
  const user = sshd.userName(u);
  const home = sshd.home(u);
  const bare = path.join(home, `${name}.git`);
  const work = path.join(home, `${name}-src`);
  asUser(user, `set -e; git init -q --bare '${bare}'; git init -q -b main '${work}'; cd '${work}';
    echo '# ${name}' > README.md; git add README.md;
    git -c user.email=t@example.com -c user.name=t commit -qm first; git push -q '${bare}' main`);
  const head = asUser(user, `git -C '${bare}' rev-parse main`).trim();
  return { url: bare, head };
}
