/**
 * The pack's entry point (package.json "main"). The engine starts a Node.js pack through
 * @pulumi/pulumi's run-policy-pack, which registers ts-node with type-checking for every .ts file the
 * pack loads: about 2.6 s of CPU on each preview and update run with `--policy-pack policy`, spent
 * before the engine gets the pack's policies. The pack is type-checked where its sources change
 * (`npm run typecheck`, scripts/test.sh's policy stage); here its TypeScript is only transpiled, with
 * the compiler options of tsconfig.json, by a handler for .ts that replaces ts-node's.
 *
 * Plain JavaScript because it is what loads the TypeScript.
 */
"use strict";
const fs = require("fs");
const Module = require("module");
const path = require("path");

// Node.js keeps V8's code for what the pack loads (its default directory under the temp dir); the
// engine ends the pack with a signal, so the cache is written once everything is loaded, below.
if (typeof Module.enableCompileCache === "function") Module.enableCompileCache();
const ts = require("typescript");

const parsed = ts.readConfigFile(path.join(__dirname, "tsconfig.json"), ts.sys.readFile);
if (parsed.error) throw new Error(`policy/tsconfig.json: ${ts.flattenDiagnosticMessageText(parsed.error.messageText, "\n")}`);
const { options } = ts.convertCompilerOptionsFromJson(parsed.config.compilerOptions, __dirname);
const compilerOptions = { ...options, sourceMap: false };

require.extensions[".ts"] = function (module, filename) {
    const source = fs.readFileSync(filename, "utf8");
    const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
    module._compile(outputText, filename);
};

require("./index.ts");
if (typeof Module.flushCompileCache === "function") Module.flushCompileCache();
