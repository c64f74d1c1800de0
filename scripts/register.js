/**
 * How the program's TypeScript is loaded (Pulumi.yaml's nodeargs, scripts/verify.sh): each .ts file is
 * transpiled once (TypeScript's transpileModule, no type-checking: `npm run typecheck` does that) and
 * the JavaScript kept on disk by a hash of everything it depends on — the source, its path, the
 * TypeScript version and tsconfig.json — so a run whose sources did not change loads JavaScript and
 * never starts the compiler for them. Node's own compile cache (Node ≥ 22.1) keeps V8's code for every
 * module loaded, @pulumi/* included. Stack frames stay mapped to the TypeScript lines.
 *
 * Plain JavaScript because it is what loads the TypeScript. Where the cache directory cannot be written
 * the files are transpiled each run, as before; nothing else changes.
 *   ONEDIGEST_CACHE   where the cache lives (default ${XDG_CACHE_HOME:-~/.cache}/onedigest), as the scripts
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const os = require("os");
const path = require("path");

/** Bump when what this file emits changes, so older entries are not reused. */
const FORMAT = "2";
const root = path.resolve(__dirname, "..");
const cacheRoot = process.env.ONEDIGEST_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "onedigest");
const tsDir = path.join(cacheRoot, "ts");

if (typeof Module.enableCompileCache === "function") {
    try {
        Module.enableCompileCache(path.join(cacheRoot, "node-compile"));
    } catch {
        // No cache: modules compile as they always did.
    }
}

let typescript;
let compilerOptions;
/** What every entry's key starts with: a changed compiler or tsconfig.json is a different cache. */
let keyPrefix;
function prefix() {
    if (keyPrefix === undefined) {
        const tsVersion = JSON.parse(fs.readFileSync(require.resolve("typescript/package.json", { paths: [root] }), "utf8")).version;
        let tsconfig = "";
        try {
            tsconfig = fs.readFileSync(path.join(root, "tsconfig.json"), "utf8");
        } catch {
            // No tsconfig.json: the defaults below.
        }
        keyPrefix = `${FORMAT}\0${tsVersion}\0${tsconfig}\0`;
    }
    return keyPrefix;
}

function transpile(source, filename) {
    if (typescript === undefined) {
        typescript = require(require.resolve("typescript", { paths: [root] }));
        const read = typescript.readConfigFile(path.join(root, "tsconfig.json"), typescript.sys.readFile);
        const converted = typescript.convertCompilerOptionsFromJson(read.config ? read.config.compilerOptions || {} : {}, root);
        compilerOptions = {
            ...converted.options,
            module: typescript.ModuleKind.CommonJS,
            sourceMap: true,
            inlineSourceMap: false,
            inlineSources: false,
            declaration: false,
            noEmit: false,
            // The map sits beside its source: names in it are relative to the .ts file.
            outDir: undefined,
            sourceRoot: undefined,
            mapRoot: undefined,
        };
    }
    const out = typescript.transpileModule(source, { fileName: filename, compilerOptions, reportDiagnostics: false });
    // transpileModule names the map's source by its base name; the map sits beside its file.
    return { code: out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n"), map: out.sourceMapText };
}

function cached(source, filename) {
    const key = crypto.createHash("sha256").update(prefix()).update(filename).update("\0").update(source).digest("hex");
    const file = path.join(tsDir, `${key}.json`);
    try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
        // Not there yet (or unreadable): transpile and keep it.
    }
    const entry = transpile(source, filename);
    try {
        fs.mkdirSync(tsDir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(entry));
        fs.renameSync(tmp, file);
    } catch {
        // Read-only or full: this run transpiled it; the next one will again.
    }
    return entry;
}

const maps = new Map();
require("source-map-support").install({
    // The same module instance @pulumi/pulumi's cmd/run registers, so its frames and ours are mapped alike.
    handleUncaughtExceptions: false,
    retrieveSourceMap(source) {
        const map = maps.get(source);
        return map === undefined ? null : { url: source, map };
    },
});

Module._extensions[".ts"] = function loadTypeScript(module, filename) {
    const { code, map } = cached(fs.readFileSync(filename, "utf8"), filename);
    if (map) maps.set(filename, map);
    module._compile(code, filename, "commonjs");
};
