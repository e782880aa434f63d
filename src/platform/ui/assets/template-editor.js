// Progressive enhancement for the template and sending pages; every page works without it.
// - A text message field's counter follows the typing: characters, parts, and characters phones cannot show,
//   counted as the server counts them (the alphabet comes from /sms-alphabet.json).
// - A message's or a job's status panel refreshes itself until the outcome is final.
(function () {
  'use strict';

  var numbers = new Intl.NumberFormat(document.documentElement.lang === 'fr' ? 'fr-CA' : 'en-CA');

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function measure(text, alphabet) {
    var body = '';
    var unicode = [];
    var replaced = [];
    var trimmed = text.replace(/\r\n?/g, '\n').trim();
    for (var ch of trimmed) {
      if (alphabet.gsm.has(ch)) {
        body += ch;
      } else if (alphabet.kept.has(ch)) {
        body += ch;
        if (!/\s/.test(ch) && unicode.indexOf(ch) < 0) unicode.push(ch);
      } else {
        body += Object.prototype.hasOwnProperty.call(alphabet.downgrade, ch) ? alphabet.downgrade[ch] : '?';
        if (!/\s/.test(ch) && replaced.indexOf(ch) < 0) replaced.push(ch);
      }
    }
    var characters = Array.from(body).length;
    var isUnicode = Array.from(body).some(function (c) { return !alphabet.gsm.has(c); });
    var fragments = 0;
    if (body !== '') {
      if (isUnicode) {
        fragments = body.length <= 70 ? 1 : Math.ceil(body.length / 67);
      } else {
        var septets = 0;
        for (var c of body) septets += alphabet.extended.has(c) ? 2 : 1;
        fragments = septets <= 160 ? 1 : Math.ceil(septets / 153);
      }
    }
    return { characters: characters, fragments: fragments, unicode: unicode, replaced: replaced, tooLong: characters > alphabet.limit };
  }

  function paragraph(className, text) {
    var p = document.createElement('p');
    p.className = className;
    p.textContent = text;
    return p;
  }

  function startCounter(field, alphabet) {
    var counter = document.querySelector('[data-counter-for="' + field.id + '"]');
    if (!counter) return;
    var words = counter.dataset;
    var timer = null;
    function update() {
      var m = measure(field.value, alphabet);
      var values = { characters: numbers.format(m.characters), fragments: numbers.format(m.fragments), limit: numbers.format(alphabet.limit) };
      var parts = [paragraph('sms-count', fill(m.fragments === 1 ? words.one : words.other, values))];
      if (m.tooLong) parts.push(paragraph('sms-warning', fill(words.tooLong, values)));
      if (m.unicode.length) parts.push(paragraph('sms-warning', fill(words.unicode, { characters: m.unicode.join(' ') })));
      if (m.replaced.length) parts.push(paragraph('sms-warning', fill(words.replaced, { characters: m.replaced.join(' ') })));
      counter.replaceChildren.apply(counter, parts);
    }
    // A pause before announcing, so a screen reader hears the count when typing stops, not at every key.
    field.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(update, 400);
    });
    update();
  }

  var smsFields = document.querySelectorAll('textarea[data-sms-alphabet]');
  if (smsFields.length) {
    fetch(smsFields[0].dataset.smsAlphabet, { credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (a) {
        var alphabet = { gsm: new Set(Array.from(a.gsm)), extended: new Set(Array.from(a.extended)), kept: new Set(Array.from(a.kept)), downgrade: a.downgrade, limit: a.limit };
        smsFields.forEach(function (field) { startCounter(field, alphabet); });
      })
      .catch(function () { /* the server's count stays */ });
  }

  var panel = document.querySelector('[data-poll="live"]');
  if (panel && panel.id && window.DOMParser) {
    var started = Date.now();
    panel.setAttribute('aria-live', 'polite');
    var poll = function () {
      fetch(window.location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (text) {
          var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById(panel.id);
          if (!fresh) return;
          if (fresh.innerHTML !== panel.innerHTML) panel.innerHTML = fresh.innerHTML;
          panel.dataset.poll = fresh.dataset.poll;
          if (fresh.dataset.poll === 'live' && Date.now() - started < 10 * 60 * 1000) setTimeout(poll, 2000);
        })
        .catch(function () { /* the refresh link stays */ });
    };
    setTimeout(poll, 2000);
  }
})();
