// One typed request helper over the paths that openapi-typescript generated
// from the served document (generated/api.d.ts): a path, method, path
// parameter, query parameter or body field the document does not have fails
// `tsc --strict`, and the answer is typed as the document's success body.
import type { paths } from '../generated/api.js';

type Method = 'get' | 'post' | 'patch' | 'delete';
type MethodsOf<P extends keyof paths> = {
  [M in Method]: paths[P][M] extends undefined ? never : M;
}[Method];
type Op<P extends keyof paths, M extends MethodsOf<P>> = NonNullable<paths[P][M]>;

type PathParams<O> = O extends { parameters: { path: infer PP } } ? PP : never;
type Query<O> = O extends { parameters: { query?: infer Q } } ? Q : never;
type JsonBody<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;
type SuccessCode = 200 | 201 | 202 | 204;
type Success<O> = O extends { responses: infer R }
  ? {
      [K in keyof R]: K extends SuccessCode
        ? R[K] extends { content: { 'application/json': infer J } } ? J : null
        : never;
    }[keyof R]
  : never;

export interface Request<O> {
  params?: PathParams<O>;
  query?: Query<O>;
  body?: JsonBody<O>;
  // A refusal the document describes, asserted instead of 2xx (an endpoint
  // that cannot succeed in this run, e.g. an OIDC exchange with no issuer).
  expect?: number;
}

export interface Answer<T> {
  status: number;
  data: T;
}

export class Client {
  constructor(readonly base: string, readonly token?: string) {}

  // The one line per operation that check-calls.mjs looks for is
  // `client.call('<path>', '<method>'`: keep the two literals on it.
  async call<P extends keyof paths, M extends MethodsOf<P>>(
    path: P,
    method: M,
    req: Request<Op<P, M>> = {},
  ): Promise<Answer<Success<Op<P, M>>>> {
    let url = String(path);
    const params = (req.params ?? {}) as Record<string, string | number>;
    for (const [k, v] of Object.entries(params)) url = url.replace(`{${k}}`, encodeURIComponent(String(v)));
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
      if (v !== undefined) query.set(k, String(v));
    }
    const qs = query.toString();
    const headers: Record<string, string> = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (req.body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(this.base + url + (qs ? `?${qs}` : ''), {
      method: String(method).toUpperCase(),
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
    });
    const text = await r.text();
    const type = r.headers.get('content-type') ?? '';
    const data = (text && type.includes('json') ? JSON.parse(text) : null) as Success<Op<P, M>>;
    if (req.expect !== undefined) {
      if (r.status !== req.expect) throw new Error(`${String(method).toUpperCase()} ${url}: ${r.status}, expected ${req.expect}: ${text.slice(0, 300)}`);
    } else if (r.status < 200 || r.status > 299) {
      throw new Error(`${String(method).toUpperCase()} ${url}: ${r.status} ${text.slice(0, 300)}`);
    }
    return { status: r.status, data };
  }
}
