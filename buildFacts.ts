/**
 * The facts a build bakes into the image and `scripts/verify.sh` checks the running bits against:
 * this checkout's commit and the project's version. A module of its own, with nothing but Node.js
 * underneath, so the verify step loads in milliseconds instead of loading the program (image.ts
 * builds with both, and re-exports them where its tests import them).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The project's root: this file sits beside Pulumi.yaml and package.json. */
const ROOT = __dirname;

/** CI variables that carry the commit being built, in the order they are trusted. */
const COMMIT_ENV = ["LAST_COMMIT_SHA", "GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT", "CIRCLE_SHA1", "GIT_COMMIT"];

export function commitSha(env: Readonly<Record<string, string | undefined>> = process.env, cwd: string = ROOT): string {
    for (const name of COMMIT_ENV) {
        const value = env[name]?.trim();
        if (value) return value;
    }
    try {
        return execFileSync("git", ["rev-parse", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString().trim() || "unknown";
    } catch {
        return "unknown";
    }
}

export function packageVersion(file: string = path.join(ROOT, "package.json")): string {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}
