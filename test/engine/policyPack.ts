/**
 * The policy pack (policy/, docs/policy.md) on the real CLI, for the tests that run with it:
 * test/engine/policy.test.ts (its fixtures and the local stack) and the day-2 scenarios, whose
 * first `up` and empty second preview of each shipped stack run with `--policy-pack policy` — every
 * resource checked with the inputs it is really deployed with, and no mandatory violation.
 *
 * The CLI starts a Node.js pack through its language host's RunPlugin, which the offline
 * toolchain's v3.68 host refuses ("not supported"), so the commands that take the pack run with
 * policy/toolchain first on PATH: a host that passes every call to that one and runs the pack
 * itself (policy/toolchain/runPlugin.js). An official install does not need it.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { ROOT } from "../mocks";
import { Stack, ok, type Result } from "./cli";

export const POLICY = path.join(ROOT, "policy");
export const TOOLCHAIN = path.join(POLICY, "toolchain");

export interface PolicyEvent {
    readonly policyName: string;
    readonly enforcementLevel: string;
    readonly message: string;
    readonly resourceUrn?: string;
}

/** The policy events of a `pulumi preview --json` run with PULUMI_ENABLE_STREAMING_JSON_PREVIEW. */
export function policyEvents(stdout: string): PolicyEvent[] {
    return stdout
        .split("\n")
        .filter((line) => line.includes('"policyEvent"'))
        .map((line) => (JSON.parse(line) as { policyEvent: PolicyEvent }).policyEvent);
}

/**
 * The policies an `up` or a preview reports violated, each once: under "Policies:"
 * (`- [level]  policy  (type: name)`), or, with `--diff`, beside the resource
 * (`pack@vX.Y.Z [level]  policy  (type: name)`).
 */
export function printedViolations(output: string): string[] {
    const found = [...output.matchAll(/^\s+(?:- |\S+@v\S+ )\[(mandatory|advisory|disabled)\]\s+(\S+)/gm)].map((m) => `${m[1]} ${m[2]}`);
    return [...new Set(found)].sort();
}

/** An environment whose CLI can run the pack (policy/toolchain first on PATH). */
export function packEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const pathValue = env.PATH ?? process.env.PATH ?? "";
    return pathValue.startsWith(`${TOOLCHAIN}${path.delimiter}`) ? env : { ...env, PATH: `${TOOLCHAIN}${path.delimiter}${pathValue}` };
}

/** Fails unless policy/'s own dependencies are installed (scripts/test.sh's policy stage runs npm ci there). */
export function assertPackInstalled(): void {
    assert.ok(fs.existsSync(path.join(POLICY, "node_modules", "@pulumi", "policy")), "the pack's dependencies are not installed: npm ci in policy/ (scripts/test.sh's policy stage does)");
}

/**
 * `pulumi <command> … --policy-pack policy` on `stack` (an `up` as Stack.up runs it, or a preview
 * with `args`): it must succeed and print exactly `advisories` (`advisory <policy>`), no mandatory
 * violation. Returns the result for the caller's own checks.
 */
export async function withPack(stack: Stack, command: "up" | "preview", advisories: readonly string[] = [], args: readonly string[] = []): Promise<Result> {
    assertPackInstalled();
    const packed = new Stack(stack.name, stack.projectDir, stack.scratch, packEnv(stack.env));
    const base = command === "up" ? ["up", "--yes", "--skip-preview", "--diff"] : ["preview"];
    const result = ok(await packed.cli([...base, ...args, "--policy-pack", POLICY], { timeoutMs: 600_000 }), `pulumi ${command} ${stack.name} --policy-pack policy`);
    assert.deepStrictEqual(printedViolations(result.stdout), advisories.map((a) => `advisory ${a}`).sort(), `${stack.name}: the pack's findings\n${result.stdout.slice(-3000)}`);
    return result;
}
