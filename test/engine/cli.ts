/**
 * Drives the real Pulumi CLI against a file backend in a temporary directory, as a user would:
 * `--non-interactive`, a fixed passphrase, results read with `pulumi stack output --json`.
 * Stacks get their config file in the temporary directory too, so nothing the repository tracks
 * is written.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { configPaths } from "../../validate";

export interface Result {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export const PASSPHRASE = "onedigest-engine-tests";

/**
 * With ONEDIGEST_CLI_LOG=FILE, every command `run` starts adds a JSON line to FILE: the test file
 * (test/engine/timing.ts sets it), the command and its first arguments (no values: a secret can be
 * an argument's neighbour), its exit code and milliseconds. bench/engine-calls.js sums them.
 */
function logCall(cmd: string, args: readonly string[], code: number, started: number): void {
    const file = process.env.ONEDIGEST_CLI_LOG;
    if (!file) return;
    const script = args.find((a) => a.endsWith(".sh"));
    const words = script ? [path.basename(script)] : args.filter((a) => /^[a-z][a-z-]*$/.test(a)).slice(0, 2);
    const line = { file: process.env.ONEDIGEST_TEST_FILE ?? "", cmd: path.basename(cmd), sub: words.join(" "), code, ms: Date.now() - started };
    fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/** Runs a command to completion; never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<Result> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs ?? 300_000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            logCall(cmd, args, code ?? 1, started);
            resolve({ code: code ?? 1, stdout, stderr });
        });
        child.stdin.end(opts.input ?? "");
    });
}

/** Throws with the command's output when it failed. */
export function ok(result: Result, what: string): Result {
    if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`);
    return result;
}

/** The environment every CLI call gets: this suite's backend and passphrase, no update checks or plugin downloads. */
export function cliEnv(backend: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: PASSPHRASE, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true", ...extra };
    // The commit a build reports comes from git, as on a user's machine, not from a CI variable.
    for (const name of ["LAST_COMMIT_SHA", "GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT", "CIRCLE_SHA1", "GIT_COMMIT", "PULUMI_CONFIG_PASSPHRASE_FILE"]) {
        delete env[name];
    }
    return env;
}

/** One stack of the project in `projectDir`, with its config file outside the project. */
export class Stack {
    readonly configFile: string;

    constructor(
        readonly name: string,
        readonly projectDir: string,
        readonly scratch: string,
        readonly env: NodeJS.ProcessEnv,
    ) {
        this.configFile = path.join(scratch, `Pulumi.${name}.yaml`);
    }

    /** Creates the stack from a scratch copy of Pulumi.yaml, so the salt lands in our config file. */
    static async create(name: string, projectDir: string, scratch: string, env: NodeJS.ProcessEnv, config: Record<string, unknown> = {}): Promise<Stack> {
        const initDir = fs.mkdtempSync(path.join(scratch, "init-"));
        fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(initDir, "Pulumi.yaml"));
        ok(await run("pulumi", ["stack", "init", name, "--non-interactive"], { cwd: initDir, env }), `pulumi stack init ${name}`);
        const stack = new Stack(name, projectDir, scratch, env);
        fs.copyFileSync(path.join(initDir, `Pulumi.${name}.yaml`), stack.configFile);
        fs.rmSync(initDir, { recursive: true, force: true });
        await stack.setAll(config);
        return stack;
    }

    /** `pulumi <args> --stack NAME --config-file FILE --non-interactive` from the project directory. */
    cli(args: readonly string[], opts: { input?: string; timeoutMs?: number; config?: boolean } = {}): Promise<Result> {
        const withConfig = opts.config === false ? [] : ["--config-file", this.configFile];
        return run("pulumi", [...args, "--stack", this.name, ...withConfig, "--non-interactive"], { cwd: this.projectDir, env: this.env, input: opts.input, timeoutMs: opts.timeoutMs });
    }

    /** Sets a string key (`onedigest:` added when it has no namespace). */
    async setConfig(key: string, value: string, opts: { secret?: boolean; path?: boolean } = {}): Promise<void> {
        const full = key.includes(":") ? key : `onedigest:${key}`;
        // The value goes on stdin, as a user pipes a secret: it never shows in a process list.
        const flags = [...(opts.secret ? ["--secret"] : []), ...(opts.path ? ["--path"] : [])];
        ok(await this.cli(["config", "set", full, ...flags], { input: value }), `pulumi config set ${full}`);
    }

    /** Sets many keys in one call, lists and objects element by element (`set-all --path`). */
    async setAll(config: Record<string, unknown>): Promise<void> {
        const pairs = Object.entries(config)
            .flatMap(([key, value]) => configPaths(key.includes(":") ? key : `onedigest:${key}`, value))
            .map(([path, value]) => `${path}=${String(value)}`);
        if (pairs.length > 0) ok(await this.cli(["config", "set-all", "--path", ...pairs.flatMap((p) => ["--plaintext", p])]), "pulumi config set-all");
    }

    async up(): Promise<Result> {
        return this.cli(["up", "--yes", "--skip-preview", "--diff"], { timeoutMs: 600_000 });
    }

    async outputs(): Promise<Record<string, unknown>> {
        const result = ok(await this.cli(["stack", "output", "--json"], { config: false }), `pulumi stack output ${this.name}`);
        return JSON.parse(result.stdout) as Record<string, unknown>;
    }

    /** The resources the stack's state holds, by type. */
    async resourceTypes(): Promise<string[]> {
        const result = ok(await this.cli(["stack", "export"], { config: false }), `pulumi stack export ${this.name}`);
        const state = JSON.parse(result.stdout) as { deployment: { resources?: Array<{ type: string }> } };
        return (state.deployment.resources ?? []).map((r) => r.type);
    }

    /** Destroys the stack's resources and removes the stack. */
    async remove(): Promise<void> {
        ok(await this.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 300_000 }), `pulumi destroy ${this.name}`);
        // --preserve-config: the stack's config lives in the scratch directory, and a stack named like a
        // shipped one (dev, prod) would otherwise take the project's Pulumi.<stack>.yaml with it.
        ok(await this.cli(["stack", "rm", "--yes", "--force", "--preserve-config"], { config: false }), `pulumi stack rm ${this.name}`);
    }
}

/** A temporary directory for one suite, removed by the caller. */
export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The steps a `pulumi preview --json` proposes, as `op type name` (same steps left out). */
export function changedSteps(previewJson: string): string[] {
    const preview = JSON.parse(previewJson) as { steps?: Array<{ op: string; urn: string }> };
    return (preview.steps ?? [])
        .filter((s) => s.op !== "same")
        .map((s) => {
            const parts = s.urn.split("::");
            const type = parts[2].split("$").pop() ?? "";
            return `${s.op} ${type} ${parts[3]}`;
        });
}
