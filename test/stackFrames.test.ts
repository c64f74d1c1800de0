/**
 * stackFrames.ts: an error's frames under node_modules keep V8's own text (the file that exists),
 * while the program's own frames stay mapped to their TypeScript lines — in a Node.js process of its
 * own with source-map-support installed, as the Pulumi runtime runs the program.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { ROOT } from "./mocks";
import { keepNodeModulesFrames } from "../stackFrames";

describe("stack frames: node_modules as V8 prints them, the program's own mapped", function () {
    this.timeout(60_000);
    let dir = "";

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-frames-"));
        // A package whose source map names a .ts file it does not ship (…/node_modules/src/index.ts), as
        // @pulumi/pulumi's output.js map names …/node_modules/@pulumi/output.ts.
        const pkg = path.join(dir, "node_modules", "callsback");
        fs.mkdirSync(pkg, { recursive: true });
        fs.writeFileSync(path.join(pkg, "index.js"), 'exports.run = function (f) {\n    return f();\n};\n//# sourceMappingURL=index.js.map\n');
        // One segment per line: line 2 of index.js is line 40 of ../src/index.ts.
        fs.writeFileSync(path.join(pkg, "index.js.map"), JSON.stringify({ version: 3, file: "index.js", sources: ["../src/index.ts"], names: [], mappings: "AAAA;AAuCA;AACA" }));
        // The program's own file, as ts-node compiles it; the throw is on line 6.
        fs.writeFileSync(
            path.join(dir, "own.ts"),
            ['import { run } from "callsback";', "", "export function refuse(): string {", "    return run(() => {", "        const why: string = \"refused\";", "        throw new Error(why);", "    });", "}", ""].join("\n"),
        );
    });

    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** The stack of the error own.ts throws through the package, with or without stackFrames.ts loaded first. */
    function stackOf(withFix: boolean): string {
        const code = [
            'require("source-map-support").install();',
            `require(${JSON.stringify(path.join(ROOT, "node_modules", "ts-node"))}).register({ transpileOnly: true, compilerOptions: { module: "commonjs" } });`,
            withFix ? `require(${JSON.stringify(path.join(ROOT, "stackFrames.ts"))});` : "",
            'try { require("./own.ts").refuse(); } catch (e) { process.stdout.write(e.stack); }',
        ].join("\n");
        return execFileSync(process.execPath, ["--no-experimental-strip-types", "-e", code], { cwd: dir, env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") }, encoding: "utf8" });
    }

    it("without it, the package's frame names a file that does not exist", () => {
        const stack = stackOf(false);
        assert.match(stack, /node_modules\/src\/index\.ts:40:1\)$/m, stack);
    });

    it("with it, the package's frame is the file that exists, and the program's frame stays on its .ts line", () => {
        const stack = stackOf(true);
        assert.match(stack, /^Error: refused$/m, stack);
        assert.match(stack, /node_modules\/callsback\/index\.js:2:\d+\)$/m, stack);
        assert.doesNotMatch(stack, /src\/index\.ts/, stack);
        assert.match(stack, /own\.ts:6:15$/m, stack);
    });

    it("hands the source-map mapper only the program's own frames, and keeps every frame in its place", () => {
        const site = (file: string, line: number) => ({ getFileName: () => file, toString: () => `${file}:${line}:1` }) as unknown as NodeJS.CallSite;
        const sites = [site("/p/index.ts", 1), site("/p/node_modules/@pulumi/pulumi/resource.js", 2), site("/p/image.ts", 3), site("/p/node_modules/@pulumi/aws/ecs/service.js", 4)];
        const seen: string[] = [];
        const prepare = keepNodeModulesFrames((error, own) => {
            seen.push(...own.map((s) => s.getFileName() ?? ""));
            return [`Error: ${error.message}`, "  second line of the message", ...own.map((s) => `    at mapped ${s.getFileName()}`)].join("\n");
        });
        const text = prepare(new Error("refused"), sites);
        assert.deepStrictEqual(seen, ["/p/index.ts", "/p/image.ts"]);
        assert.strictEqual(
            text,
            [
                "Error: refused",
                "  second line of the message",
                "    at mapped /p/index.ts",
                "    at /p/node_modules/@pulumi/pulumi/resource.js:2:1",
                "    at mapped /p/image.ts",
                "    at /p/node_modules/@pulumi/aws/ecs/service.js:4:1",
            ].join("\n"),
        );
        // No frame under node_modules: the mapper's text as it is.
        assert.strictEqual(keepNodeModulesFrames(() => "as mapped")(new Error("x"), [sites[0]]), "as mapped");
    });
});
