// The browser bundle of the generated chat client: minified and gzipped, whole and without
// @bufbuild/protobuf (the runtime + the chat contract, the goal: under 15 KB gzipped).
// Usage: node size.mjs <esbuild tsconfig>   (prints one JSON line)
import { gzipSync } from "node:zlib";
import { buildSync } from "esbuild";

const tsconfig = process.argv[2];
const entry = `import { ChatUserClient, ChatAgentClient } from "@gen/chat/chat.superline.js";
export const make = (url) => [new ChatUserClient({ url }), new ChatAgentClient({ url })];`;
function size(external) {
  const result = buildSync({
    stdin: { contents: entry, resolveDir: process.cwd(), loader: "ts" },
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2020",
    tsconfig,
    external,
    write: false,
    logLevel: "warning",
  });
  const code = result.outputFiles[0].contents;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}
const whole = size([]);
const ours = size(["@bufbuild/protobuf", "@bufbuild/protobuf/*"]);
console.log(JSON.stringify({
  bundle_min_bytes: whole.min,
  bundle_gzip_bytes: whole.gzip,
  without_protobuf_es_min_bytes: ours.min,
  without_protobuf_es_gzip_bytes: ours.gzip,
}));
