// Runs tsc once over every case in this directory and checks that each case fails to type-check
// with the message its first line expects ("// expect: ..."), and that a file without such a line
// (ok.ts, common.ts) has no error at all.
// Usage: node check.mjs <tsc> <tsconfig.json> <cases dir>
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const [tsc, tsconfig, dir] = process.argv.slice(2);
const run = spawnSync(tsc, ["-p", tsconfig, "--pretty", "false"], { encoding: "utf8" });
const diagnostics = new Map(); // absolute file -> [message]
let last;
for (const line of (run.stdout + run.stderr).split("\n")) {
  const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
  if (m) {
    const file = path.resolve(m[1]); // tsc names files relative to where it runs
    if (!diagnostics.has(file)) diagnostics.set(file, []);
    last = { text: `${m[4]}: ${m[5]}` };
    diagnostics.get(file).push(last);
  } else if (last && line.startsWith(" ")) {
    last.text += "\n" + line;
  }
}

let failed = 0;
const cases = readdirSync(dir).filter((f) => f.endsWith(".ts")).sort();
for (const name of cases) {
  const file = path.resolve(dir, name);
  const found = diagnostics.get(file) ?? [];
  const expect = /^\/\/ expect: (.*)$/m.exec(readFileSync(file, "utf8"))?.[1];
  if (!expect) {
    // ok.ts and the helpers: no error at all.
    if (found.length > 0) {
      failed++;
      console.log(`FAIL ${name}: expected no error, got:\n  ${found.map((d) => d.text).join("\n  ")}`);
    } else {
      console.log(`ok   ${name}: no error`);
    }
  } else if (!found.some((d) => d.text.includes(expect))) {
    failed++;
    console.log(`FAIL ${name}: expected an error containing "${expect}", got:\n  ${found.map((d) => d.text).join("\n  ") || "none"}`);
  } else {
    console.log(`ok   ${name}: ${expect}`);
  }
}
const others = [...diagnostics.keys()].filter((f) => path.dirname(f) !== path.resolve(dir));
for (const file of others) {
  failed++;
  console.log(`FAIL errors outside the cases, in ${file}:\n  ${diagnostics.get(file).map((d) => d.text).join("\n  ")}`);
}
console.log(`${cases.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
