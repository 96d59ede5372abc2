// `npm test`: the package's unit tests (src/*.test.ts), bundled by esbuild into a temporary
// directory and run by Node's test runner. The project's ctest runs the same files.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src");
const out = mkdtempSync(path.join(tmpdir(), "superline-client-tests-"));
try {
  const tests = readdirSync(src).filter((f) => f.endsWith(".test.ts"));
  buildSync({
    entryPoints: tests.map((f) => path.join(src, f)),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outdir: out,
    sourcemap: true,
    logLevel: "warning",
  });
  const files = tests.map((f) => path.join(out, f.replace(/\.ts$/, ".js")));
  const run = spawnSync(process.execPath, ["--enable-source-maps", "--test", ...files], { stdio: "inherit" });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
