/** Helpers shared by the program tests (no mocha hooks registered on import). */
import * as pulumi from "@pulumi/pulumi";

import { loadConfig, type ConfigSources } from "../config";
import { isSecret } from "./mocks";

/** Config sources for pure tests (no mocks needed). */
export function sources(values: Record<string, unknown>, extra: Partial<ConfigSources> = {}): ConfigSources {
    return {
        stack: "test",
        values,
        secretKey: pulumi.secret("s"),
        secret: () => undefined,
        providerConfig: () => undefined,
        env: {},
        ...extra,
    };
}

export function configError(values: Record<string, unknown>, extra: Partial<ConfigSources> = {}): string {
    try {
        loadConfig(sources(values, extra));
    } catch (err) {
        return (err as Error).message;
    }
    throw new Error("expected a config error");
}

/** Every string anywhere inside a value. */
export function strings(value: unknown): string[] {
    if (typeof value === "string") return [value];
    if (Array.isArray(value)) return value.flatMap(strings);
    if (typeof value === "object" && value !== null) return Object.values(value).flatMap(strings);
    return [];
}

/** Strings outside any secret wrapper. */
export function plainStrings(value: unknown): string[] {
    if (isSecret(value)) return [];
    if (typeof value === "string") return [value];
    if (Array.isArray(value)) return value.flatMap(plainStrings);
    if (typeof value === "object" && value !== null) return Object.values(value).flatMap(plainStrings);
    return [];
}

/**
 * Sets up a describe block's program run: once for the block, or before every test when
 * ONEDIGEST_PROGRAM_PER_TEST=1 (scripts/mutation-program.sh). Mutation testing counts what runs
 * in a once-per-block hook as covered by no test in particular, and then runs every test for each
 * mutant it reaches; run per test, each mutant gets only the tests that reach it.
 */
export function beforeProgram(setUp: () => Promise<void>): void {
    if (process.env.ONEDIGEST_PROGRAM_PER_TEST === "1") beforeEach(setUp);
    else before(setUp);
}
