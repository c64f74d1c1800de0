/**
 * What the README, Pulumi.yaml and package.json say agrees with what the code does.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";

import { modules, TARGET_KINDS } from "../providers";
import { Reader, type Problem } from "../validate";
import { ROOT } from "./mocks";

const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const project = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { description?: string; default?: unknown }> };

/** The settings keys a target's parser accepts: what it passes to `rejectUnknown`. */
export function acceptedKeys(kind: (typeof TARGET_KINDS)[number]): string[] {
    let accepted: readonly string[] = [];
    const problems: Problem[] = [];
    const reader = new Reader(`onedigest:${modules[kind].settingsKey}`, {}, problems);
    reader.rejectUnknown = (keys: readonly string[]) => {
        accepted = keys;
    };
    modules[kind].parse(reader, {
        stack: "docs",
        appName: "docs",
        appPort: 8080,
        appEnv: {},
        organization: "organization",
        project: "onedigest",
        platform: "linux/amd64",
        providerConfig: () => undefined,
        secret: () => pulumi.secret("x"),
        env: {},
    });
    return [...accepted];
}

/** The keys the README's configuration table names, e.g. `ecs.cpu` from "`ecs.cpu` / `.memory`". */
function readmeTableKeys(): string[] {
    const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 5));
    const keys: string[] = [];
    for (const line of section.split("\n").filter((l) => l.startsWith("| `"))) {
        const cell = line.split("|")[1];
        let prefix = "";
        for (const [, name] of cell.matchAll(/`([^`]+)`/g)) {
            if (name.startsWith(".")) keys.push(prefix + name.slice(1));
            else {
                keys.push(name);
                prefix = name.includes(".") ? name.slice(0, name.indexOf(".") + 1) : "";
            }
        }
    }
    return keys;
}

describe("docs: every setting is documented, every documented setting exists", () => {
    const tableKeys = readmeTableKeys();

    for (const kind of TARGET_KINDS) {
        const settingsKey = modules[kind].settingsKey;
        it(`${kind}: the keys its parser accepts are in Pulumi.yaml's description and the README's table, and no others`, () => {
            const accepted = acceptedKeys(kind);
            assert.ok(accepted.length > 0);
            const description = project.config[settingsKey]?.description ?? "";
            const described = description.slice(description.lastIndexOf(":") + 1).split(",").map((w) => w.trim());
            assert.deepStrictEqual([...accepted].sort(), [...new Set(described)].sort(), `Pulumi.yaml config.${settingsKey}.description`);
            const inTable = tableKeys.filter((k) => k.startsWith(`${settingsKey}.`)).map((k) => k.slice(settingsKey.length + 1));
            assert.deepStrictEqual([...new Set(inTable)].sort(), [...accepted].sort(), `README configuration table, ${settingsKey}.*`);
            for (const key of Object.keys((project.config[settingsKey]?.default ?? {}) as object)) assert.ok(accepted.includes(key), `Pulumi.yaml default ${settingsKey}.${key} is not accepted`);
        });
    }

    it("documents every top-level key of Pulumi.yaml in the README's table", () => {
        for (const key of Object.keys(project.config)) {
            assert.ok(tableKeys.some((k) => k === key || k.startsWith(`${key}.`)), `onedigest:${key} is missing from the README's configuration table`);
        }
    });
});

describe("docs: Node.js version", () => {
    it("package.json, the README, deploy-local.sh and test.sh require what the pinned @pulumi/pulumi supports", () => {
        const sdk = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/@pulumi/pulumi/package.json"), "utf8")) as { engines: { node: string } };
        const major = /^>=(\d+)/.exec(sdk.engines.node)?.[1];
        assert.ok(major, `unexpected engines.node ${sdk.engines.node}`);
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
        assert.strictEqual(pkg.engines.node, `>=${major}`);
        assert.ok(readme.includes(`Node.js ${major}+`), "README names the Node.js version");
        assert.ok(!/Node\.js (1\d|2[01])\+/.test(readme), "README names an older Node.js");
        // Both commands set Node.js up the same way: scripts/toolchain.sh's ensure_node.
        const toolchain = fs.readFileSync(path.join(ROOT, "scripts/toolchain.sh"), "utf8");
        assert.match(toolchain, new RegExp(`"\\$major" -lt ${major} \\]`));
        assert.match(toolchain, new RegExp(`^NODE_FALLBACK=${major}\\.\\d+\\.\\d+$`, "m"));
        for (const script of ["scripts/deploy-local.sh", "scripts/test.sh"]) {
            const text = fs.readFileSync(path.join(ROOT, script), "utf8");
            assert.match(text, /^\. scripts\/toolchain\.sh$/m, `${script} sources scripts/toolchain.sh`);
            assert.match(text, /^ensure_node \|\| /m, `${script} calls ensure_node`);
        }
    });
});

describe("docs: the local app commands", () => {
    it("never overwrite an edited .env, and say where the dev server listens", () => {
        assert.ok(!/cp \.env\.example \.env(?! )/.test(readme.replace(/cp -n \.env\.example \.env/g, "")), "cp must not overwrite .env");
        assert.match(readme, /flask --app wsgi run --port 8080[\s\S]{0,400}serve on http:\/\/127\.0\.0\.1:8080/);
    });
});
