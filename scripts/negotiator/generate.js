#!/usr/bin/env node
// Differential table for the negotiate package: runs npm negotiator 1.1.0
// over every case below and writes negotiate/testdata/differential.json.
//
//   cd scripts/negotiator && npm install && node generate.js
//
// Each case: f (field), v (value; null = field absent), o (offers, server
// order). A case where RFC 9110 / RFC 4647 and negotiator disagree carries
// rfc (the RFC answer, null = nothing acceptable, i.e. 406) and why (a key
// of WHY). negotiate's Go test asserts the RFC answer, and that marked
// cases really disagree and unmarked ones agree.
'use strict';
const fs = require('fs');
const path = require('path');
const Negotiator = require('negotiator');

const version = require('negotiator/package.json').version;
if (version !== '1.1.0') throw new Error('negotiator ' + version + ', want 1.1.0 (run npm install)');

const WHY = {
  q2: 'RFC 9110 §12.4.2: a qvalue is at most 1 with at most three decimals; an element with another q is invalid and skipped (negotiator reads q=2 as weight 2, 1.0001 as 1.0001, 0.1234 as 0.1234).',
  qbad: 'RFC 9110 §12.4.2: an element whose q is not a qvalue is invalid and skipped; negotiator keeps it (NaN or a lax parse).',
  order: 'RFC 9110 §12.4.2/§12.5: only weights (then specificity) rank offers; the order of elements in the field is not significant, so equal ranks go to the server\'s order of offers. negotiator breaks ties by the order in the header.',
  empty: 'A field with no valid element (empty, or only malformed ones) states no preference and is treated as absent (RFC 9110 §5.6.1: recipients ignore invalid and empty elements; §12.5.1: without the field anything is acceptable). negotiator finds nothing acceptable.',
  wildtype: 'RFC 9110 §12.5.1: media-range is "*/*", "type/*" or "type/subtype"; "*/subtype" is invalid and skipped. negotiator accepts it as a range.',
  lookup: 'RFC 4647 §3.4 Lookup: a range matches an offer that is a truncation of it at a subtag boundary ("zh-Hant-TW" → "zh-Hant" → "zh"). negotiator compares only the primary subtag.',
  langsyntax: 'RFC 4647 §2.1: a language range is 1*8ALPHA *("-" 1*8alphanum) or "*"; other elements are invalid and skipped.',
  lookupq0: 'RFC 4647 §3.4 Lookup with the most specific range deciding: "zh-Hant-TW" asks for "zh-Hant" by truncation and is more specific than the "zh;q=0" exclusion (which still excludes a "zh" offer). negotiator matches "zh-Hant-TW" only to its primary subtag, which "zh;q=0" excludes.',
  acceptext: 'RFC 9110 §12.5.1: parameters after the weight are accept extensions, not media-type parameters, so "text/html;q=0.5;ext=1" matches text/html (at 0.5, a tie the server\'s order breaks). negotiator treats ext=1 as a media-type parameter the offer lacks.',
};

const JSON_HTML_CSV = ['application/json', 'text/html', 'text/csv'];
const HTML_JSON = ['text/html', 'application/json'];
const RFC_EX = ['text/html;level=1', 'text/html', 'text/plain', 'image/jpeg', 'text/html;level=2', 'text/html;level=3'];
const BROWSER = ['text/html', 'application/json', 'image/webp'];
const PLAIN_HTML = ['text/plain', 'text/html'];
const JSON_ONLY = ['application/json'];
const XML_JSON = ['application/xml', 'application/json'];

const chrome = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';
const chromeSXG = chrome + ',application/signed-exchange;v=b3;q=0.7';
const firefox = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const safari = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const chromeImg = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const axios = 'application/json, text/plain, */*';
const rfcAccept = 'text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed, text/plain;format=fixed;q=0.4, */*;q=0.5';
const rfcLevel = 'text/*;q=0.3, text/html;q=0.7, text/html;level=1, text/html;level=2;q=0.4, */*;q=0.5';

const cases = [];
const acc = (v, o, extra) => cases.push({ f: 'Accept', v, o, ...extra });
const lang = (v, o, extra) => cases.push({ f: 'Accept-Language', v, o, ...extra });
const cs = (v, o, extra) => cases.push({ f: 'Accept-Charset', v, o, ...extra });

// ---- Accept ----
for (const o of [JSON_HTML_CSV, HTML_JSON, BROWSER, PLAIN_HTML, JSON_ONLY]) {
  for (const v of [null, '*/*', 'text/html', 'application/json', 'text/*', 'TEXT/HTML', 'application/*',
    chrome, firefox, axios, 'text/html;q=0', '*/*;q=0', 'image/*', 'text/csv', 'application/json;q=0.5, text/html;q=0.8']) {
    acc(v, o);
  }
}
for (const o of [JSON_HTML_CSV, HTML_JSON]) {
  acc('', o);
  acc('text/html;q=2', o);
  acc('text/html;q=2, application/json;q=0.9', o);
  acc('text/html;q=1.0001, application/json;q=0.9', o);
  acc('text/html;q=1.000, application/json;q=0.9', o);
  acc('text/html;q=0.1234, application/json;q=0.123', o);
  acc('text/html;q=abc, application/json;q=0.5', o);
  acc('text/html;q=.5, application/json;q=0.4', o);
  acc('text/html;q=0., application/json;q=0.4', o);
  acc('text/html; q=0.5 , application/json ;q=0.6', o);
  acc('application/json, text/html', o);
  acc('text/html, application/json', o);
  acc('*/*, text/html;q=0', o);
  acc('text/*, text/html;q=0', o);
  acc('text/*;q=0.5, */*;q=0.1', o);
  acc('*/html', o);
  acc('garbage', o);
  acc(', , text/html ,,', o);
  acc('text/html, ', o);
  acc('application/json;q=0.5, */*;q=0.5', o);
  acc('text/html;q=0.001, application/json;q=0', o);
  acc(chromeSXG, o);
  acc(chromeImg, o);
  acc('text/html;q=0.5;ext=1, application/json;q=0.5', o);
}
for (const v of [rfcAccept, rfcLevel, 'text/html;level=1', 'text/html;level=2', 'text/html;LEVEL=2',
  'text/html;level="2"', 'text/html;level=2;q=0.5, text/html;level=3', 'text/html;q=0.5, text/html;level=3;q=0.1',
  'text/*, text/html;level=1;q=0', 'text/html;level=9', 'image/*;q=0.5, text/plain;q=0.6', '*/*;q=0.5, text/html;level=3', 'text/html;charset=utf-8']) {
  acc(v, RFC_EX);
}
acc('text/html;charset=UTF-8', ['text/html;charset=utf-8', 'text/plain']);
acc('text/html;charset="utf-8"', ['text/plain', 'text/html;charset=utf-8']);
acc('text/html;charset=utf-8', ['text/plain', 'text/html']);
acc('application/xml;q=0.5, application/json;q=0.5', XML_JSON);
acc('application/json;q=0.5, application/xml;q=0.5', XML_JSON);
acc('application/*;q=0.9, application/json', XML_JSON);
acc('application/json, application/*;q=0', XML_JSON);

// ---- Accept-Language ----
const EN_FR_DE = ['en', 'fr', 'de'];
const ENGB_FR = ['en-GB', 'fr'];
const ZH = ['zh-Hant', 'zh', 'en'];
const ENUS_ENGB = ['en-US', 'en-GB'];
const FR = ['fr-CA', 'fr'];
for (const o of [EN_FR_DE, ENGB_FR, ZH, ENUS_ENGB, FR]) {
  for (const v of [null, '*', 'en', 'EN', 'fr', 'en-US', 'en-US,en;q=0.9', 'zh-Hant-TW', 'fr-FR, fr;q=0.9, en;q=0.5',
    'de;q=0.5, fr;q=0.8', '*;q=0', 'en;q=0', '*, en;q=0', 'es', 'es, *;q=0.1']) {
    lang(v, o);
  }
}
for (const o of [EN_FR_DE, ZH]) {
  lang('', o);
  lang('en;q=2, fr;q=0.9', o);
  lang('en;q=0.1234, fr;q=0.123', o);
  lang('en;q=abc, fr;q=0.5', o);
  lang('123, fr;q=0.5', o);
  lang('en_US, fr;q=0.5', o);
  lang('en-, fr;q=0.5', o);
  lang('fr, en', o);
  lang('zh-TW, zh;q=0.5', o);
  lang('zh-Hant-TW, zh;q=0', o);
  lang('zh-Hans-CN, en;q=0.1', o);
}
lang('en-GB', ['en-US', 'en-GB', 'en']);
lang('en-GB', ['en-US', 'en']);
lang('en-GB-oxendict', ['en', 'en-GB']);
lang('en, en-GB;q=0', ['en-GB', 'en-US']);
lang('en-US;q=0, en', ['en-US', 'en-GB']);
lang('sr-Latn-RS', ['sr-Cyrl', 'sr-Latn', 'sr']);
lang('de-CH', ['de-DE', 'de']);

// ---- Accept-Charset ----
const UTF_LATIN = ['utf-8', 'iso-8859-1'];
const LATIN_UTF = ['iso-8859-1', 'utf-8'];
const UTF = ['UTF-8'];
for (const o of [UTF_LATIN, LATIN_UTF, UTF]) {
  for (const v of [null, '*', 'utf-8', 'UTF-8', 'iso-8859-1', 'utf-8;q=0', '*;q=0', '*, utf-8;q=0',
    'iso-8859-1;q=0.5, utf-8', 'utf-8;q=0.5, iso-8859-1;q=0.5', 'iso-8859-1, utf-8', 'unicode-1-1', 'utf-8;q=2, iso-8859-1;q=0.5',
    'utf-8;q=abc, iso-8859-1;q=0.5', '', 'utf-8, *;q=0.1']) {
    cs(v, o);
  }
}

// ---- annotations: set by hand after reviewing each disagreement ----
const annotations = require('./annotations.js');

function negotiate(c) {
  const headers = {};
  if (c.v !== null) headers[c.f.toLowerCase()] = c.v;
  const n = new Negotiator({ headers });
  let r;
  switch (c.f) {
    case 'Accept': r = n.mediaType(c.o); break;
    case 'Accept-Language': r = n.language(c.o); break;
    case 'Accept-Charset': r = n.charset(c.o); break;
  }
  return r === undefined ? null : r;
}

const seen = new Set();
const out = [];
for (const c of cases) {
  const key = JSON.stringify([c.f, c.v, c.o]);
  if (seen.has(key)) continue;
  seen.add(key);
  const row = { field: c.f, value: c.v, offers: c.o, negotiator: negotiate(c) };
  const a = annotations[key];
  if (a) {
    if (!WHY[a.why]) throw new Error('unknown why ' + a.why + ' for ' + key);
    row.rfc = a.rfc;
    row.why = WHY[a.why];
  }
  out.push(row);
}
const used = new Set(Object.values(annotations).map((a) => a.why));
for (const k of Object.keys(WHY)) if (!used.has(k)) throw new Error('WHY.' + k + ' explains no case');
const file = path.join(__dirname, '..', '..', 'negotiate', 'testdata', 'differential.json');
fs.writeFileSync(file, JSON.stringify({ negotiator: version, cases: out }, null, 1) + '\n');
console.log(out.length + ' cases, ' + out.filter((r) => 'rfc' in r).length + ' marked disagreements -> ' + path.relative(process.cwd(), file));
