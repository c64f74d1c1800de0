/**
 * Every `pulumi config …` command README.md and the pages under docs/ show (the configuration
 * tables, the steps before the first `pulumi up`, switching clouds, pinning and promotion), read
 * from the pages themselves so they cannot drift, run through bash with the real CLI against a
 * scratch stack, and then accepted by the program's validation.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { loadConfig, type ConfigSources } from "../../config";
import { PROJECT } from "../../validate";
import { ROOT } from "../mocks";
import { Stack, cliEnv, ok, run, tempDir } from "./cli";

/** README.md and every Markdown page under docs/, as paths relative to the repository. */
export function docPages(root: string): string[] {
    const pages: string[] = [];
    const walk = (dir: string): void => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.name.endsWith(".md")) pages.push(path.relative(root, full));
        }
    };
    if (fs.existsSync(path.join(root, "docs"))) walk(path.join(root, "docs"));
    return ["README.md", ...pages.sort()];
}

/**
 * The `pulumi config set|rm …` commands of one page, each as one unit: every line of a fenced code
 * block that starts with one (without its comment and a trailing `&& pulumi up`, which the other
 * engine tests prove), and every inline code span holding one (table cells and prose).
 */
export function configCommands(markdown: string): string[] {
    const units: string[] = [];
    // "`pulumi config set …`" names the shape of a command, not one to run.
    const command = /^pulumi config (?:set|rm) [^\s…]/;
    let fenced = false;
    const prose: string[] = [];
    for (const line of markdown.split("\n")) {
        if (/^\s*```/.test(line)) {
            fenced = !fenced;
            prose.push("");
        } else if (fenced) {
            const code = line.trim();
            // Run the config part; the `pulumi up` after it is what the other engine tests prove.
            if (command.test(code)) units.push(code.replace(/\s+#.*$/, "").replace(/\s*&&\s*pulumi up$/, ""));
            prose.push("");
        } else prose.push(line);
    }
    for (const [, span] of prose.join("\n").matchAll(/`([^`]+)`/g)) {
        const code = span.replace(/\s*\n\s*/g, " ").trim();
        if (command.test(code)) units.push(code);
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

describe("real engine: the configuration commands of README.md and docs/", function () {
    let scratch = "";
    let base: Stack;
    const found = docPages(ROOT).map((page) => ({ page, commands: configCommands(fs.readFileSync(path.join(ROOT, page), "utf8")) }));
    const commands = found.flatMap(({ page, commands }) => commands.map((command) => ({ page, command })));

    before(async function () {
        scratch = tempDir("onedigest-readme-");
        fs.mkdirSync(path.join(scratch, "state"));
        // Every target, with what a cloud stack needs, so each command reaches a parser that checks it.
        base = await Stack.create("readme", ROOT, scratch, cliEnv(path.join(scratch, "state")), {
            targets: ["local", "heroku", "aws-ecs", "aws-beanstalk", "aws-ecs-express", "gcp-cloudrun"],
            "aws:region": "eu-west-1",
            "gcp:project": "acme-shop-dev",
            "gcp:region": "europe-west1",
        });
        await base.setConfig("secretKey", "readme-secret-0123456789", { secret: true });
        await base.setConfig("herokuApiKey", "readme-heroku-key", { secret: true });
    });

    after(() => scratch && fs.rmSync(scratch, { recursive: true, force: true }));

    it("finds the commands: the configuration tables, the first-up steps, switching clouds", () => {
        const count = (page: string) => found.find((f) => f.page === page)?.commands.length ?? 0;
        assert.ok(commands.length >= 30, `only ${commands.length} commands found in ${found.map((f) => f.page).join(", ")}`);
        assert.ok(count("README.md") > 0, "no command found in README.md");
        assert.ok(count("docs/configuration.md") >= 30, `only ${count("docs/configuration.md")} commands found in docs/configuration.md`);
        assert.ok(commands.some(({ command }) => command.includes("--secret secretKey")));
    });

    it("reads commands from code blocks, table cells and prose, and nothing else", () => {
        const page = [
            "Set it: `pulumi config set --path onedigest:app.name shop`; the `pulumi config set` command; `pulumi config set …`.",
            "| `x` | `pulumi config rm onedigest:targets && pulumi config set --path 'onedigest:targets[0]' heroku` |",
            "   ```bash",
            "   pulumi config set aws:region eu-west-1   # a comment",
            "   pulumi config rm --path onedigest:image.ref && pulumi up",
            "   pulumi up",
            "   ```",
            "pulumi config set outside a block is prose",
        ].join("\n");
        assert.deepStrictEqual(configCommands(page), [
            "pulumi config set aws:region eu-west-1",
            "pulumi config rm --path onedigest:image.ref",
            "pulumi config set --path onedigest:app.name shop",
            "pulumi config rm onedigest:targets && pulumi config set --path 'onedigest:targets[0]' heroku",
        ]);
    });

    it("runs each one with the real CLI, and the program accepts the result", async function () {
        const baseline = fs.readFileSync(base.configFile, "utf8");
        const failures: string[] = [];
        for (const { page, command } of commands) {
            fs.writeFileSync(base.configFile, baseline);
            // `pulumi` aims at the scratch stack; `heroku` stands in for the Heroku CLI (not on this machine).
            const prelude = [
                `pulumi() { command pulumi "$@" --stack ${base.name} --config-file '${base.configFile}' --non-interactive; }`,
                `heroku() { echo readme-heroku-key-from-cli; }`,
            ].join("\n");
            const result = await run("bash", ["-euo", "pipefail", "-c", `${prelude}\n${command}`], { cwd: ROOT, env: base.env });
            if (result.code !== 0) {
                failures.push(`${page}: ${command}\n    exited ${result.code}: ${result.stderr.trim()}`);
                continue;
            }
            const all = JSON.parse(ok(await base.cli(["config", "--json", "--show-secrets"]), "pulumi config --json").stdout) as Record<string, { value?: string; objectValue?: unknown }>;
            try {
                loadConfig(sourcesFrom(all));
            } catch (err) {
                failures.push(`${page}: ${command}\n    refused: ${(err as Error).message}`);
            }
        }
        assert.deepStrictEqual(failures, []);
    });
});
