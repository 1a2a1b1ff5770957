/*
 * The inside of a sandbox Element: its inputs, live validation and brand
 * detection, and the one place card data is read — sent from here, same
 * origin as the sandbox, to /v1/payment_methods or /v1/tokens. The merchant
 * page only ever sees what Stripe.js shows it: change events and ids.
 */
(function () {
  'use strict';
  var cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  var parentOrigin = cfg.parentOrigin;
  var type = cfg.type;
  var root = document.getElementById('root');

  function post(kind, payload, rid) { parent.postMessage({ __pbjs: cfg.id, type: kind, rid: rid, payload: payload }, parentOrigin); }

  // Appearance: the theme and variables as CSS custom properties.
  var themes = {
    stripe: { colorPrimary: '#635bff', colorBackground: '#ffffff', colorText: '#30313d', colorDanger: '#df1b41', borderColor: '#e6e6e6' },
    night: { colorPrimary: '#0570de', colorBackground: '#30313d', colorText: '#ffffff', colorDanger: '#ff6b6b', borderColor: '#424353' },
    flat: { colorPrimary: '#0570de', colorBackground: '#f6f8fa', colorText: '#30313d', colorDanger: '#df1b41', borderColor: '#f6f8fa' },
  };
  function applyAppearance(a) {
    a = a || {};
    var t = themes[a.theme] || themes.stripe;
    var v = a.variables || {};
    var s = document.documentElement.style;
    s.setProperty('--primary', v.colorPrimary || t.colorPrimary);
    s.setProperty('--bg', v.colorBackground || t.colorBackground);
    s.setProperty('--text', v.colorText || t.colorText);
    s.setProperty('--danger', v.colorDanger || t.colorDanger);
    s.setProperty('--border', t.borderColor);
    s.setProperty('--radius', v.borderRadius || '5px');
    s.setProperty('--font', v.fontFamily || '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif');
    s.setProperty('--space', v.spacingUnit || '4px');
    var style = cfg.style && cfg.style.base;
    if (style && style.color) s.setProperty('--text', style.color);
    if (style && style.fontSize) s.setProperty('--size', style.fontSize);
  }
  applyAppearance(cfg.appearance);

  // Brands by number prefix, as Stripe.js reports them in change events.
  function brandOf(n) {
    if (/^4/.test(n)) return 'visa';
    if (/^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))/.test(n)) return 'mastercard';
    if (/^3[47]/.test(n)) return 'amex';
    if (/^(6011|65|64[4-9])/.test(n)) return 'discover';
    if (/^3(0[0-5]|[689])/.test(n)) return 'diners';
    if (/^35/.test(n)) return 'jcb';
    if (/^62/.test(n)) return 'unionpay';
    return 'unknown';
  }
  function luhn(n) {
    var sum = 0;
    for (var i = 0; i < n.length; i++) {
      var d = +n[n.length - 1 - i];
      if (i % 2) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }
  var digits = function (s) { return String(s || '').replace(/\D/g, ''); };

  var FIELDS = {
    number: { label: 'Card number', placeholder: cfg.split ? 'Card number' : (type === 'payment' ? '1234 1234 1234 1234' : 'Card number'), mode: 'numeric', auto: 'cc-number' },
    expiry: { label: 'Expiration date', placeholder: 'MM / YY', mode: 'numeric', auto: 'cc-exp' },
    cvc: { label: 'Security code', placeholder: 'CVC', mode: 'numeric', auto: 'cc-csc' },
    postal: { label: 'ZIP', placeholder: 'ZIP', mode: 'text', auto: 'postal-code' },
    email: { label: 'Email', placeholder: '', mode: 'email', auto: 'email' },
    name: { label: 'Full name', placeholder: '', mode: 'text', auto: 'name' },
    line1: { label: 'Address', placeholder: '', mode: 'text', auto: 'address-line1' },
    city: { label: 'City', placeholder: '', mode: 'text', auto: 'address-level2' },
    postal_code: { label: 'ZIP', placeholder: '', mode: 'text', auto: 'postal-code' },
  };
  var layout = {
    card: ['number', 'expiry', 'cvc'].concat(cfg.options && cfg.options.hidePostalCode === false ? ['postal'] : []),
    cardNumber: ['number'], cardExpiry: ['expiry'], cardCvc: ['cvc'],
    payment: ['number', 'expiry', 'cvc'],
    address: ['name', 'line1', 'city', 'postal_code'],
    linkAuthentication: ['email'],
  }[type] || [];
  // The Payment Element and the address form show labels above their fields; the Card Element only placeholders.
  var labelled = type === 'payment' || type === 'address' || type === 'linkAuthentication';
  var inputs = {};
  var row = document.createElement('div');
  row.className = labelled ? 'grid' : 'row';
  layout.forEach(function (name) {
    var f = FIELDS[name];
    var wrap = document.createElement(labelled ? 'label' : 'span');
    wrap.className = 'field f-' + name;
    if (labelled) { var l = document.createElement('span'); l.className = 'label'; l.textContent = f.label; wrap.appendChild(l); }
    var input = document.createElement('input');
    input.name = name;
    input.setAttribute('inputmode', f.mode);
    input.setAttribute('autocomplete', f.auto);
    input.setAttribute('aria-label', f.label);
    input.placeholder = labelled && name === 'number' ? '1234 1234 1234 1234' : labelled ? (name === 'expiry' ? 'MM / YY' : name === 'cvc' ? 'CVC' : '') : f.placeholder;
    if (cfg.options && cfg.options.disabled) input.disabled = true;
    wrap.appendChild(input);
    row.appendChild(wrap);
    inputs[name] = input;
  });
  if (type === 'payment') {
    var tab = document.createElement('div');
    tab.className = 'tab';
    tab.textContent = 'Card';
    root.appendChild(tab);
  }
  root.appendChild(row);
  var errorBox = document.createElement('div');
  errorBox.className = 'error';
  errorBox.setAttribute('role', 'alert');
  root.appendChild(errorBox);
  if (type === 'linkAuthentication' && cfg.options && cfg.options.defaultValues && cfg.options.defaultValues.email) inputs.email.value = cfg.options.defaultValues.email;

  // Formatting as the payer types: groups of four (amex 4-6-5), MM / YY.
  function format(name) {
    var el = inputs[name];
    if (name === 'number') {
      var n = digits(el.value).slice(0, 19);
      var groups = brandOf(n) === 'amex' ? [4, 6, 5] : [4, 4, 4, 4, 3];
      var out = []; var i = 0;
      groups.forEach(function (g) { if (i < n.length) { out.push(n.slice(i, i + g)); i += g; } });
      el.value = out.join(' ');
    } else if (name === 'expiry') {
      var d = digits(el.value).slice(0, 4);
      el.value = d.length > 2 ? d.slice(0, 2) + ' / ' + d.slice(2) : d;
    } else if (name === 'cvc') {
      el.value = digits(el.value).slice(0, 4);
    }
  }

  // The state of each field: empty, complete, or the error Stripe.js would report.
  function fieldState(name) {
    var v = inputs[name].value.trim();
    if (!v) return { empty: true, complete: false };
    if (name === 'number') {
      var n = digits(v);
      if (n.length < 13 || (brandOf(n) === 'amex' ? n.length < 15 : n.length < 16 && brandOf(n) !== 'diners')) return { empty: false, complete: false, incomplete: { code: 'incomplete_number', message: 'Your card number is incomplete.' } };
      if (!luhn(n)) return { empty: false, complete: false, error: { code: 'invalid_number', message: 'Your card number is invalid.' } };
      return { empty: false, complete: true };
    }
    if (name === 'expiry') {
      var d = digits(v);
      if (d.length < 4) return { empty: false, complete: false, incomplete: { code: 'incomplete_expiry', message: "Your card's expiration date is incomplete." } };
      var m = +d.slice(0, 2); var y = 2000 + +d.slice(2, 4);
      if (m < 1 || m > 12) return { empty: false, complete: false, error: { code: 'invalid_expiry_month', message: "Your card's expiration date is invalid." } };
      var now = new Date();
      if (y < now.getFullYear() || (y === now.getFullYear() && m < now.getMonth() + 1)) return { empty: false, complete: false, error: { code: 'invalid_expiry_year_past', message: "Your card's expiration year is in the past." } };
      return { empty: false, complete: true };
    }
    if (name === 'cvc') {
      var c = digits(v);
      if (c.length < 3) return { empty: false, complete: false, incomplete: { code: 'incomplete_cvc', message: "Your card's security code is incomplete." } };
      return { empty: false, complete: true };
    }
    if (name === 'email') return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? { empty: false, complete: true } : { empty: false, complete: false, incomplete: { code: 'incomplete_email', message: 'Your email is incomplete.' } };
    return { empty: false, complete: true };
  }

  function state(strict) {
    var all = layout.map(function (n) { return [n, fieldState(n)]; });
    var empty = all.every(function (s) { return s[1].empty; });
    var complete = all.every(function (s) { return s[1].complete; });
    var bad = all.filter(function (s) { return s[1].error || (strict && s[1].incomplete) || (strict && s[1].empty); })[0];
    var error;
    if (bad) {
      var e = bad[1].error || bad[1].incomplete || { code: 'incomplete_' + bad[0], message: bad[0] === 'number' ? 'Your card number is incomplete.' : bad[0] === 'expiry' ? "Your card's expiration date is incomplete." : bad[0] === 'cvc' ? "Your card's security code is incomplete." : 'This field is incomplete.' };
      error = { type: 'validation_error', code: e.code, message: e.message };
    }
    var out = { elementType: type, empty: empty, complete: complete, error: error };
    if (inputs.number) out.brand = brandOf(digits(inputs.number.value));
    if (type === 'payment') out.value = { type: 'card' };
    if (type === 'linkAuthentication') out.value = { email: inputs.email.value.trim() };
    if (type === 'address') out.value = { name: inputs.name.value.trim(), address: { line1: inputs.line1.value.trim(), city: inputs.city.value.trim(), postal_code: inputs.postal_code.value.trim(), country: 'US' } };
    return out;
  }

  function show(s) {
    errorBox.textContent = s.error ? s.error.message : '';
    root.classList.toggle('invalid', !!s.error);
  }
  layout.forEach(function (name) {
    var el = inputs[name];
    el.addEventListener('input', function () { format(name); var s = state(false); show(s); post('change', s); });
    el.addEventListener('focus', function () { root.classList.add('focused'); post('focus', { elementType: type }); });
    el.addEventListener('blur', function () { root.classList.remove('focused'); post('blur', { elementType: type }); });
  });

  /** The card as entered: this frame's fields, or those of its sibling frames for the split Elements. */
  function cardData() {
    var read = function (name, elementType) {
      if (inputs[name]) return inputs[name].value;
      var sibling = parent.frames[cfg.group + '-' + elementType];
      try { return sibling.document.querySelector('input[name=' + name + ']').value; } catch (e) { return ''; }
    };
    var exp = digits(read('expiry', 'cardExpiry'));
    return { number: digits(read('number', 'cardNumber')), exp_month: exp.slice(0, 2), exp_year: '20' + exp.slice(2, 4), cvc: digits(read('cvc', 'cardCvc')) };
  }
  function siblingsComplete() {
    if (!cfg.split) return state(true).error;
    var errs = ['cardNumber', 'cardExpiry', 'cardCvc'].map(function (t) {
      var f = parent.frames[cfg.group + '-' + t];
      try { return f.__pbState(true).error; } catch (e) { return { type: 'validation_error', code: 'incomplete', message: 'Your card details are incomplete.' }; }
    });
    return errs.filter(Boolean)[0];
  }
  window.__pbState = state;

  function encode(obj, prefix, out) {
    out = out || [];
    Object.keys(obj).forEach(function (k) {
      var v = obj[k]; var key = prefix ? prefix + '[' + k + ']' : k;
      if (v === undefined || v === null) return;
      if (typeof v === 'object') encode(v, key, out); else out.push(encodeURIComponent(key) + '=' + encodeURIComponent(v));
    });
    return out.join('&');
  }
  function send(path, params, account) {
    var headers = { 'content-type': 'application/x-www-form-urlencoded' };
    if (account) headers['stripe-account'] = account;
    return fetch(location.origin + path, { method: 'POST', headers: headers, body: encode(params) }).then(function (r) { return r.json(); });
  }

  window.addEventListener('message', function (ev) {
    if (ev.origin !== parentOrigin || !ev.data || ev.data.__pbjs !== cfg.id) return;
    var m = ev.data; var p = m.payload || {};
    if (m.type === 'update') { if (p.appearance) applyAppearance(p.appearance); if (p.disabled !== undefined) layout.forEach(function (n) { inputs[n].disabled = !!p.disabled; }); return; }
    if (m.type === 'focus') { var first = inputs[layout[0]]; if (first) first.focus(); return; }
    if (m.type === 'blur') { if (document.activeElement) document.activeElement.blur(); return; }
    if (m.type === 'clear') { layout.forEach(function (n) { inputs[n].value = ''; }); var cleared = state(false); show(cleared); post('change', cleared); return; }
    if (m.type === 'validate') { var s = state(true); show(s); post('reply', { error: s.error, value: s.value }, m.rid); return; }
    if (m.type === 'tokenize' || m.type === 'token') {
      var invalid = siblingsComplete();
      if (invalid) { show({ error: invalid }); return post('reply', { error: invalid }, m.rid); }
      var card = cardData();
      var params = m.type === 'token'
        ? { key: p.key, card: { number: card.number, exp_month: card.exp_month, exp_year: card.exp_year, cvc: card.cvc, name: p.name } }
        : { key: p.key, type: 'card', card: card, billing_details: p.billing_details };
      send(m.type === 'token' ? '/v1/tokens' : '/v1/payment_methods', params, p.account)
        .then(function (json) { post('reply', json.error ? { error: json.error } : { object: json }, m.rid); })
        .catch(function () { post('reply', { error: { type: 'api_connection_error', message: 'The sandbox could not be reached.' } }, m.rid); });
    }
  });

  function height() { post('height', { height: document.documentElement.scrollHeight }); }
  new ResizeObserver(height).observe(document.body);
  post('ready', { elementType: type });
  height();
})();
