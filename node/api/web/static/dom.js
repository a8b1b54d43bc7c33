// DOM helpers. Everything from the network goes on the page as text:
// h() makes text nodes of strings and sets attributes one by one, and
// nothing here (or anywhere in the page) parses strings as HTML.

// h makes an element. props: class, text, dataset, on<event> handlers,
// boolean properties (hidden, disabled, checked, selected) and any other
// attribute. children: nodes or strings (strings become text nodes);
// null, undefined and false are skipped; arrays are flattened.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'hidden' || k === 'disabled' || k === 'checked' || k === 'selected' || k === 'value') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

// append adds children to el as h does.
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// replace swaps el's children for children.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// show sets an element's text and shows it; an empty text hides it.
export function say(el, text) {
  el.textContent = text || '';
  el.hidden = !text;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

// when formats an RFC 3339 time for people; '' and the zero time are '—'.
export function when(iso) {
  const t = Date.parse(iso || '');
  if (!Number.isFinite(t) || t <= 0) return '—';
  return dateTime.format(t);
}

// day formats a date without the time.
export function day(iso) {
  const t = Date.parse(iso || '');
  if (!Number.isFinite(t) || t <= 0) return '—';
  return dateOnly.format(t);
}

// ago says how far a time is from now: "in 3 hours", "5 minutes ago".
export function ago(iso, now = Date.now()) {
  const t = Date.parse(iso || '');
  if (!Number.isFinite(t) || t <= 0) return '—';
  const s = Math.round((t - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return s >= 0 ? 'in a moment' : 'just now';
  if (abs < 3600) return relative.format(Math.round(s / 60), 'minute');
  if (abs < 86400 * 2) return relative.format(Math.round(s / 3600), 'hour');
  return relative.format(Math.round(s / 86400), 'day');
}

// past reports whether an RFC 3339 time is set and not in the future.
export function past(iso, now = Date.now()) {
  const t = Date.parse(iso || '');
  return Number.isFinite(t) && t > 0 && t <= now;
}

// short shortens a long ID for display.
export function short(id) {
  return id && id.length > 14 ? id.slice(0, 8) + '…' + id.slice(-4) : (id || '');
}

// money formats an amount (decimal string in major units) with its currency.
export function money(amount, currency) {
  return amount ? `${amount} ${currency || ''}`.trim() : '—';
}

// safeURL returns url if it is http(s), else '' : a vendor's URL comes from
// a stranger and must not be a javascript: link.
export function safeURL(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : '';
  } catch {
    return '';
  }
}
