// Every operation of the OpenAPI document needs its own
// `client.call('<path>', '<method>'` line in the client file, and the file
// calls nothing the document lacks (tsc checks that too). Usage:
// node check-calls.mjs openapi.json src/client.ts
import { readFileSync } from 'node:fs';

const [docPath, clientPath] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(docPath, 'utf8'));
const client = readFileSync(clientPath, 'utf8');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const operations = new Set();
for (const [p, item] of Object.entries(doc.paths ?? {})) {
  for (const m of METHODS) if (item[m]) operations.add(`${m.toUpperCase()} ${p}`);
}
const called = new Set();
for (const m of client.matchAll(/\.call\(\s*'([^']+)',\s*'([a-z]+)'/g)) called.add(`${m[2].toUpperCase()} ${m[1]}`);

const missing = [...operations].filter((o) => !called.has(o));
const unknown = [...called].filter((o) => !operations.has(o));
for (const o of missing) console.log(`not called by ${clientPath}: ${o}`);
for (const o of unknown) console.log(`not in the document: ${o}`);
console.log(`${operations.size} operations, ${called.size} called, ${missing.length} missing`);
process.exit(missing.length + unknown.length === 0 ? 0 : 1);
