#!/usr/bin/env node
// Audit pages with Lighthouse (npm "lighthouse", pinned in package.json) in one Chromium.
//
//   CHROME_PATH=/usr/bin/chromium node tests/tools/lighthouse/run.mjs PLAN.json
//
// PLAN.json: {"outDir": "...", "chromeFlags": ["..."], "audits": [{"name": "home-mobile",
// "url": "https://...", "preset": "mobile" | "desktop"}, ...]}. Every audit runs in the same
// browser, one after the other; each report is written to outDir/<name>.json. An audit that ends
// in a Lighthouse runtime error (or a browser that went away) is run once more in a new browser.
// Prints one JSON line: [{name, url, preset, finalUrl, attempts, report, scores, failing}],
// where failing lists, per category, the weighted audits scoring below 1. Exit status: 0 when
// every audit produced a report, 1 when one did not (its runtime error is printed), 2 on a usage
// error.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

const PRESETS = { mobile: undefined, desktop: desktopConfig };

function usage(message) {
  process.stderr.write(`run.mjs: ${message}\nusage: node run.mjs PLAN.json\n`);
  process.exit(2);
}

function readPlan(path) {
  if (!path) usage("no plan file given");
  let plan;
  try {
    plan = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    usage(`cannot read ${path}: ${error.message}`);
  }
  if (!plan.outDir || !Array.isArray(plan.audits) || plan.audits.length === 0) {
    usage(`${path} needs "outDir" and a non-empty "audits" list`);
  }
  for (const audit of plan.audits) {
    if (!audit.name || !audit.url || !(audit.preset in PRESETS)) {
      usage(`bad audit ${JSON.stringify(audit)}: needs name, url, preset mobile|desktop`);
    }
  }
  return plan;
}

/** Return, per category, the weighted audits that did not score 1 ("id=score"). */
function failingAudits(lhr) {
  const failing = {};
  for (const [id, category] of Object.entries(lhr.categories)) {
    failing[id] = category.auditRefs
      .filter((ref) => ref.weight > 0)
      .map((ref) => lhr.audits[ref.id])
      .filter((audit) => audit.score !== null && audit.score < 1)
      .map((audit) => `${audit.id}=${audit.score}`);
  }
  return failing;
}

async function audit(chrome, { url, preset }) {
  const flags = { port: chrome.port, output: "json", logLevel: "error", ignoreStatusCode: true };
  return lighthouse(url, flags, PRESETS[preset]);
}

async function main() {
  const plan = readPlan(process.argv[2]);
  const launch = () =>
    chromeLauncher.launch({
      chromePath: process.env.CHROME_PATH,
      chromeFlags: ["--headless=new", ...(plan.chromeFlags || [])],
    });
  let chrome = await launch();
  const results = [];
  let failed = false;
  try {
    for (const item of plan.audits) {
      let attempts = 0;
      let result;
      let problem;
      while (attempts < 2) {
        attempts += 1;
        try {
          result = await audit(chrome, item);
          problem = result?.lhr.runtimeError;
        } catch (error) {
          result = undefined;
          problem = { code: "EXCEPTION", message: String(error?.stack || error) };
        }
        if (result && !problem) break;
        process.stderr.write(`${item.name}: attempt ${attempts}: ${problem?.code} ${problem?.message}\n`);
        await chrome.kill();
        chrome = await launch();
      }
      if (!result || problem) {
        failed = true;
        results.push({ ...item, attempts, error: problem });
        continue;
      }
      const report = join(plan.outDir, `${item.name}.json`);
      writeFileSync(report, result.report);
      const { lhr } = result;
      const scores = Object.fromEntries(
        Object.entries(lhr.categories).map(([id, category]) => [id, category.score]),
      );
      results.push({
        ...item,
        attempts,
        finalUrl: lhr.finalDisplayedUrl,
        lighthouse: lhr.lighthouseVersion,
        userAgent: lhr.environment.hostUserAgent,
        report,
        scores,
        failing: failingAudits(lhr),
      });
    }
  } finally {
    await chrome.kill();
  }
  process.stdout.write(JSON.stringify(results) + "\n");
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  process.stderr.write(`run.mjs: ${error?.stack || error}\n`);
  process.exit(1);
});
