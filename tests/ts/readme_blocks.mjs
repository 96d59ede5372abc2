// Type-checks every ```ts block of the README against the generated chat client, so the examples
// cannot drift from the API. Each block is written as a module into OUT_DIR, its "./gen/" imports
// pointed at the generated code, and tsc runs over them with the given tsconfig (which includes
// OUT_DIR). Usage: node readme_blocks.mjs README.md OUT_DIR TSC TSCONFIG
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const [readme, out, tsc, tsconfig] = process.argv.slice(2);
const blocks = [...readFileSync(readme, "utf8").matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
if (blocks.length === 0) {
  console.log("no ts block in the README");
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
blocks.forEach((code, i) => {
  writeFileSync(path.join(out, `block${i + 1}.ts`), code.replaceAll('"./gen/', '"@gen/chat/') + "\nexport {};\n");
});
const run = spawnSync(tsc, ["-p", tsconfig, "--pretty", "false"], { stdio: "inherit" });
console.log(`${blocks.length} README ts block(s): ${run.status === 0 ? "all type-check" : "type errors above"}`);
process.exit(run.status ?? 1);
