// A test OIDC issuer (trusted publishing, issue 14): HTTPS on 127.0.0.1
// with a CA it makes with openssl, serving discovery and JWKS like GitHub
// Actions' and GitLab's issuers, and minting their kind of ID tokens
// (RS256 and ES256). Faults on demand: JWKS down, an oversized JWKS, a key
// added later (rotation), and hand-made hostile tokens.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { freePort, tmpDir } from './piora.mjs';
import { noteSecret } from '../../lib/journal.mjs';

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const jsonB64u = (o) => b64u(JSON.stringify(o));

function makeCa(dir) {
  const o = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=piora test OIDC CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  o('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(path.join(dir, 'leaf.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  o('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext');
  return {
    caFile: path.join(dir, 'ca.pem'),
    key: fs.readFileSync(path.join(dir, 'leaf.key')),
    cert: fs.readFileSync(path.join(dir, 'leaf.pem')),
  };
}

function newKey(alg, kid) {
  const pair = alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { alg, kid, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

export function signJws(header, payload, key) {
  const input = `${jsonB64u(header)}.${jsonB64u(payload)}`;
  const sig = key.alg === 'ES256'
    ? crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    : crypto.sign('sha256', Buffer.from(input), key.privateKey);
  const jwt = `${input}.${b64u(sig)}`;
  noteSecret(jwt); // a JWT is a bearer credential: no log may hold it
  return jwt;
}

// start({ port }) -> issuer. issuer.url is its https:// URL (the `iss`).
export async function startIssuer() {
  const dir = tmpDir('oidc');
  const tls = makeCa(dir);
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const state = {
    keys: [newKey('RS256', 'rsa-1'), newKey('ES256', 'ec-1')],
    published: null, // null: every key; else the kids served
    jwksDown: false,
    jwksHuge: false,
    jwksFetches: 0,
    discoveryFetches: 0,
  };
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      state.discoveryFetches++;
      return send(200, {
        issuer: url, jwks_uri: `${url}/.well-known/jwks`,
        subject_types_supported: ['public'], response_types_supported: ['id_token'],
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      });
    }
    if (req.url === '/.well-known/jwks') {
      state.jwksFetches++;
      if (state.jwksDown) return send(503, { error: 'down' });
      const keys = state.keys.filter((k) => !state.published || state.published.includes(k.kid)).map((k) => k.jwk);
      if (state.jwksHuge) {
        // a valid JWKS, padded far past any sane size (Piora caps at 64 KiB)
        return send(200, { keys, padding: 'x'.repeat(200 * 1024) });
      }
      return send(200, { keys });
    }
    send(404, { error: 'not found' });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });

  const keyOf = (kid) => state.keys.find((k) => k.kid === kid);
  let serial = 0;

  const issuer = {
    url,
    caFile: tls.caFile,
    state,
    keyOf,
    // Claims like GitHub Actions' ID token; opts.claims overrides, and a
    // claim set to undefined is left out.
    github(opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      return {
        jti: `gh-${process.pid}-${++serial}-${crypto.randomUUID()}`,
        sub: 'repo:acme/web:environment:production',
        aud: 'piora',
        ref: 'refs/heads/main',
        sha: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4',
        repository: 'acme/web',
        repository_owner: 'acme',
        repository_owner_id: '4242',
        repository_id: '777',
        run_id: '9000001',
        run_number: '12',
        run_attempt: '1',
        actor: 'ada',
        workflow: 'deploy',
        job_workflow_ref: 'acme/web/.github/workflows/deploy.yml@refs/heads/main',
        environment: 'production',
        event_name: 'push',
        ref_type: 'branch',
        iss: url,
        nbf: now - 5,
        iat: now - 5,
        exp: now + 300,
      };
    },
    gitlab(opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      return {
        jti: `gl-${process.pid}-${++serial}-${crypto.randomUUID()}`,
        sub: 'project_path:acme/api:ref_type:branch:ref:main',
        aud: 'piora',
        namespace_id: '71',
        namespace_path: 'acme',
        project_id: '1234',
        project_path: 'acme/api',
        pipeline_id: '5550001',
        job_id: '6660001',
        ref: 'main',
        ref_type: 'branch',
        sha: '5d41402abc4b2a76b9719d911017c592',
        environment: 'production',
        iss: url,
        nbf: now - 5,
        iat: now - 5,
        exp: now + 300,
      };
    },
    // A signed token: base claims from `kind` ('github' | 'gitlab'), then
    // opts.claims merged (undefined removes); opts.kid picks the key
    // (default rsa-1; 'ec-1' for ES256); opts.header overrides header fields.
    mint({ kind = 'github', claims = {}, kid = 'rsa-1', header = {} } = {}) {
      const key = keyOf(kid);
      const payload = { ...issuer[kind](), ...claims };
      for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
      return signJws({ alg: key.alg, typ: 'JWT', kid, ...header }, payload, key);
    },
    // Adds a key the JWKS serves from now on (a rotation).
    addKey(alg, kid) {
      const k = newKey(alg, kid);
      state.keys.push(k);
      return k;
    },
    // A key Piora has never seen and the JWKS does not serve.
    strayKey(alg, kid) { return newKey(alg, kid); },
    close() {
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
  return issuer;
}

export { b64u, jsonB64u };
