/**
 * Every `pulumi config …` command the README shows (its configuration table and the steps before
 * the first `pulumi up`), read from README.md itself so the README cannot drift, run through bash
 * with the real CLI against a scratch stack, and then accepted by the program's validation.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { loadConfig, type ConfigSources } from "../../config";
import { PROJECT } from "../../validate";
import { ROOT } from "../mocks";
import { Stack, cliEnv, ok, run, tempDir } from "./cli";

/** The backticked `pulumi config …` commands of the README, each table cell or code line as one unit. */
export function readmeConfigCommands(readme: string): string[] {
    const units: string[] = [];
    for (const line of readme.split("\n")) {
        if (line.startsWith("|")) {
            for (const cell of line.match(/`[^`]*pulumi config (?:set|rm)[^`]*`/g) ?? []) units.push(cell.slice(1, -1));
        } else if (/^pulumi config (set|rm) /.test(line)) {
            // Run the config part; the `pulumi up` after it is what the other engine tests prove.
            units.push(line.replace(/\s+#.*$/, "").replace(/\s*&&\s*pulumi up$/, ""));
        }
    }
    return units;
}

/** The stack's config as `loadConfig` reads it from the engine. */
function sourcesFrom(all: Record<string, { value?: string; objectValue?: unknown; secret?: boolean }>): ConfigSources {
    const values: Record<string, unknown> = {};
    const secrets: Record<string, string> = {};
    const provider: Record<string, string> = {};
    for (const [key, entry] of Object.entries(all)) {
        const [ns, name] = key.split(":");
        const value = entry.objectValue ?? entry.value;
        if (ns !== PROJECT) provider[key] = String(value);
        else if (name === "secretKey" || name === "herokuApiKey") secrets[name] = String(value);
        else values[name] = typeof value === "string" ? (() => { try { return JSON.parse(value) as unknown; } catch { return value; } })() : value;
    }
    return {
        stack: "readme",
        values,
        secretKey: secrets.secretKey ? pulumi.secret(secrets.secretKey) : undefined,
        secret: (key) => (secrets[key] ? pulumi.secret(secrets[key]) : undefined),
        providerConfig: (ns, key) => provider[`${ns}:${key}`],
        env: {},
        setKeys: Object.keys(values),
        secretKeys: Object.entries(all).filter(([, entry]) => entry.secret).map(([key]) => key),
    };
}

describe("real engine: the README's configuration commands", function () {
    let scratch = "";
    let base: Stack;
    const commands = readmeConfigCommands(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));

    before(async function () {
        scratch = tempDir("onedigest-readme-");
        fs.mkdirSync(path.join(scratch, "state"));
        // Every target, with what a cloud stack needs, so each command reaches a parser that checks it.
        base = await Stack.create("readme", ROOT, scratch, cliEnv(path.join(scratch, "state")), {
            targets: ["local", "heroku", "aws-ecs", "aws-beanstalk", "gcp-cloudrun"],
            "aws:region": "eu-west-1",
            "gcp:project": "acme-shop-dev",
            "gcp:region": "europe-west1",
        });
        await base.setConfig("secretKey", "readme-secret-0123456789", { secret: true });
        await base.setConfig("herokuApiKey", "readme-heroku-key", { secret: true });
    });

    after(() => scratch && fs.rmSync(scratch, { recursive: true, force: true }));

    it("finds the commands (the configuration table and the first-up steps)", () => {
        assert.ok(commands.length >= 30, `only ${commands.length} commands found in README.md`);
        assert.ok(commands.some((c) => c.includes("--secret secretKey")));
    });

    it("runs each one with the real CLI, and the program accepts the result", async function () {
        const baseline = fs.readFileSync(base.configFile, "utf8");
        const failures: string[] = [];
        for (const command of commands) {
            fs.writeFileSync(base.configFile, baseline);
            // `pulumi` aims at the scratch stack; `heroku` stands in for the Heroku CLI (not on this machine).
            const prelude = [
                `pulumi() { command pulumi "$@" --stack ${base.name} --config-file '${base.configFile}' --non-interactive; }`,
                `heroku() { echo readme-heroku-key-from-cli; }`,
            ].join("\n");
            const result = await run("bash", ["-euo", "pipefail", "-c", `${prelude}\n${command}`], { cwd: ROOT, env: base.env });
            if (result.code !== 0) {
                failures.push(`${command}\n    exited ${result.code}: ${result.stderr.trim()}`);
                continue;
            }
            const all = JSON.parse(ok(await base.cli(["config", "--json", "--show-secrets"]), "pulumi config --json").stdout) as Record<string, { value?: string; objectValue?: unknown }>;
            try {
                loadConfig(sourcesFrom(all));
            } catch (err) {
                failures.push(`${command}\n    refused: ${(err as Error).message}`);
            }
        }
        assert.deepStrictEqual(failures, []);
    });
});
