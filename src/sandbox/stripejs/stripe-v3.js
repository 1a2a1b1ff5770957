/*
 * A Stripe.js for the PayBridge sandbox: `window.Stripe`, as
 * @stripe/stripe-js types it, talking to the origin this script was loaded
 * from. Elements live in iframes served by the sandbox; card data stays in
 * them. Served at /v3/, as https://js.stripe.com/v3/.
 */
(function () {
  'use strict';
  if (window.Stripe && window.Stripe.__paybridge) return;
  // The sandbox that served this script (it writes its own origin here): also right when a test runner routed
  // https://js.stripe.com/v3/ to it, where the script's own URL would say js.stripe.com.
  var ORIGIN = '__PAYBRIDGE_ORIGIN__';
  var seq = 0;
  var nextId = function (p) { return p + '-' + Date.now().toString(36) + '-' + (++seq); };

  function IntegrationError(message) { var e = new Error(message); e.name = 'IntegrationError'; return e; }

  function encode(obj, prefix, out) {
    out = out || [];
    Object.keys(obj).forEach(function (k) {
      var v = obj[k]; var key = prefix ? prefix + '[' + k + ']' : k;
      if (v === undefined || v === null) return;
      if (Array.isArray(v)) v.forEach(function (x, i) { if (typeof x === 'object') encode(x, key + '[' + i + ']', out); else out.push(encodeURIComponent(key + '[' + i + ']') + '=' + encodeURIComponent(x)); });
      else if (typeof v === 'object') encode(v, key, out);
      else out.push(encodeURIComponent(key) + '=' + encodeURIComponent(v));
    });
    return out.join('&');
  }

  var secretId = function (secret) { return String(secret || '').split('_secret_')[0]; };
  var kindOf = function (secret) { return /^seti_/.test(secret) ? 'setup_intent' : 'payment_intent'; };
  var pathOf = function (secret) { return kindOf(secret) === 'setup_intent' ? '/v1/setup_intents/' : '/v1/payment_intents/'; };
  var resultKey = function (secret) { return kindOf(secret) === 'setup_intent' ? 'setupIntent' : 'paymentIntent'; };

  /** The error Stripe.js resolves with, carrying the intent it belongs to. */
  function intentError(error, intent, secret) {
    var e = {}; for (var k in error) e[k] = error[k];
    if (intent) e[kindOf(secret)] = intent;
    return e;
  }

  // ---- Elements ---------------------------------------------------------------------------------------------------

  function Element(group, type, options) {
    this._group = group; this._type = type; this._options = options || {};
    this._id = nextId('pbjs'); this._handlers = {}; this._frame = null; this._pending = {}; this._state = { empty: true, complete: false };
    var self = this;
    this._listener = function (ev) {
      if (ev.origin !== ORIGIN || !ev.data || ev.data.__pbjs !== self._id || !self._frame || ev.source !== self._frame.contentWindow) return;
      var m = ev.data;
      if (m.type === 'reply') { var done = self._pending[m.rid]; if (done) { delete self._pending[m.rid]; done(m.payload); } return; }
      if (m.type === 'height') { self._frame.style.height = Math.max(40, m.payload.height) + 'px'; return; }
      if (m.type === 'change') self._state = m.payload;
      self._emit(m.type, m.payload);
    };
  }
  Element.prototype._emit = function (name, payload) {
    (this._handlers[name] || []).slice().forEach(function (h) { try { h(payload); } catch (e) { setTimeout(function () { throw e; }); } });
  };
  Element.prototype.on = function (name, handler) { (this._handlers[name] = this._handlers[name] || []).push(handler); return this; };
  Element.prototype.off = function (name, handler) { this._handlers[name] = (this._handlers[name] || []).filter(function (h) { return handler && h !== handler; }); return this; };
  Element.prototype.once = function (name, handler) { var self = this; var w = function (p) { self.off(name, w); handler(p); }; return this.on(name, w); };
  Element.prototype.mount = function (target) {
    var el = typeof target === 'string' ? document.querySelector(target) : target;
    if (!el) throw IntegrationError('The selector you specified (' + target + ') applies to no DOM elements that are currently on the page.');
    if (this._frame) this.unmount();
    var cfg = {
      id: this._id, type: this._type, group: this._group._id, split: /^card(Number|Expiry|Cvc)$/.test(this._type), parentOrigin: location.origin,
      appearance: this._group._options.appearance, style: this._options.style, options: this._options, locale: this._group._stripe._locale,
    };
    var frame = document.createElement('iframe');
    frame.name = this._group._id + '-' + this._type;
    frame.title = 'Secure payment input frame';
    frame.setAttribute('frameborder', '0');
    frame.setAttribute('allowtransparency', 'true');
    frame.style.cssText = 'border:0;width:100%;height:' + (this._type === 'payment' || this._type === 'address' ? 160 : 44) + 'px;display:block;overflow:hidden;background:transparent';
    frame.src = ORIGIN + '/v3/elements/frame#' + encodeURIComponent(JSON.stringify(cfg));
    var self = this;
    frame.addEventListener('error', function () { self._emit('loaderror', { elementType: self._type, error: { type: 'api_connection_error', message: 'The Element could not load.' } }); });
    window.addEventListener('message', this._listener);
    el.appendChild(frame);
    this._frame = frame;
  };
  Element.prototype.unmount = function () {
    if (this._frame && this._frame.parentNode) this._frame.parentNode.removeChild(this._frame);
    window.removeEventListener('message', this._listener);
    this._frame = null;
  };
  Element.prototype.destroy = function () { this.unmount(); delete this._group._elements[this._type]; this._destroyed = true; };
  Element.prototype._send = function (type, payload) {
    if (!this._frame) return Promise.resolve({ error: { type: 'validation_error', code: 'element_not_mounted', message: 'This Element is not mounted.' } });
    var rid = nextId('rid'); var self = this;
    return new Promise(function (resolve) {
      self._pending[rid] = resolve;
      self._frame.contentWindow.postMessage({ __pbjs: self._id, type: type, rid: rid, payload: payload }, ORIGIN);
    });
  };
  Element.prototype._tell = function (type, payload) { if (this._frame) this._frame.contentWindow.postMessage({ __pbjs: this._id, type: type, payload: payload }, ORIGIN); };
  Element.prototype.update = function (options) { for (var k in options) this._options[k] = options[k]; this._tell('update', options); };
  Element.prototype.focus = function () { this._tell('focus'); };
  Element.prototype.blur = function () { this._tell('blur'); };
  Element.prototype.clear = function () { this._tell('clear'); };
  /** A payment method from this Element's card (made inside its frame). */
  Element.prototype._paymentMethod = function (billing) {
    var s = this._group._stripe;
    return this._send('tokenize', { key: s._key, account: s._account, billing_details: billing }).then(function (r) { return r.error ? { error: r.error } : { paymentMethod: r.object }; });
  };

  function Elements(stripe, options) { this._stripe = stripe; this._options = options || {}; this._elements = {}; this._id = nextId('pbjs-group'); }
  Elements.prototype.create = function (type, options) {
    if (['payment', 'card', 'cardNumber', 'cardExpiry', 'cardCvc', 'address', 'linkAuthentication'].indexOf(type) < 0) throw IntegrationError('A valid Element name must be provided. Valid Elements are: payment, card, cardNumber, cardExpiry, cardCvc, address, linkAuthentication; you passed: ' + type + '.');
    if (this._elements[type]) throw IntegrationError('Can only create one Element of type ' + type + '.');
    var el = new Element(this, type, options);
    this._elements[type] = el;
    return el;
  };
  Elements.prototype.getElement = function (type) { return this._elements[type] || null; };
  Elements.prototype.update = function (options) {
    for (var k in options) this._options[k] = options[k];
    var els = this._elements; Object.keys(els).forEach(function (t) { if (options.appearance) els[t].update({ appearance: options.appearance }); });
  };
  Elements.prototype.fetchUpdates = function () {
    var secret = this._options.clientSecret;
    if (!secret) return Promise.resolve({});
    return this._stripe._request('GET', pathOf(secret) + secretId(secret), { client_secret: secret }).then(function (r) { return r.error ? { error: r.error } : {}; });
  };
  /** Validates every Element (the deferred flow calls it before the server makes the intent). */
  Elements.prototype.submit = function () {
    var self = this; var els = this._elements; var types = Object.keys(els).filter(function (t) { return t === 'payment' || t === 'address' || t === 'linkAuthentication'; });
    if (!types.length) return Promise.resolve({ error: { type: 'validation_error', message: 'elements.submit() needs a Payment Element.' } });
    return Promise.all(types.map(function (t) { return els[t]._send('validate', {}); })).then(function (rs) {
      var bad = rs.filter(function (r) { return r.error; })[0];
      if (bad) return { error: bad.error };
      self._submitted = true;
      return { selectedPaymentMethod: 'card' };
    });
  };

  // ---- Stripe ------------------------------------------------------------------------------------------------------

  function Stripe(key, options) {
    if (!(this instanceof Stripe)) return new Stripe(key, options);
    if (typeof key !== 'string' || !key) throw IntegrationError('Please call Stripe() with your publishable key. You used an empty string.');
    if (/^(sk|rk)_/.test(key)) throw IntegrationError('You should not use your secret key with Stripe.js.\nPlease pass a publishable key instead.');
    if (!/^pk_(test|live)_/.test(key)) throw IntegrationError('Invalid value for Stripe(): apiKey should be a publishable key (pk_test_…).');
    options = options || {};
    this._key = key; this._account = options.stripeAccount; this._apiVersion = options.apiVersion; this._locale = options.locale || 'auto';
  }
  Stripe.__paybridge = true;
  Stripe.version = '__PAYBRIDGE_VERSION__';
  // @stripe/stripe-js tells Stripe.js it wraps it; nothing to record here.
  Stripe.prototype._registerWrapper = function () {};

  Stripe.prototype._request = function (method, path, params) {
    var headers = { 'content-type': 'application/x-www-form-urlencoded' };
    if (this._account) headers['stripe-account'] = this._account;
    if (this._apiVersion) headers['stripe-version'] = this._apiVersion;
    var body = encode(Object.assign({ key: this._key }, params || {}));
    var url = ORIGIN + path + (method === 'GET' ? '?' + body : '');
    return fetch(url, { method: method, headers: headers, body: method === 'GET' ? undefined : body })
      .then(function (r) { return r.json(); }, function () { return { error: { type: 'api_connection_error', message: 'The request could not reach the sandbox.' } }; });
  };
  Stripe.prototype.elements = function (options) {
    options = options || {};
    if (options.clientSecret && options.mode) throw IntegrationError('elements() takes either clientSecret or mode, not both.');
    return new Elements(this, options);
  };

  /** Shows the sandbox's 3-D Secure page in a modal; resolves once it is answered. */
  Stripe.prototype._challenge = function (url) {
    return new Promise(function (resolve) {
      var overlay = document.createElement('div');
      overlay.setAttribute('data-paybridge', '3ds');
      overlay.style.cssText = 'position:fixed;inset:0;background:rgba(0,0,0,.45);z-index:2147483647;display:flex;align-items:center;justify-content:center';
      var frame = document.createElement('iframe');
      frame.title = '3D Secure authentication';
      frame.name = 'paybridge-3ds';
      frame.style.cssText = 'width:min(500px,95vw);height:min(600px,90vh);border:0;border-radius:8px;background:#fff';
      var back = ORIGIN + '/v3/authentication-complete';
      // The challenge returns to the modal's closing page, whatever return_url the confirmation gave (that one is
      // the page's, used after the modal).
      var challenge = new URL(url);
      challenge.searchParams.set('return_url', back);
      frame.src = challenge.toString();
      var done = function (ev) {
        if (ev.origin !== ORIGIN || !ev.data || ev.data.__pbjs3ds !== true) return;
        window.removeEventListener('message', done);
        overlay.parentNode && overlay.parentNode.removeChild(overlay);
        resolve();
      };
      window.addEventListener('message', done);
      overlay.appendChild(frame);
      document.body.appendChild(overlay);
    });
  };

  /** After a confirmation: a 3-D Secure challenge when asked for, then the intent as it ended, or its error. */
  Stripe.prototype._settle = function (secret, answer, handleActions) {
    var self = this; var key = resultKey(secret);
    if (answer.error) return Promise.resolve({ error: intentError(answer.error, answer.error[kindOf(secret)], secret) });
    var intent = answer;
    var redirect = intent.next_action && intent.next_action.redirect_to_url;
    if (intent.status === 'requires_action' && redirect && handleActions !== false) {
      return this._challenge(redirect.url).then(function () { return self._request('GET', pathOf(secret) + secretId(secret), { client_secret: secret }); }).then(function (after) {
        if (after.error) return { error: after.error };
        var failure = after.last_payment_error || after.last_setup_error;
        if ((after.status === 'requires_payment_method' || after.status === 'canceled') && failure) return { error: intentError(failure, after, secret) };
        var r = {}; r[key] = after; return r;
      });
    }
    var out = {}; out[key] = intent; return Promise.resolve(out);
  };

  /** The payment method of a confirmation: an id, an Element's card, or `{card: element, billing_details}`. */
  Stripe.prototype._methodFrom = function (pm, elements) {
    if (typeof pm === 'string') return Promise.resolve({ id: pm });
    if (elements) {
      var el = elements.getElement('payment') || elements.getElement('card') || elements.getElement('cardNumber');
      if (!el) return Promise.resolve({ error: { type: 'validation_error', message: 'No Payment Element is mounted in these elements.' } });
      return el._paymentMethod(pm && pm.billing_details).then(function (r) { return r.error ? r : { id: r.paymentMethod.id }; });
    }
    if (pm && pm.card && pm.card._paymentMethod) return pm.card._paymentMethod(pm.billing_details).then(function (r) { return r.error ? r : { id: r.paymentMethod.id }; });
    if (pm && pm.card && pm.card.token) return Promise.resolve({ data: { type: 'card', card: { token: pm.card.token }, billing_details: pm.billing_details } });
    return Promise.resolve({});
  };

  Stripe.prototype._confirm = function (secret, pmSpec, elements, extra, handleActions) {
    var self = this;
    if (!secret || !/_secret_/.test(secret)) return Promise.reject(IntegrationError('Invalid value for confirm: clientSecret should be a client secret of the form ${id}_secret_${secret}.'));
    return this._methodFrom(pmSpec, elements).then(function (m) {
      if (m.error) return { error: m.error };
      var params = Object.assign({ client_secret: secret }, extra || {});
      if (m.id) params.payment_method = m.id;
      if (m.data) params.payment_method_data = m.data;
      return self._request('POST', pathOf(secret) + secretId(secret) + '/confirm', params).then(function (answer) { return self._settle(secret, answer, handleActions); });
    });
  };

  Stripe.prototype.confirmCardPayment = function (secret, data, options) {
    data = data || {};
    var extra = {}; if (data.return_url) extra.return_url = data.return_url; if (data.setup_future_usage) extra.setup_future_usage = data.setup_future_usage; if (data.receipt_email) extra.receipt_email = data.receipt_email;
    return this._confirm(secret, data.payment_method, null, extra, !(options && options.handleActions === false));
  };
  Stripe.prototype.confirmCardSetup = function (secret, data, options) {
    data = data || {};
    return this._confirm(secret, data.payment_method, null, data.return_url ? { return_url: data.return_url } : {}, !(options && options.handleActions === false));
  };

  /** confirmPayment / confirmSetup: with Elements, a redirect to return_url, or none when not needed and `if_required`. */
  Stripe.prototype._confirmWithElements = function (o, kind) {
    var self = this;
    o = o || {};
    var elements = o.elements;
    var secret = o.clientSecret || (elements && elements._options.clientSecret);
    var params = o.confirmParams || {};
    var redirect = o.redirect || 'always';
    if (!secret) return Promise.reject(IntegrationError('Invalid value for ' + kind + '(): clientSecret is required (or pass elements created with one).'));
    if (elements && elements._options.mode && !elements._submitted) return Promise.reject(IntegrationError('elements.submit() must be called before ' + kind + '() when the elements have no clientSecret.'));
    if (redirect === 'always' && !params.return_url) return Promise.reject(IntegrationError(kind + '(): the `confirmParams.return_url` argument is required unless passing `redirect: \'if_required\'`'));
    var extra = {};
    ['return_url', 'receipt_email', 'setup_future_usage', 'shipping', 'payment_method'].forEach(function (k) { if (params[k] !== undefined && k !== 'payment_method') extra[k] = params[k]; });
    var pm = typeof params.payment_method === 'string' ? params.payment_method : { billing_details: params.payment_method_data && params.payment_method_data.billing_details };
    return this._confirm(secret, pm, typeof pm === 'string' ? null : elements, extra, true).then(function (r) {
      if (r.error) return r;
      var intent = r.paymentIntent || r.setupIntent;
      var ok = intent.status === 'succeeded' || intent.status === 'processing' || intent.status === 'requires_capture';
      if (redirect === 'if_required' || !params.return_url) return r;
      var back = new URL(params.return_url);
      var k = kindOf(secret);
      back.searchParams.set(k, intent.id);
      back.searchParams.set(k + '_client_secret', secret);
      back.searchParams.set('redirect_status', ok ? 'succeeded' : 'failed');
      location.assign(back.toString());
      return new Promise(function () {});
    });
  };
  Stripe.prototype.confirmPayment = function (o) { return this._confirmWithElements(o, 'confirmPayment'); };
  Stripe.prototype.confirmSetup = function (o) { return this._confirmWithElements(o, 'confirmSetup'); };

  Stripe.prototype.createPaymentMethod = function (o) {
    o = o || {};
    var el = o.elements ? (o.elements.getElement('payment') || o.elements.getElement('card') || o.elements.getElement('cardNumber')) : o.card;
    if (!el || !el._paymentMethod) return Promise.reject(IntegrationError('createPaymentMethod() needs `elements` or `card` (a mounted Element).'));
    var billing = o.billing_details || (o.params && o.params.billing_details);
    return el._paymentMethod(billing);
  };
  Stripe.prototype.createToken = function (element, data) {
    if (!element || !element._send) return Promise.reject(IntegrationError('createToken() takes a card Element.'));
    var s = this;
    return element._send('token', { key: s._key, account: s._account, name: data && data.name }).then(function (r) { return r.error ? { error: r.error } : { token: r.object }; });
  };
  Stripe.prototype._retrieve = function (secret) {
    var key = resultKey(secret);
    return this._request('GET', pathOf(secret) + secretId(secret), { client_secret: secret }).then(function (r) { if (r.error) return { error: r.error }; var out = {}; out[key] = r; return out; });
  };
  Stripe.prototype.retrievePaymentIntent = function (secret) { return this._retrieve(secret); };
  Stripe.prototype.retrieveSetupIntent = function (secret) { return this._retrieve(secret); };
  Stripe.prototype.handleNextAction = function (o) {
    var self = this; var secret = o && o.clientSecret;
    return this._retrieve(secret).then(function (r) { return r.error ? r : self._settle(secret, r.paymentIntent || r.setupIntent, true); });
  };
  Stripe.prototype.handleCardAction = function (secret) { return this.handleNextAction({ clientSecret: secret }); };

  /** Embedded Checkout: the sandbox's Checkout form for a session made with ui_mode embedded, in an iframe. */
  Stripe.prototype.initEmbeddedCheckout = function (o) {
    o = o || {};
    var get = o.clientSecret ? Promise.resolve(o.clientSecret) : typeof o.fetchClientSecret === 'function' ? Promise.resolve(o.fetchClientSecret()) : Promise.reject(IntegrationError('initEmbeddedCheckout() needs fetchClientSecret or clientSecret.'));
    var frame = null; var listener = null;
    return get.then(function (secret) {
      var id = secretId(secret);
      return {
        mount: function (target) {
          var el = typeof target === 'string' ? document.querySelector(target) : target;
          if (!el) throw IntegrationError('The selector you specified (' + target + ') applies to no DOM elements that are currently on the page.');
          frame = document.createElement('iframe');
          frame.title = 'Embedded Checkout';
          frame.style.cssText = 'border:0;width:100%;min-height:640px;display:block';
          frame.src = ORIGIN + '/c/pay/' + encodeURIComponent(id) + '?embedded=' + encodeURIComponent(location.origin);
          listener = function (ev) {
            if (ev.origin !== ORIGIN || !ev.data || ev.data.__pbjsCheckout !== id) return;
            if (typeof o.onComplete === 'function') o.onComplete();
            else location.assign(ev.data.url);
          };
          window.addEventListener('message', listener);
          el.appendChild(frame);
        },
        unmount: function () { if (frame && frame.parentNode) frame.parentNode.removeChild(frame); if (listener) window.removeEventListener('message', listener); frame = null; },
        destroy: function () { this.unmount(); },
      };
    });
  };
  Stripe.prototype.redirectToCheckout = function (o) {
    if (!o || !o.sessionId) return Promise.resolve({ error: { type: 'invalid_request_error', message: 'redirectToCheckout() needs a sessionId.' } });
    location.assign(ORIGIN + '/c/pay/' + encodeURIComponent(o.sessionId));
    return new Promise(function () {});
  };

  window.Stripe = Stripe;
})();
