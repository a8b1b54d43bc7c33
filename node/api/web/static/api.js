// The daemon's API, from the page. The token is kept in this tab's
// sessionStorage (gone when the tab closes) and sent only as an
// Authorization header, never in a URL. The event stream is read with
// fetch, because EventSource cannot send that header.

const TOKEN_KEY = 'intentcast.token';

let token = '';
try {
  token = sessionStorage.getItem(TOKEN_KEY) || '';
} catch {
  // Storage can be off; the token then lives in memory only.
}

export const auth = {
  get: () => token,
  set(t) {
    token = t.trim();
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch { /* memory only */ }
  },
  clear() {
    token = '';
    try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* nothing kept */ }
  },
};

// APIError is an error answer of the API: {"error":{"code","message","field"}}.
// field names the input at fault, when one is; the message is then a
// sentence to show next to it.
export class APIError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || '';
  }
}

let unauthorized = () => {};

// onUnauthorized sets what happens when the API refuses the token.
export function onUnauthorized(fn) { unauthorized = fn; }

function headers(extra) {
  return { Authorization: 'Bearer ' + token, ...extra };
}

// failure turns a response that is not 2xx into an APIError.
async function failure(res) {
  let code = 'http_' + res.status, message = `The node answered ${res.status} ${res.statusText}.`, field = '';
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
      field = body.error.field || '';
    }
  } catch {
    // Not JSON: keep the status line.
  }
  const err = new APIError(res.status, code, message, field);
  if (res.status === 401) unauthorized(err);
  return err;
}

// send makes a fetch, turning network failures into an APIError too.
async function send(path, init) {
  try {
    return await fetch(path, { cache: 'no-store', credentials: 'omit', redirect: 'error', ...init });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new APIError(0, 'unreachable', 'Cannot reach the node: is the daemon running? (' + e.message + ')');
  }
}

// call sends a JSON request and returns the decoded answer.
export async function call(method, path, body, { signal } = {}) {
  const init = { method, signal, headers: headers({ Accept: 'application/json' }) };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await send(path, init);
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  return res.json();
}

// readEvents parses a text/event-stream body, calling fn(event, data) for
// each event; it returns when the stream ends.
export async function readEvents(res, fn) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '', event = '', data = [];
  const line = (l) => {
    if (l === '') {
      if (data.length) fn(event || 'message', data.join('\n'));
      event = '';
      data = [];
      return;
    }
    if (l.startsWith(':')) return; // a comment (keep-alive)
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    for (;;) {
      const i = buf.search(/[\r\n]/);
      if (i < 0) break;
      if (buf[i] === '\r' && i === buf.length - 1) break; // a \n may follow in the next chunk
      const skip = buf[i] === '\r' && buf[i + 1] === '\n' ? 2 : 1;
      line(buf.slice(0, i));
      buf = buf.slice(i + skip);
    }
  }
}

// publish posts an intent and streams the proof of work's progress:
// onProgress({tries, expected}) while minting; it resolves to the
// published IntentView.
export async function publish(body, onProgress, { signal } = {}) {
  const res = await send('/v1/intents', {
    method: 'POST',
    signal,
    headers: headers({ Accept: 'text/event-stream', 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  if (!(res.headers.get('Content-Type') || '').startsWith('text/event-stream')) {
    return res.json(); // a daemon that does not stream answers with the intent
  }
  let result = null, error = null;
  await readEvents(res, (event, data) => {
    let v;
    try { v = JSON.parse(data); } catch { return; }
    if (event === 'progress') onProgress(v);
    else if (event === 'intent') result = v;
    else if (event === 'error') {
      const e = v.error || {};
      error = new APIError(e.status || 500, e.code || 'internal', e.message || 'Publishing failed.', e.field);
    }
  });
  if (error) throw error;
  if (!result) throw new APIError(0, 'stream_ended', 'The node stopped answering before the intent was published.');
  return result;
}

// watch follows GET /v1/events: onEvent(kind, EventView) for each event,
// onState('connecting' | 'live' | 'retrying' | 'stopped') as the stream
// goes. It reconnects after a lost stream (the replay makes the page
// whole again) and returns a func that stops it.
export function watch(onEvent, onState) {
  const ctl = new AbortController();
  let stopped = false;
  const run = async () => {
    let wait = 1000;
    while (!stopped) {
      onState('connecting');
      try {
        const res = await send('/v1/events', { signal: ctl.signal, headers: headers({ Accept: 'text/event-stream' }) });
        if (!res.ok) {
          const err = await failure(res);
          if (res.status === 401) break;
          throw err;
        }
        await readEvents(res, (kind, data) => {
          let ev;
          try { ev = JSON.parse(data); } catch { return; }
          if (kind === 'replay-end') {
            wait = 1000;
            onState('live');
          }
          try {
            onEvent(kind, ev);
          } catch (e) {
            console.error('handling event', kind, e);
          }
        });
      } catch (e) {
        if (stopped || e.name === 'AbortError') break;
        console.warn('event stream:', e.message);
      }
      if (stopped) break;
      onState('retrying');
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 15000);
    }
    onState('stopped');
  };
  run();
  return () => {
    stopped = true;
    ctl.abort();
  };
}
