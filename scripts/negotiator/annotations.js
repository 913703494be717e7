// Cases where RFC 9110 / RFC 4647 and negotiator 1.1.0 disagree, reviewed
// one by one: [field, value, offers, RFC answer (null = 406), key of WHY].
'use strict';
const JHC = ['application/json', 'text/html', 'text/csv'];
const HJ = ['text/html', 'application/json'];
const EFD = ['en', 'fr', 'de'];
const ZH = ['zh-Hant', 'zh', 'en'];
const UL = ['utf-8', 'iso-8859-1'];
const LU = ['iso-8859-1', 'utf-8'];
const U = ['UTF-8'];
const rows = [
  ['Accept', '', JHC, 'application/json', 'empty'],
  ['Accept', '', HJ, 'text/html', 'empty'],
  ['Accept', 'garbage', JHC, 'application/json', 'empty'],
  ['Accept', 'garbage', HJ, 'text/html', 'empty'],
  ['Accept', 'text/html;q=2', JHC, 'application/json', 'q2'],
  ['Accept', 'text/html;q=2, application/json;q=0.9', JHC, 'application/json', 'q2'],
  ['Accept', 'text/html;q=2, application/json;q=0.9', HJ, 'application/json', 'q2'],
  ['Accept', 'text/html;q=1.0001, application/json;q=0.9', JHC, 'application/json', 'q2'],
  ['Accept', 'text/html;q=1.0001, application/json;q=0.9', HJ, 'application/json', 'q2'],
  ['Accept', 'text/html;q=0.1234, application/json;q=0.123', JHC, 'application/json', 'q2'],
  ['Accept', 'text/html;q=0.1234, application/json;q=0.123', HJ, 'application/json', 'q2'],
  ['Accept', 'text/html;q=.5, application/json;q=0.4', JHC, 'application/json', 'qbad'],
  ['Accept', 'text/html;q=.5, application/json;q=0.4', HJ, 'application/json', 'qbad'],
  ['Accept', 'text/html, application/json', JHC, 'application/json', 'order'],
  ['Accept', 'application/json, text/html', HJ, 'text/html', 'order'],
  ['Accept', 'application/json;q=0.5, application/xml;q=0.5', ['application/xml', 'application/json'], 'application/xml', 'order'],
  ['Accept', '*/html', JHC, 'application/json', 'wildtype'],
  ['Accept', 'text/html;q=0.5;ext=1, application/json;q=0.5', HJ, 'text/html', 'acceptext'],
  ['Accept-Language', '', EFD, 'en', 'empty'],
  ['Accept-Language', '', ZH, 'zh-Hant', 'empty'],
  ['Accept-Language', 'en;q=2, fr;q=0.9', EFD, 'fr', 'q2'],
  ['Accept-Language', 'en;q=2, fr;q=0.9', ZH, null, 'q2'],
  ['Accept-Language', 'en;q=0.1234, fr;q=0.123', EFD, 'fr', 'q2'],
  ['Accept-Language', 'en;q=0.1234, fr;q=0.123', ZH, null, 'q2'],
  ['Accept-Language', 'en-, fr;q=0.5', EFD, 'fr', 'langsyntax'],
  ['Accept-Language', 'en-, fr;q=0.5', ZH, null, 'langsyntax'],
  ['Accept-Language', 'fr, en', EFD, 'en', 'order'],
  ['Accept-Language', 'zh-Hant-TW', ZH, 'zh-Hant', 'lookup'],
  ['Accept-Language', 'en-GB-oxendict', ['en', 'en-GB'], 'en-GB', 'lookup'],
  ['Accept-Language', 'sr-Latn-RS', ['sr-Cyrl', 'sr-Latn', 'sr'], 'sr-Latn', 'lookup'],
  ['Accept-Language', 'zh-Hant-TW, zh;q=0', ZH, 'zh-Hant', 'lookupq0'],
  ['Accept-Charset', '', UL, 'utf-8', 'empty'],
  ['Accept-Charset', '', LU, 'iso-8859-1', 'empty'],
  ['Accept-Charset', '', U, 'UTF-8', 'empty'],
  ['Accept-Charset', 'iso-8859-1, utf-8', UL, 'utf-8', 'order'],
  ['Accept-Charset', 'utf-8;q=0.5, iso-8859-1;q=0.5', LU, 'iso-8859-1', 'order'],
  ['Accept-Charset', 'utf-8;q=2, iso-8859-1;q=0.5', UL, 'iso-8859-1', 'q2'],
  ['Accept-Charset', 'utf-8;q=2, iso-8859-1;q=0.5', LU, 'iso-8859-1', 'q2'],
  ['Accept-Charset', 'utf-8;q=2, iso-8859-1;q=0.5', U, null, 'q2'],
];
const out = {};
for (const [f, v, o, rfc, why] of rows) out[JSON.stringify([f, v, o])] = { rfc, why };
module.exports = out;
