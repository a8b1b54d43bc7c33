// Negotiation threads: per offer, the customer's counters and the vendor's
// replies in order, and the form of whoever's turn it is. Messages are
// written by the other party, so they go on the page as text only.

import { h, replace, say, when, short, money } from './dom.js';
import * as api from './api.js';

const cards = new Map(); // thread root -> { el, view }
let onRevised = () => {};

// initThreads sets what happens to a revised offer (the page lists it with
// the other offers, where it can be accepted).
export function initThreads(revised) { onRevised = revised; }

// loadThreads shows the threads with messages on the given intents.
export async function loadThreads(intentIDs) {
  await Promise.all([...new Set(intentIDs)].map(async (id) => {
    const list = await api.call('GET', `/v1/intents/${encodeURIComponent(id)}/threads`);
    for (const tr of list) show(tr);
  }));
}

// openThread shows the thread on an offer, with no message yet if it has
// none, and puts the focus in its form.
export async function openThread(offerID) {
  const tr = await api.call('GET', `/v1/offers/${encodeURIComponent(offerID)}/thread`);
  const card = show(tr);
  card.el.scrollIntoView({ block: 'nearest' });
  card.el.querySelector('input, textarea')?.focus();
}

// refreshIntent reloads the threads shown for an intent whose state
// changed (accepted, cancelled, closed): they no longer take messages.
export async function refreshIntent(intentID) {
  if ([...cards.values()].some((c) => c.view.intent_id === intentID)) await loadThreads([intentID]);
}

// onThread takes a thread event: the thread after its new message.
export function onThread(ev) {
  if (ev.thread) show(ev.thread);
}

function container(tr) {
  return document.getElementById(tr.role === 'vendor' ? 'vendor-threads' : 'threads');
}

function show(tr) {
  let card = cards.get(tr.root);
  if (!card) {
    card = { el: h('article', { class: 'card thread', dataset: { root: tr.root, intent: tr.intent_id } }) };
    cards.set(tr.root, card);
    const list = container(tr);
    list.prepend(card.el);
    const empty = document.getElementById(list.id + '-empty');
    if (empty) empty.hidden = true;
  }
  card.view = tr;
  for (const m of tr.messages) if (m.offer && tr.role === 'customer') onRevised(m.offer);
  render(card);
  return card;
}

function render(card) {
  const tr = card.view;
  const o = tr.offer;
  const cur = o.currency;
  const vendor = o.vendor?.name || 'an unnamed vendor';
  const head = tr.role === 'customer'
    ? h('h3', null, 'Offer from ', h('strong', null, vendor), ': ', money(o.price, cur))
    : h('h3', null, 'Your offer of ', h('strong', null, money(o.price, cur)), ' to intent ', h('span', { title: tr.intent_id }, short(tr.intent_id)));
  const items = tr.messages.map((m) => {
    const who = m.from === tr.role ? 'You' : m.from === 'vendor' ? vendor : 'The customer';
    return h('li', { class: 'msg from-' + m.from, dataset: { seq: String(m.seq), id: m.id } },
      h('span', { class: 'who' }, who),
      m.price ? h('span', { class: 'm-price' }, ' would pay ', h('strong', null, money(m.price, cur))) : null,
      m.offer ? h('span', { class: 'm-offer' }, ' revised offer ', h('strong', null, money(m.offer.price, m.offer.currency)),
        m.offer.text ? ' (' + m.offer.text + ')' : null, ' ', h('span', { class: 'badge state-' + m.offer.status }, m.offer.status)) : null,
      (m.terms || []).map((t) => h('span', { class: 'tag' }, '+' + t)),
      Object.entries(m.custom_terms || {}).map(([k, v]) => h('span', { class: 'tag' }, `+${k}: ${v}`)),
      m.text ? h('q', { class: 'm-text' }, m.text) : null,
      h('span', { class: 'sub' }, ' ', when(m.created)));
  });
  const parts = [head, items.length ? h('ol', { class: 'messages' }, items) : h('p', { class: 'waiting' }, 'No messages yet.')];
  const mine = tr.open && tr.turn === tr.role;
  if (mine) parts.push(form(card));
  else parts.push(h('p', { class: 'thread-state' }, !tr.open ? 'This negotiation is closed: the intent is no longer open, or all 8 messages are used.'
    : tr.role === 'customer' ? 'Waiting for the vendor’s answer.' : 'Waiting for the customer.'));
  replace(card.el, parts);
  card.el.dataset.turn = tr.turn;
  card.el.dataset.open = String(tr.open);
  card.el.dataset.count = String(tr.messages.length);
}

function form(card) {
  const tr = card.view;
  const uid = 't-' + short(tr.root);
  const customer = tr.role === 'customer';
  const price = h('input', { id: uid + '-price', class: 't-price', inputmode: 'decimal', placeholder: customer ? 'e.g. 950' : 'revised price', autocomplete: 'off' });
  const offerText = customer ? null : h('input', { id: uid + '-offer-text', class: 't-offer-text', maxlength: '1024', placeholder: 'what the revised offer includes' });
  const text = h('textarea', { id: uid + '-text', class: 't-text', rows: '2', maxlength: '1024', placeholder: customer ? 'a question or what you would like' : 'your answer' });
  const err = h('p', { class: 'error', role: 'alert', hidden: true });
  const send = h('button', { type: 'submit', class: 'primary ' + (customer ? 'send-counter' : 'send-reply') }, customer ? 'Send counter' : 'Send answer');
  return h('form', { class: 'thread-form', onsubmit: async (e) => {
    e.preventDefault();
    send.disabled = true;
    say(err, '');
    const body = {};
    if (price.value.trim()) body.price = price.value.trim();
    if (offerText?.value.trim()) body.offer_text = offerText.value.trim();
    if (text.value.trim()) body.text = text.value.trim();
    try {
      const path = `/v1/offers/${encodeURIComponent(tr.root)}/thread/${customer ? 'counter' : 'reply'}`;
      show(await api.call('POST', path, body));
    } catch (x) {
      say(err, x.message);
      send.disabled = false;
    }
  } },
  h('div', { class: 'field' }, h('label', { for: uid + '-price' }, customer ? 'Your price ' : 'Revised price ', h('span', { class: 'opt' }, `(${tr.offer.currency}, optional)`)), price),
  offerText ? h('div', { class: 'field' }, h('label', { for: uid + '-offer-text' }, 'Revised offer text ', h('span', { class: 'opt' }, '(optional)')), offerText) : null,
  h('div', { class: 'field' }, h('label', { for: uid + '-text' }, customer ? 'Message to the vendor' : 'Message to the customer'), text),
  h('p', { class: 'hint' }, customer ? 'Sealed to this vendor: no one else can read it or tell it is yours.' : 'Sealed to the customer. A price makes a revised offer they can accept.'),
  err, send);
}
