// Builds the test components: node build.mjs OUTDIR GUEST...
//
// Each GUEST (OUTDIR/GUEST.wasm, a WASI preview 1 command module) becomes
// OUTDIR/GUEST.component.wasm, a wasi:cli/command component, as `jco new
// --wasi-command` makes it: wrapped with the wasi_snapshot_preview1 command
// adapter jco ships. hello.js becomes OUTDIR/hello-js.component.wasm
// (componentize-js, StarlingMonkey: a multi-megabyte component), kept in
// .build/ by the hash of its inputs, as it takes a minute to build. Each
// NAME.wat here, in the component text format, becomes
// OUTDIR/NAME.component.wasm.
import { componentNew, parse, preview1AdapterCommandPath } from "@bytecodealliance/jco";
import { componentize } from "@bytecodealliance/componentize-js";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [out, ...guests] = process.argv.slice(2);
if (!out) {
  throw new Error("usage: node build.mjs OUTDIR GUEST...");
}

const adapter = await readFile(preview1AdapterCommandPath());
for (const guest of guests) {
  const module = await readFile(join(out, `${guest}.wasm`));
  const component = await componentNew(module, [["wasi_snapshot_preview1", adapter]]);
  await writeFile(join(out, `${guest}.component.wasm`), component);
}

for (const wat of (await readdir(here)).filter((name) => name.endsWith(".wat"))) {
  const component = await parse(await readFile(join(here, wat), "utf8"));
  await writeFile(join(out, wat.replace(/\.wat$/, ".component.wasm")), component);
}

const inputs = ["hello.js", "wit/world.wit", "build.mjs", "package-lock.json"];
const hash = createHash("sha256");
for (const input of inputs) {
  hash.update(await readFile(join(here, input)));
}
const cached = join(here, ".build", `hello-js-${hash.digest("hex").slice(0, 16)}.wasm`);
try {
  await cp(cached, join(out, "hello-js.component.wasm"));
} catch {
  // The wasi: packages the world names, from jco's copy of WASI 0.2.
  const wit = await mkdtemp(join(tmpdir(), "wrunc-wit-"));
  try {
    await cp(join(here, "wit"), wit, { recursive: true });
    const jcoWit = join(here, "node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12");
    await cp(jcoWit, join(wit, "deps"), { recursive: true });
    const { component } = await componentize({
      sourcePath: join(here, "hello.js"),
      witPath: wit,
      worldName: "command",
      // Neither wasi:http nor its fetch event: wrunc cannot provide them.
      disableFeatures: ["http", "fetch-event"],
    });
    await mkdir(dirname(cached), { recursive: true });
    await writeFile(`${cached}.tmp`, component);
    await rename(`${cached}.tmp`, cached);
  } finally {
    await rm(wit, { recursive: true, force: true });
  }
  await cp(cached, join(out, "hello-js.component.wasm"));
}
