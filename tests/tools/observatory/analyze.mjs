// Grade responses the template's tests captured with the MDN HTTP Observatory's own analyzer.
//
//   node analyze.mjs < capture.json
//
// The scanner's retriever (the part that makes requests) is left out: the captured responses
// become the Requests object it would have built, and upstream's analyzeScan() grades them.
// Input (JSON on stdin): hostname, path, auto (the HTTPS page), http (the plain-HTTP answer),
// httpRedirects ([{url, status}] of the plain-HTTP chain), cors (the answer to the preflight)
// and cookies ([{url, header}]: every Set-Cookie of the session, in order); each response is
// {url, status, headers: [[name, value], ...], body}.
// Output (JSON on stdout): {score, grade, algorithmVersion, tests: {name: {result, pass}}}, or
// {error} when the analyzer refuses the page (it grades no 4xx/5xx page but 401 and 403).
import { IncomingMessage } from "node:http";
import { text } from "node:stream/consumers";

import { analyzeScan } from "@mdn/mdn-http-observatory/src/scanner/index.js";
import { parseHttpEquivHeaders } from "@mdn/mdn-http-observatory/src/retriever/utils.js";
import { Site } from "@mdn/mdn-http-observatory/src/site.js";
import { HTML_TYPES, Requests } from "@mdn/mdn-http-observatory/src/types.js";
import { AxiosHeaders } from "axios";
import { CookieJar } from "tough-cookie";

// The headers as Node's HTTP client hands them to axios: its own rules for repeated headers
// (Set-Cookie kept as a list, some headers first-only, the others joined with ", ").
function nodeHeaders(pairs) {
  const message = new IncomingMessage(null);
  const raw = pairs.flat();
  message._addHeaderLines(raw, raw.length);
  return new AxiosHeaders(message.headers);
}

function axiosResponse(captured) {
  return {
    status: captured.status,
    statusText: "",
    headers: nodeHeaders(captured.headers),
    data: captured.body,
    config: { url: captured.url, headers: new AxiosHeaders() },
    request: { headers: new AxiosHeaders() },
    verified: true,
  };
}

const capture = JSON.parse(await text(process.stdin));
const requests = new Requests(new Site(capture.hostname, undefined, capture.path));
const jar = new CookieJar();
for (const cookie of capture.cookies) {
  jar.setCookieSync(cookie.header, cookie.url, { ignoreError: true });
}
requests.session = { jar, url: new URL(capture.auto.url), redirectHistory: [] };
requests.responses.auto = axiosResponse(capture.auto);
requests.responses.https = requests.responses.auto;
requests.responses.http = axiosResponse(capture.http);
requests.responses.cors = axiosResponse(capture.cors);
requests.responses.httpRedirects = capture.httpRedirects.map((entry) => ({
  url: new URL(entry.url),
  status: entry.status,
}));
requests.responses.httpsRedirects = requests.responses.httpRedirects;
requests.resources.path = capture.auto.body;
const contentType = requests.responses.auto.headers["content-type"] ?? "";
requests.responses.auto.httpEquiv = HTML_TYPES.has(contentType.split(";", 1)[0])
  ? parseHttpEquivHeaders(capture.auto.body, capture.auto.url)
  : new Map();

let output;
try {
  const result = analyzeScan(requests);
  const tests = {};
  for (const [name, test] of Object.entries(result.tests)) {
    tests[name] = { result: test.result, pass: test.pass };
  }
  output = {
    score: result.scan.score,
    grade: result.scan.grade,
    algorithmVersion: result.scan.algorithmVersion,
    tests,
  };
} catch (error) {
  output = { error: String(error.message ?? error) };
}
process.stdout.write(JSON.stringify(output) + "\n");
