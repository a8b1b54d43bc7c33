// The intentcast page: a customer view (compose an intent, watch offers
// arrive, compare and accept) and a vendor view (the live feed, filters,
// offers, accepts). Data from the network goes on the page as text only
// (see dom.js): intents and offers are written by strangers.

import { h, replace, say, when, day, ago, past, short, money, safeURL } from './dom.js';
import * as api from './api.js';
import { initThreads, loadThreads, openThread, onThread, refreshIntent } from './thread.js';

const $ = (id) => document.getElementById(id);

const state = {
  connected: false,
  node: null,
  peers: 0,
  network: null,
  protocol: null,
  terms: new Map(), // roster name -> description
  own: new Map(), // own intents by id
  received: new Map(), // intent id -> Map(offer id -> OfferView)
  reputations: new Map(), // vendor key -> ReputationView, as this node computed it
  feed: new Map(), // live intents by id (vendor)
  sent: new Map(), // sent offers by id
  deals: new Map(), // role + ':' + intent id -> DealView
  intents: new Map(), // every intent seen, by id (labels for offers and deals)
};

const ownCards = new Map(); // intent id -> card
const feedCards = new Map(); // intent id -> card
let stopEvents = null;
let timers = [];

// ---------------------------------------------------------------------------
// Connecting: the token, the first load, the event stream.

api.onUnauthorized((err) => {
  api.auth.clear();
  showLogin('The node refused the token: ' + err.message);
});

function stopAll() {
  state.connected = false;
  if (stopEvents) stopEvents();
  stopEvents = null;
  timers.forEach(clearInterval);
  timers = [];
}

function showLogin(message) {
  stopAll();
  $('login').hidden = false;
  $('tabs').hidden = true;
  $('status').hidden = true;
  $('view-customer').hidden = true;
  $('view-vendor').hidden = true;
  say($('banner'), '');
  say($('login-error'), message);
  $('token').value = '';
  $('token').focus();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = $('token').value.trim();
  if (!t) {
    say($('login-error'), 'Paste the token first.');
    return;
  }
  api.auth.set(t);
  $('connect').disabled = true;
  say($('login-error'), '');
  try {
    await connect();
  } catch (err) {
    if (err.status !== 401) say($('login-error'), err.message);
  } finally {
    $('connect').disabled = false;
  }
});

$('logout').addEventListener('click', () => {
  api.auth.clear();
  showLogin('');
});

async function connect() {
  const [node, protocol] = await Promise.all([api.call('GET', '/v1/node'), api.call('GET', '/v1/protocol')]);
  state.node = node;
  state.protocol = protocol;
  state.terms = new Map(protocol.terms.map((t) => [t.name, t.description]));
  state.connected = true;
  $('token').value = '';
  $('login').hidden = true;
  $('tabs').hidden = false;
  $('status').hidden = false;
  showTab(tabFromHash());
  renderNode();
  buildCompose();
  buildFilterForm();
  try {
    await Promise.all([loadOwn(), loadDeals(), loadFeed(), loadSent(), loadFilter()]);
    await loadThreads([...state.own.keys(), ...[...state.sent.values()].map((o) => o.intent_id)]);
  } catch (err) {
    if (err.status === 401) return;
    say($('banner'), err.message);
  }
  stopEvents = api.watch(onEvent, setLive);
  timers.push(setInterval(refreshNode, 5000));
  // Relative times ("in 3 hours") and expiries move on their own.
  timers.push(setInterval(() => {
    ownCards.forEach((c, id) => updateOwnCard(c, state.own.get(id)));
    feedCards.forEach((c, id) => updateFeedCard(c, state.feed.get(id)));
    renderSent();
  }, 30000));
  refreshNode();
}

function setLive(s) {
  const el = $('live');
  el.dataset.state = s;
  el.textContent = { connecting: 'connecting…', live: 'live', retrying: 'reconnecting…', stopped: 'offline' }[s] || s;
}

async function refreshNode() {
  if (!state.connected) return;
  try {
    const [node, peers, network] = await Promise.all([
      api.call('GET', '/v1/node'), api.call('GET', '/v1/peers'), api.call('GET', '/v1/network')]);
    state.node = node;
    state.peers = peers.length;
    state.network = network;
    renderNode();
  } catch (err) {
    if (err.status !== 401) console.warn('node info:', err.message);
  }
}

function renderNode() {
  const n = state.node;
  if (!n) return;
  const el = $('node-info');
  $('no-peers').hidden = state.peers !== 0;
  replace(el,
    h('span', { id: 'node-peer', title: 'Peer ID ' + n.peer_id + '\n' + (n.addrs || []).join('\n') }, 'node ' + short(n.peer_id)),
    ' · ',
    h('span', { id: 'node-peers' }, state.peers === 1 ? '1 peer' : `${state.peers} peers`),
    ' · ',
    reachability(state.network),
    n.version ? ' · ' + n.version : '');
}

// sendText says how far an own message got (the API's send status).
function sendText(s) {
  if (!s) return '';
  switch (s.status) {
    case 'queued': return 'queued: no peers — will send when a peer connects';
    case 'sent': return s.peers === 1 ? 'sent to 1 peer' : `sent to ${s.peers} peers`;
    case 'seen': return 'seen by the network';
    case 'refused': return 'refused by this node, never sent: ' + (s.reason || '');
  }
  return s.status;
}

// sendBadge shows a send status, its time in the title.
function sendBadge(s, what) {
  if (!s) return null;
  const at = s[s.status] || s.queued;
  return h('span', { class: 'send send-' + s.status, dataset: { send: s.status, what }, title: at ? s.status + ' ' + when(at) : '' },
    what + ' ' + sendText(s));
}

// reachability says how others reach the node; the title lists the
// addresses it announces (own, observed and through relays).
function reachability(net) {
  if (!net) return '';
  const relays = (net.relay_addrs || []).length;
  const text = { public: 'public', private: relays ? 'behind NAT, via relay' : 'behind NAT', unknown: 'reachability unknown' }[net.reachability] || net.reachability;
  const title = 'Reachability: ' + net.reachability + (net.relay_service ? ' (relaying for others)' : '') +
    '\nDHT: ' + net.dht + '\nAddresses:\n' + (net.addrs || []).join('\n');
  return h('span', { id: 'node-reach', title }, text);
}

// ---------------------------------------------------------------------------
// Tabs.

function tabFromHash() {
  return location.hash === '#vendor' ? 'vendor' : 'customer';
}

function showTab(name) {
  for (const t of ['customer', 'vendor']) {
    const on = t === name;
    $('tab-' + t).setAttribute('aria-selected', String(on));
    $('tab-' + t).tabIndex = on ? 0 : -1;
    $('view-' + t).hidden = !on || !state.connected;
  }
  if (location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
}

for (const t of ['customer', 'vendor']) {
  $('tab-' + t).addEventListener('click', () => showTab(t));
  $('tab-' + t).addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const other = t === 'customer' ? 'vendor' : 'customer';
      showTab(other);
      $('tab-' + other).focus();
    }
  });
}
window.addEventListener('hashchange', () => showTab(tabFromHash()));

// ---------------------------------------------------------------------------
// Events.

function onEvent(kind, ev) {
  if (['accepted', 'accept', 'cancel', 'closed'].includes(kind)) refreshIntent(ev.intent_id).catch(report);
  switch (kind) {
    case 'intent-posted':
      if (ev.intent) upsertOwn(ev.intent);
      break;
    case 'intent':
      if (ev.intent && !ev.intent.own) upsertFeed(ev.intent);
      break;
    case 'cancel':
      if (ev.intent && ev.intent.own) upsertOwn(ev.intent);
      else if (state.own.has(ev.intent_id)) upsertOwn({ ...state.own.get(ev.intent_id), state: 'cancelled' });
      if (state.feed.has(ev.intent_id)) upsertFeed({ ...state.feed.get(ev.intent_id), state: 'cancelled' });
      lapseSent(ev.intent_id);
      break;
    case 'closed': // another node's intent was accepted: no more offers on it
      if (state.feed.has(ev.intent_id)) upsertFeed({ ...state.feed.get(ev.intent_id), state: ev.status || 'accepted' });
      lapseSent(ev.intent_id);
      break;
    case 'offer':
      if (ev.intent && ev.intent.own) upsertOwn(ev.intent, false);
      if (ev.offer) upsertOffer(ev.offer);
      break;
    case 'send': // one of our own messages moved on
      if (!ev.send) break;
      if (ev.message === 'offer' && state.sent.has(ev.offer_id)) {
        state.sent.get(ev.offer_id).send = ev.send;
        renderSent();
      } else if (state.own.has(ev.intent_id)) {
        const key = { intent: 'send', cancel: 'cancel_send', accept: 'accept_send' }[ev.message];
        if (key) upsertOwn({ id: ev.intent_id, [key]: ev.send });
      }
      break;
    case 'offer-sent':
      if (ev.offer) upsertSent(ev.offer);
      if (ev.intent && state.feed.has(ev.intent.id)) upsertFeed(ev.intent);
      break;
    case 'accepted': // we accepted an offer
      if (ev.intent) upsertOwn(ev.intent, false);
      if (ev.offer) upsertOffer(ev.offer);
      loadDeals().catch(report);
      break;
    case 'thread': // a counter or a reply, sent or received
      onThread(ev);
      break;
    case 'accept': // a customer accepted one of our offers
      if (ev.offer) upsertSent(ev.offer);
      loadDeals().catch(report);
      break;
    case 'rating':
    case 'rating-reply':
      if (ev.rating) refreshReputation(ev.rating.vendor_key);
      break;
    case 'vendor-profile':
      if (ev.profile) refreshReputation(ev.profile.vendor_key);
      break;
  }
}

function report(err) {
  if (err.status !== 401) say($('banner'), err.message);
}

// ---------------------------------------------------------------------------
// Customer: compose and publish.

function buildCompose() {
  const p = state.protocol;
  const sel = $('c-category');
  const served = p.served && p.served.length ? p.served : p.categories;
  const keep = sel.value;
  replace(sel, served.map((c) => h('option', { value: c }, c)));
  if (served.includes(keep)) sel.value = keep;
  replace($('currencies'), (p.currencies || []).map((c) => h('option', { value: c.code })));
  replace($('c-terms-list'), p.terms.map((t) => h('label', { class: 'check term' },
    h('input', { type: 'checkbox', name: 'term', value: t.name, checked: (p.default_terms || []).includes(t.name) }),
    h('span', null, t.description, ' ', h('code', { class: 'term-name' }, t.name)))));
  const lim = p.limits || {};
  if (lim.max_text) $('c-text').maxLength = lim.max_text;
  if (lim.max_quantity) $('c-quantity').max = String(lim.max_quantity);
  const today = new Date();
  today.setMinutes(today.getMinutes() - today.getTimezoneOffset());
  $('c-deliver').min = today.toISOString().slice(0, 10);
}

// parseCustom reads "name: value" lines.
function parseCustom(text) {
  const out = {};
  let n = 0;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const m = line.match(/^([^:=]+)[:=](.*)$/);
    if (!m || !m[1].trim()) throw fieldError('custom_terms', `Other terms, line ${i + 1}: write it as "name: value".`);
    out[m[1].trim()] = m[2].trim();
    n++;
  }
  return n ? out : null;
}

// composeInputs are the compose form's inputs by the API's field names.
const composeInputs = {
  category: 'c-category', path: 'c-path', text: 'c-text', quantity: 'c-quantity', max_price: 'c-price',
  currency: 'c-currency', region: 'c-region', deliver_by: 'c-deliver', expires_in: 'c-expires',
  terms: 'c-terms-list', custom_terms: 'c-custom',
};

// fieldError is an error of the page's own checks about one input, named
// by the API's field name as the API's own errors name it.
const fieldError = (field, message) => Object.assign(new Error(message), { field });

// sayAtField shows an error that names an input (x.field, one of inputs)
// next to that input, and any other in fallback. An empty x clears them.
// Every form of the page reports its errors this way.
function sayAtField(inputs, x, fallback) {
  for (const id of Object.values(inputs)) {
    const el = $(id), p = $(id + '-error');
    if (p) say(p, '');
    if (el) el.removeAttribute('aria-invalid');
  }
  say(fallback, '');
  if (!x) return;
  const id = x.field && inputs[x.field];
  const el = id && $(id);
  if (!el) {
    say(fallback, x.message);
    return;
  }
  let p = $(id + '-error');
  if (!p) {
    p = h('p', { id: id + '-error', class: 'error field-error', role: 'alert' });
    (el.closest('.field') || el.parentElement).append(p);
  }
  say(p, x.message);
  el.setAttribute('aria-invalid', 'true');
  el.setAttribute('aria-describedby', p.id);
  el.focus();
}

function readCompose() {
  const v = (id) => $(id).value.trim();
  const body = { category: v('c-category'), max_price: v('c-price'), currency: v('c-currency').toUpperCase() };
  const path = v('c-path');
  if (path) body.path = path.split('/').map((s) => s.trim()).filter(Boolean);
  const text = $('c-text').value.trim();
  if (text) body.text = text;
  const q = v('c-quantity');
  if (q) {
    const n = Number(q);
    if (!Number.isInteger(n) || n < 1) throw fieldError('quantity', 'Quantity must be a whole number, 1 or more.');
    body.quantity = n;
  }
  const region = v('c-region');
  if (region) body.region = region.toUpperCase();
  const by = v('c-deliver');
  if (by) body.deliver_by = by;
  body.expires_in = v('c-expires');
  body.terms = [...document.querySelectorAll('#c-terms-list input[name=term]:checked')].map((i) => i.value);
  const custom = parseCustom($('c-custom').value);
  if (custom) body.custom_terms = custom;
  if ($('c-pq').checked) body.post_quantum = true;
  return body;
}

$('compose').addEventListener('submit', async (e) => {
  e.preventDefault();
  const err = $('compose-error');
  sayAtField(composeInputs, null, err);
  let body;
  try {
    body = readCompose();
  } catch (x) {
    sayAtField(composeInputs, x, err);
    return;
  }
  const btn = $('publish'), bar = $('mint-bar'), label = $('mint-label');
  btn.disabled = true;
  $('mint').hidden = false;
  $('mint').dataset.state = 'minting';
  bar.value = 0;
  label.textContent = 'Computing the proof of work that lets your intent onto the network…';
  try {
    const v = await api.publish(body, (p) => {
      // The search is random: the chance of having found it by now.
      const expected = Math.max(p.expected || 1, 1);
      bar.value = Math.min(1 - Math.exp(-p.tries / expected), 0.99);
      label.textContent = `Proof of work: ${p.tries.toLocaleString()} hashes tried (about ${expected.toLocaleString()} expected)`;
    });
    bar.value = 1;
    $('mint').dataset.state = 'done';
    label.textContent = 'Published. Vendors in ' + v.category + ' see it now; their offers appear below.';
    upsertOwn(v);
    for (const id of ['c-text', 'c-path', 'c-price', 'c-custom']) $(id).value = '';
  } catch (x) {
    $('mint').hidden = true;
    sayAtField(composeInputs, x, err);
  } finally {
    btn.disabled = false;
  }
});

// ---------------------------------------------------------------------------
// Customer: own intents, offers, accept, cancel.

async function loadOwn() {
  const list = await api.call('GET', '/v1/intents');
  for (const v of list) upsertOwn(v);
  await Promise.all(list.filter((v) => v.offers || v.refused_offers).map(async (v) => {
    const offers = await api.call('GET', `/v1/intents/${encodeURIComponent(v.id)}/offers`);
    for (const o of offers) upsertOffer(o, false);
    updateOwnCard(ownCards.get(v.id), state.own.get(v.id));
  }));
}

function ownState(v) {
  return v.state === 'open' && past(v.expires) ? 'expired' : v.state;
}

function upsertOwn(v, render = true) {
  const old = state.own.get(v.id);
  state.own.set(v.id, old ? { ...old, ...v } : v);
  state.intents.set(v.id, state.own.get(v.id));
  let card = ownCards.get(v.id);
  if (!card) {
    card = makeOwnCard(v);
    ownCards.set(v.id, card);
    place($('own-intents'), card.el);
  }
  if (render || !old) updateOwnCard(card, state.own.get(v.id));
  $('own-empty').hidden = state.own.size > 0;
}

// refreshReputation fetches a vendor key's reputation again (a rating, a
// reply or a profile came) and redraws the intents with offers from it.
async function refreshReputation(key) {
  if (!key) return;
  try {
    state.reputations.set(key, await api.call('GET', `/v1/vendors/${encodeURIComponent(key)}/reputation`));
  } catch (err) {
    report(err);
    return;
  }
  for (const [intentID, offers] of state.received) {
    if ([...offers.values()].some((o) => o.vendor?.key === key)) updateOwnCard(ownCards.get(intentID), state.own.get(intentID));
  }
}

// reputationLine shows a vendor's reputation next to its offer: what this
// node verified itself, with the deals it saw apart (docs/TRUST.md).
function reputationLine(key) {
  const r = state.reputations.get(key);
  if (!r) return null;
  const title = r.profile?.description || 'Computed by your node from the ratings it verified';
  if (!r.count) return h('span', { class: 'reputation none', title }, 'no ratings yet');
  const n = r.count === 1 ? '1 rating' : `${r.count} ratings`;
  return h('span', { class: 'reputation', title },
    `★ ${r.mean.toFixed(1)}/5 · ${n} (${r.witnessed.count} seen)` + (r.replies ? ` · ${r.replies} replied` : ''));
}

function upsertOffer(o, render = true) {
  if (o.vendor_reputation) state.reputations.set(o.vendor.key, o.vendor_reputation);
  else if (o.vendor?.key && !state.reputations.has(o.vendor.key)) refreshReputation(o.vendor.key);
  let m = state.received.get(o.intent_id);
  if (!m) state.received.set(o.intent_id, (m = new Map()));
  m.set(o.id, o);
  const card = ownCards.get(o.intent_id);
  if (card && render) updateOwnCard(card, state.own.get(o.intent_id));
}

// place inserts a card so that the list stays newest first, without
// moving the cards already there (a moved card would lose its focus).
function place(list, el) {
  const t = Number(el.dataset.created) || 0;
  for (const child of list.children) {
    if ((Number(child.dataset.created) || 0) < t) {
      list.insertBefore(el, child);
      return;
    }
  }
  list.appendChild(el);
}

function makeOwnCard(v) {
  const card = {
    title: h('h3', { class: 'intent-text' }),
    badge: h('span', { class: 'badge' }),
    meta: h('p', { class: 'meta' }),
    terms: h('ul', { class: 'chips' }),
    offers: h('div', { class: 'offers' }),
    error: h('p', { class: 'error', role: 'alert', hidden: true }),
    foot: h('p', { class: 'foot' }),
    selected: '',
  };
  card.details = h('textarea', { class: 'accept-details', rows: 2, maxlength: state.protocol.limits?.max_accept_details || 1000,
    placeholder: 'Name, e-mail or phone, delivery address' });
  card.summary = h('p', { class: 'accept-summary' });
  card.panel = h('form', { class: 'accept-panel', hidden: true, onsubmit: (e) => { e.preventDefault(); acceptOffer(card, v.id); } },
    card.summary,
    h('label', null, 'Details for the vendor ', h('span', { class: 'opt' }, '(optional; sealed so that only this vendor can read them)'), card.details),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary confirm-accept' }, 'Accept this offer'),
      h('button', { type: 'button', class: 'secondary', onclick: () => { card.panel.hidden = true; card.selected = ''; } }, 'Back')));
  card.cancel = h('button', { type: 'button', class: 'danger cancel-intent', onclick: () => cancelIntent(card, v.id) }, 'Cancel intent');
  card.el = h('article', { class: 'card intent', dataset: { intent: v.id, created: String(Date.parse(v.created) || 0) } },
    h('header', { class: 'card-head' }, card.title, card.badge),
    card.meta, card.terms, card.offers, card.panel,
    h('div', { class: 'card-actions' }, card.cancel, card.error),
    card.foot);
  return card;
}

function metaLine(v) {
  const parts = [[v.category, ...(v.path || [])].join(' › ')];
  parts.push((v.quantity > 1 ? `${v.quantity} × ` : '') + 'up to ' + money(v.max_price, v.currency));
  parts.push(v.region ? 'in ' + v.region : 'anywhere');
  if (v.deliver_by) parts.push('deliver by ' + day(v.deliver_by));
  return parts.join(' · ');
}

function renderTerms(ul, v) {
  const chips = (v.terms || []).map((name) => h('li', { class: 'chip', title: state.terms.get(name) || 'A term this page does not know' }, name));
  for (const [k, val] of Object.entries(v.custom_terms || {})) chips.push(h('li', { class: 'chip custom' }, `${k}: ${val}`));
  if (!chips.length) chips.push(h('li', { class: 'chip none' }, 'no terms'));
  replace(ul, chips);
}

const stateLabels = { open: 'open', cancelled: 'cancelled', accepted: 'deal', expired: 'expired', live: 'live' };

function updateOwnCard(card, v) {
  if (!card || !v) return;
  const st = ownState(v);
  card.el.dataset.state = st;
  replace(card.title, v.text || '(no description)');
  card.badge.className = 'badge state-' + st;
  card.badge.textContent = stateLabels[st] || st;
  replace(card.meta, metaLine(v), st === 'open' ? ' · open ' + ago(v.expires).replace(/^in /, 'for ') : '');
  renderTerms(card.terms, v);
  renderOffers(card, v, st);
  card.cancel.hidden = st !== 'open';
  if (st !== 'open') card.panel.hidden = true;
  replace(card.foot, `Published ${when(v.created)} · ${v.work}-bit proof of work · `,
    h('span', { title: v.id }, 'id ' + short(v.id)), v.post_quantum ? ' · post-quantum' : '',
    ...[[v.send, 'intent'], [v.cancel_send, 'cancel'], [v.accept_send, 'accept']]
      .filter(([x]) => x).map(([x, what]) => [' · ', sendBadge(x, what)]).flat());
}

function renderOffers(card, v, st) {
  const all = [...(state.received.get(v.id)?.values() ?? [])];
  const refused = all.filter((o) => o.status === 'refused');
  const offers = all.filter((o) => o.status !== 'refused');
  offers.sort((a, b) => (a.price_minor - b.price_minor) || a.received.localeCompare(b.received));
  const open = (o) => o.status === 'valid' && !past(o.valid_until);
  const prices = offers.filter(open).map((o) => o.price_minor);
  const best = prices.length > 1 ? Math.min(...prices) : -1;
  const nodes = [];
  if (!offers.length) {
    nodes.push(h('p', { class: 'waiting' }, st === 'open' ? 'Waiting for offers… they appear here as vendors answer.' : 'No offers.'));
  } else {
    const head = h('thead', null, h('tr', null, ['Vendor', 'Price', 'Your terms', 'Valid until', 'Status', ''].map((t) => h('th', { scope: 'col' }, t))));
    const rows = offers.map((o) => {
      const expired = o.status === 'valid' && past(o.valid_until);
      const status = o.status === 'accepted' ? 'accepted' : v.accepted_offer ? 'not chosen'
        : expired ? 'expired' : o.status === 'valid' ? 'open' : o.status;
      const acceptable = st === 'open' && status === 'open' && o.terms_ok;
      const url = safeURL(o.vendor?.url || '');
      return h('tr', { class: 'offer' + (o.price_minor === best && status === 'open' ? ' best' : ''), dataset: { offer: o.id, vendor: o.vendor?.name || '', status } },
        h('td', { class: 'vendor', 'data-label': 'Vendor' },
          h('strong', null, o.vendor?.name || 'Unnamed vendor'),
          url ? [' ', h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow' }, new URL(url).host)] : null,
          o.text ? h('span', { class: 'offer-text' }, o.text) : null,
          o.vendor?.key ? h('span', { class: 'key', title: 'Vendor key ' + o.vendor.key }, 'key ' + short(o.vendor.key)) : null,
          o.vendor?.key ? reputationLine(o.vendor.key) : null),
        h('td', { class: 'price', 'data-label': 'Price' }, money(o.price, o.currency),
          o.price_minor === best && status === 'open' ? h('span', { class: 'tag best' }, 'lowest') : null),
        h('td', { class: 'terms', 'data-label': 'Your terms' }, o.terms_ok
          ? h('span', { class: 'ok', title: 'The vendor signed a commitment to exactly your terms' }, '✓ verified')
          : h('span', { class: 'warn', title: 'The offer does not commit to your terms' }, '✗ not committed')),
        h('td', { class: 'valid', 'data-label': 'Valid until' }, when(o.valid_until), h('span', { class: 'sub' }, ago(o.valid_until))),
        h('td', { class: 'st', 'data-label': 'Status' }, h('span', { class: 'badge state-' + status.replace(' ', '-') }, status)),
        h('td', { class: 'act' }, acceptable
          ? [h('button', { type: 'button', class: 'primary accept', onclick: () => chooseOffer(card, o) }, 'Accept…'), ' ',
            h('button', { type: 'button', class: 'counter', onclick: () => openThread(o.id).catch(report) }, 'Negotiate…')]
          : v.accepted_offer === o.id ? h('span', { class: 'ok' }, '✓ your deal') : null));
    });
    nodes.push(h('div', { class: 'table-wrap' }, h('table', { class: 'table offers-table' }, head, h('tbody', null, rows))));
  }
  if (refused.length) {
    nodes.push(h('details', { class: 'refused' },
      h('summary', null, refused.length === 1 ? '1 offer was refused: it broke your terms or your ceiling (kept as evidence)'
        : `${refused.length} offers were refused: they broke your terms or your ceiling (kept as evidence)`),
      h('ul', null, refused.map((o) => h('li', null, (o.vendor?.name || 'unknown vendor') + ': ' + (o.reason || 'no reason given'))))));
  }
  replace(card.offers, nodes);
}

function chooseOffer(card, o) {
  card.selected = o.id;
  replace(card.summary, 'Accept ', h('strong', null, money(o.price, o.currency)), ' from ', h('strong', null, o.vendor?.name || 'an unnamed vendor'),
    '? The vendor learns of it at once; the other offers lapse.');
  card.panel.hidden = false;
  say(card.error, '');
  card.details.focus();
}

async function acceptOffer(card, intentID) {
  if (!card.selected) return;
  const btn = card.panel.querySelector('.confirm-accept');
  btn.disabled = true;
  say(card.error, '');
  try {
    const details = card.details.value.trim();
    const d = await api.call('POST', `/v1/intents/${encodeURIComponent(intentID)}/offers/${encodeURIComponent(card.selected)}/accept`,
      details ? { details } : {});
    card.panel.hidden = true;
    card.details.value = '';
    upsertDeal(d);
    upsertOffer(d.offer, false);
    upsertOwn(d.intent);
  } catch (x) {
    say(card.error, x.message);
  } finally {
    btn.disabled = false;
  }
}

async function cancelIntent(card, id) {
  if (!card.armed) {
    card.armed = true;
    card.cancel.textContent = 'Cancel it: click again';
    setTimeout(() => {
      card.armed = false;
      card.cancel.textContent = 'Cancel intent';
    }, 5000);
    return;
  }
  card.cancel.disabled = true;
  say(card.error, '');
  try {
    upsertOwn(await api.call('POST', `/v1/intents/${encodeURIComponent(id)}/cancel`));
  } catch (x) {
    say(card.error, x.message);
  } finally {
    card.cancel.disabled = false;
  }
}

// ---------------------------------------------------------------------------
// Deals (both roles).

async function loadDeals() {
  const list = await api.call('GET', '/v1/deals');
  state.deals.clear();
  for (const d of list) state.deals.set(d.role + ':' + d.intent_id, d);
  renderDeals();
}

function upsertDeal(d) {
  state.deals.set(d.role + ':' + d.intent_id, d);
  renderDeals();
}

function renderDeals() {
  const deals = [...state.deals.values()].sort((a, b) => b.closed.localeCompare(a.closed));
  for (const role of ['customer', 'vendor']) {
    const mine = deals.filter((d) => d.role === role);
    replace($(role + '-deals'), mine.map((d) => dealCard(d)));
    $(role + '-deals-empty').hidden = mine.length > 0;
  }
  feedCards.forEach((c, id) => updateFeedCard(c, state.feed.get(id)));
}

function dealCard(d) {
  const o = d.offer || {}, v = d.intent || {};
  const who = o.vendor?.name || 'an unnamed vendor';
  return h('article', { class: 'card deal', dataset: { intent: d.intent_id, offer: d.offer_id, role: d.role } },
    h('header', { class: 'card-head' }, h('h3', { class: 'intent-text' }, v.text || '(no description)'), h('span', { class: 'badge state-accepted' }, 'deal')),
    h('p', { class: 'deal-line' }, h('strong', null, money(o.price, o.currency)),
      d.role === 'customer' ? [' from ', h('strong', { class: 'deal-vendor' }, who)] : ' to an anonymous customer',
      ' · closed ' + when(d.closed)),
    o.text ? h('p', { class: 'offer-text' }, o.text) : null,
    h('p', { class: 'meta' }, metaLine(v)),
    d.role === 'vendor'
      ? h('div', { class: 'details' }, h('span', { class: 'label' }, 'The customer\'s details (sealed to you): '),
        d.details ? h('pre', { class: 'deal-details' }, d.details) : h('span', { class: 'sub' }, 'none sent'))
      : h('p', { class: 'sub' }, o.terms_ok ? '✓ The vendor signed a commitment to your terms.' : 'The offer does not commit to your terms.'),
    h('p', { class: 'foot' }, h('span', { title: d.intent_id }, 'intent ' + short(d.intent_id)), ' · ', h('span', { title: d.offer_id }, 'offer ' + short(d.offer_id))));
}

// ---------------------------------------------------------------------------
// Vendor: filter.

function exponent(code) {
  const c = (state.protocol.currencies || []).find((x) => x.code === code);
  return c ? c.exponent : 2;
}

function formatMinor(n, exp) {
  if (!exp) return String(n);
  const s = String(n).padStart(exp + 1, '0');
  return s.slice(0, -exp) + '.' + s.slice(-exp);
}

// parseMajor reads an amount in major units of currency ('' for "some
// currency with 2 decimals"); too many decimals are said as intent's
// ParseAmount says them (intent/amount.go).
function parseMajor(s, currency) {
  const exp = exponent(currency);
  const m = s.match(/^(\d+)(?:\.(\d+))?$/);
  if (!m) throw new Error(`"${s}" is not an amount: use digits and at most one '.', such as 100.00.`);
  const frac = m[2] || '';
  if (frac.length > exp) {
    const rule = !currency ? `an amount has at most ${decimals(exp)}` : exp === 0 ? `${currency} has no decimals` : `${currency} has at most ${decimals(exp)}`;
    throw new Error(`${s} has ${decimals(frac.length)}; ${rule}.`);
  }
  return Number(m[1] + frac.padEnd(exp, '0'));
}

const decimals = (n) => (n === 1 ? '1 decimal' : `${n} decimals`);

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

function buildFilterForm() {
  const p = state.protocol;
  const served = p.served && p.served.length ? p.served : p.categories;
  replace($('f-categories-list'), served.map((c) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'fcat', value: c }), h('span', null, c))));
}

// minCurrency is the currency of the filter's minimum price: the one
// currency the vendor takes. A minimum price needs exactly one, which the
// API says next to the field; else '' reads the amount with 2 decimals, so
// that a mistyped amount is told first, as the CLI does.
function minCurrency(currencies) {
  return currencies && currencies.length === 1 ? currencies[0] : '';
}

function fillFilter(f) {
  for (const box of document.querySelectorAll('#f-categories-list input')) box.checked = (f.categories || []).includes(box.value);
  $('f-path').value = (f.path || []).join('/');
  $('f-keywords').value = (f.keywords || []).join(', ');
  $('f-regions').value = (f.regions || []).join(', ');
  $('f-currencies').value = (f.currencies || []).join(', ');
  const exp = exponent(minCurrency(f.currencies));
  $('f-min').value = f.min_price ? formatMinor(f.min_price, exp) : '';
  const parts = [(f.categories && f.categories.length ? f.categories : state.protocol.served || []).join(', ') || 'every category'];
  if (f.path && f.path.length) parts.push(f.path.join(' › '));
  if (f.keywords && f.keywords.length) parts.push('keywords: ' + f.keywords.join(', '));
  if (f.regions && f.regions.length) parts.push('regions: ' + f.regions.join(', '));
  if (f.currencies && f.currencies.length) parts.push(f.currencies.join(', '));
  if (f.min_price) parts.push('ceiling ≥ ' + formatMinor(f.min_price, exp));
  $('filter-summary').textContent = parts.join(' · ');
}

async function loadFilter() {
  fillFilter(await api.call('GET', '/v1/vendor/filter'));
}

// filterInputs are the filter form's inputs by the API's field names (the
// API names a bad region or currency of the lists by the singular).
const filterInputs = {
  categories: 'f-categories-list', path: 'f-path', keywords: 'f-keywords', regions: 'f-regions', region: 'f-regions',
  currencies: 'f-currencies', currency: 'f-currencies', min_price: 'f-min',
};

function minPrice(currencies) {
  const min = $('f-min').value.trim();
  if (!min) return 0;
  try {
    return parseMajor(min, minCurrency(currencies));
  } catch (x) {
    throw fieldError('min_price', x.message);
  }
}

$('filter').addEventListener('submit', async (e) => {
  e.preventDefault();
  const err = $('filter-error');
  sayAtField(filterInputs, null, err);
  $('filter-saved').hidden = true;
  try {
    const currencies = list($('f-currencies').value.toUpperCase());
    const f = {
      categories: [...document.querySelectorAll('#f-categories-list input:checked')].map((b) => b.value),
      path: $('f-path').value.split('/').map((s) => s.trim()).filter(Boolean),
      keywords: list($('f-keywords').value),
      regions: list($('f-regions').value.toUpperCase()),
      currencies,
      min_price: minPrice(currencies),
    };
    $('filter-save').disabled = true;
    fillFilter(await api.call('PUT', '/v1/vendor/filter', f));
    $('filter-saved').hidden = false;
    setTimeout(() => { $('filter-saved').hidden = true; }, 3000);
    await loadFeed();
  } catch (x) {
    sayAtField(filterInputs, x, err);
  } finally {
    $('filter-save').disabled = false;
  }
});

// ---------------------------------------------------------------------------
// Vendor: the feed and the offer form.

async function loadFeed() {
  const list = await api.call('GET', '/v1/vendor/feed');
  const ids = new Set(list.map((v) => v.id));
  for (const [id, card] of feedCards) {
    if (!ids.has(id)) {
      card.el.remove();
      feedCards.delete(id);
      state.feed.delete(id);
    }
  }
  for (const v of list) upsertFeed(v);
  $('feed-empty').hidden = state.feed.size > 0;
}

function feedState(v) {
  if (v.state === 'cancelled') return 'cancelled';
  if (v.state === 'accepted') return 'closed';
  if (past(v.expires)) return 'expired';
  return 'live';
}

function upsertFeed(v) {
  const old = state.feed.get(v.id);
  state.feed.set(v.id, old ? { ...old, ...v } : v);
  state.intents.set(v.id, state.feed.get(v.id));
  let card = feedCards.get(v.id);
  if (!card) {
    card = makeFeedCard(v);
    feedCards.set(v.id, card);
    place($('feed'), card.el);
  }
  updateFeedCard(card, state.feed.get(v.id));
  $('feed-empty').hidden = state.feed.size > 0;
}

function makeFeedCard(v) {
  const card = {
    title: h('h3', { class: 'intent-text' }),
    badge: h('span', { class: 'badge' }),
    meta: h('p', { class: 'meta' }),
    terms: h('ul', { class: 'chips' }),
    sent: h('p', { class: 'sent-status' }),
    error: h('p', { class: 'error o-error', role: 'alert', hidden: true }),
  };
  const uid = 'o-' + v.id.slice(0, 12);
  card.price = h('input', { id: uid + '-price', class: 'o-price grow', inputmode: 'decimal', autocomplete: 'off', value: v.max_price });
  card.text = h('textarea', { id: uid + '-text', class: 'o-text', rows: 2, maxlength: state.protocol.limits?.max_text || 2000,
    placeholder: 'What you offer: model, condition, delivery…' });
  card.valid = h('select', { id: uid + '-valid', class: 'o-valid' },
    [['1h', '1 hour'], ['24h', '1 day'], ['72h', '3 days'], ['7d', '1 week']].map(([val, label]) =>
      h('option', { value: val, selected: val === '24h' }, label)));
  card.vendor = h('input', { id: uid + '-vendor', class: 'o-vendor', autocomplete: 'organization', maxlength: 64,
    placeholder: state.node?.vendor?.name || 'the name set in the daemon' });
  card.send = h('button', { type: 'submit', class: 'primary send-offer' }, 'Send offer');
  // The offer form's inputs by the API's field names; the currency is the
  // intent's, so an error about it belongs to the price.
  card.inputs = { price: uid + '-price', currency: uid + '-price', valid_for: uid + '-valid', text: uid + '-text', vendor_name: uid + '-vendor' };
  card.form = h('form', { class: 'offer-form', hidden: true, novalidate: true, onsubmit: (e) => { e.preventDefault(); sendOffer(card, v.id); } },
    h('div', { class: 'grid' },
      h('div', { class: 'field' }, h('label', { for: uid + '-price' }, 'Your price ', h('span', { class: 'opt' }, `(at most ${money(v.max_price, v.currency)})`)),
        h('div', { class: 'row' }, card.price, h('span', { class: 'unit' }, v.currency))),
      h('div', { class: 'field' }, h('label', { for: uid + '-valid' }, 'Offer holds for'), card.valid),
      h('div', { class: 'field wide' }, h('label', { for: uid + '-text' }, 'Message'), card.text),
      h('div', { class: 'field' }, h('label', { for: uid + '-vendor' }, 'Sign as ', h('span', { class: 'opt' }, '(optional)')), card.vendor)),
    h('p', { class: 'hint' }, 'Your offer is sealed so only this customer can read it, and signed as a commitment to the terms above.'),
    h('div', { class: 'actions' }, card.send,
      h('button', { type: 'button', class: 'secondary', onclick: () => { card.form.hidden = true; card.toggle.hidden = false; } }, 'Close'),
      card.error));
  card.toggle = h('button', { type: 'button', class: 'primary make-offer', onclick: () => {
    card.form.hidden = false;
    card.toggle.hidden = true;
    card.price.focus();
  } }, 'Make an offer');
  card.el = h('article', { class: 'card feed-item', dataset: { intent: v.id, created: String(Date.parse(v.created) || 0) } },
    h('header', { class: 'card-head' }, card.title, card.badge),
    card.meta, card.terms, card.sent, card.toggle, card.form,
    h('p', { class: 'foot' }, `Seen ${when(v.created)} · ${v.work}-bit proof of work · `, h('span', { title: v.id }, 'id ' + short(v.id))));
  return card;
}

function updateFeedCard(card, v) {
  if (!card || !v) return;
  const offers = [...state.sent.values()].filter((o) => o.intent_id === v.id);
  const won = offers.find((o) => o.status === 'accepted');
  const st = won ? 'won' : feedState(v);
  card.el.dataset.state = st;
  replace(card.title, v.text || '(no description)');
  card.badge.className = 'badge state-' + st;
  card.badge.textContent = { won: 'accepted', live: 'live', cancelled: 'cancelled', expired: 'expired', closed: 'closed: another offer was accepted' }[st];
  replace(card.meta, metaLine(v), st === 'live' ? ' · open ' + ago(v.expires).replace(/^in /, 'for ') : '');
  renderTerms(card.terms, v);
  if (won) replace(card.sent, h('span', { class: 'ok' }, `✓ The customer accepted your offer of ${money(won.price, won.currency)}.`));
  else if (st === 'closed' && offers.length) replace(card.sent, 'The customer accepted another offer; yours lapsed.');
  else if (offers.length) {
    const last = offers.sort((a, b) => (a.created || a.received).localeCompare(b.created || b.received)).at(-1);
    replace(card.sent, offers.length === 1 ? 'You offered ' : `You sent ${offers.length} offers; the last: `, h('strong', null, money(last.price, last.currency)), '.');
  } else replace(card.sent);
  card.sent.hidden = !won && !offers.length;
  const open = st === 'live';
  if (!open) card.form.hidden = true;
  card.toggle.hidden = !open || !card.form.hidden;
  card.toggle.textContent = offers.length ? 'Make another offer' : 'Make an offer';
}

async function sendOffer(card, id) {
  const v = state.feed.get(id);
  sayAtField(card.inputs, null, card.error);
  const body = { intent_id: id, price: card.price.value.trim(), currency: v.currency, valid_for: card.valid.value };
  const text = card.text.value.trim();
  if (text) body.text = text;
  const name = card.vendor.value.trim();
  if (name) body.vendor_name = name;
  card.send.disabled = true;
  try {
    const o = await api.call('POST', '/v1/vendor/offers', body);
    card.form.hidden = true;
    card.text.value = '';
    upsertSent(o);
  } catch (x) {
    sayAtField(card.inputs, x, card.error);
  } finally {
    card.send.disabled = false;
  }
}

// ---------------------------------------------------------------------------
// Vendor: offers sent.

async function loadSent() {
  const list = await api.call('GET', '/v1/vendor/offers');
  state.sent.clear();
  for (const o of list) state.sent.set(o.id, o);
  renderSent();
  feedCards.forEach((c, id) => updateFeedCard(c, state.feed.get(id)));
}

// lapseSent shows this node's pending offers on a closed intent as lapsed,
// as the node has marked them.
function lapseSent(intentID) {
  let changed = false;
  for (const o of state.sent.values()) {
    if (o.intent_id === intentID && o.status === 'valid') {
      state.sent.set(o.id, { ...o, status: 'lapsed' });
      changed = true;
    }
  }
  if (changed) {
    renderSent();
    updateFeedCard(feedCards.get(intentID), state.feed.get(intentID));
  }
}

function upsertSent(o) {
  state.sent.set(o.id, o);
  renderSent();
  updateFeedCard(feedCards.get(o.intent_id), state.feed.get(o.intent_id));
}

function renderSent() {
  const offers = [...state.sent.values()].sort((a, b) => (b.created || b.received).localeCompare(a.created || a.received));
  const table = $('sent');
  table.hidden = !offers.length;
  $('sent-empty').hidden = offers.length > 0;
  replace(table.tBodies[0], offers.map((o) => {
    const v = state.intents.get(o.intent_id) || [...state.deals.values()].find((d) => d.intent_id === o.intent_id)?.intent;
    const status = ['accepted', 'refused', 'lapsed'].includes(o.status) ? o.status
      : past(o.valid_until) ? 'expired' : 'pending';
    return h('tr', { class: 'sent', dataset: { offer: o.id, intent: o.intent_id, status } },
      h('td', { 'data-label': 'Intent' }, v ? (v.text || '(no description)') : h('span', { title: o.intent_id }, 'intent ' + short(o.intent_id))),
      h('td', { 'data-label': 'Price' }, money(o.price, o.currency)),
      h('td', { 'data-label': 'Sent' }, when(o.created || o.received)),
      h('td', { 'data-label': 'Valid until' }, when(o.valid_until)),
      h('td', { 'data-label': 'Status' }, h('span', { class: 'badge state-' + status }, status),
        o.send ? [' ', sendBadge(o.send, 'offer')] : null));
  }));
}

// ---------------------------------------------------------------------------
// Start.

initThreads((o) => upsertOffer(o)); // a revised offer is listed, and accepted, like any offer

if (api.auth.get()) {
  connect().catch((err) => {
    if (err.status !== 401) showLogin(err.message);
  });
} else {
  showLogin('');
}
