/**
 * A browser without a browser: the web UI's forms posted over plain HTTP with a cookie jar and the page's CSRF token,
 * and any header a client may send (Host, X-Forwarded-*), which fetch would not let a test choose.
 */
import http from 'node:http';

export interface WebResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface WebClient {
  get(path: string, headers?: Record<string, string>): Promise<WebResponse>;
  /** Posts a form with the CSRF token of the last page read (the sign-in page when none was). */
  post(path: string, form: Record<string, string>, opts?: { headers?: Record<string, string> }): Promise<WebResponse>;
  /** Any request with a JSON body, as an API client sends it. */
  json(method: string, path: string, body: unknown, headers?: Record<string, string>): Promise<WebResponse>;
}

export function webClient(baseUrl: string, defaults: Record<string, string> = {}): WebClient {
  const cookies = new Map<string, string>();
  let csrf = '';

  function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<WebResponse> {
    const url = new URL(path, baseUrl);
    const all: Record<string, string> = { ...defaults, ...headers };
    if (cookies.size) all.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) {
      all['content-type'] ??= 'application/x-www-form-urlencoded';
      all['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        { method, host: url.hostname, port: url.port, path: url.pathname + url.search, headers: all },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            for (const c of res.headers['set-cookie'] ?? []) {
              const [pair = ''] = c.split(';');
              const eq = pair.indexOf('=');
              const value = pair.slice(eq + 1);
              if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) cookies.delete(pair.slice(0, eq));
              else cookies.set(pair.slice(0, eq), value);
            }
            const text = Buffer.concat(chunks).toString();
            const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
            if (token) csrf = token;
            resolve({ status: res.statusCode!, headers: res.headers, body: text });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  return {
    get: (path, headers = {}) => send('GET', path, headers),
    async post(path, form, opts = {}) {
      if (!csrf) await send('GET', '/sign-in', {});
      return send('POST', path, opts.headers ?? {}, new URLSearchParams({ _csrf: csrf, ...form }).toString());
    },
    json: (method, path, body, headers = {}) =>
      send(method, path, { ...headers, 'content-type': 'application/json' }, JSON.stringify(body)),
  };
}

/**
 * Makes the first administrator through /first-run and signs them in with the code mailed to them (read by
 * `nextMail`), as a person does: the client is then signed in. Each step must redirect (303).
 */
export async function signInFirstAdmin(
  web: WebClient,
  admin: { name: string; email: string; password: string },
  nextMail: (to: string) => Promise<{ body: string }>,
): Promise<void> {
  const redirected = async (response: Promise<WebResponse>, step: string) => {
    const { status } = await response;
    if (status !== 303) throw new Error(`${step} answered ${status}, not 303`);
  };
  await web.get('/');
  await redirected(web.post('/first-run', admin), 'first run');
  await web.get('/sign-in');
  await redirected(web.post('/sign-in', { email: admin.email, password: admin.password }), 'sign-in');
  const code = /\b(\d{6})\b/.exec((await nextMail(admin.email)).body)![1]!;
  await web.get('/sign-in/code');
  await redirected(web.post('/sign-in/code', { code }), 'sign-in code');
}
