/**
 * What a lifecycle scenario of onedigest's stacks runs against: a copy of this working tree with
 * a git history of its own (so a scenario can change app/ and commit without touching the
 * checkout others work in), the fake clouds (test/engine/clouds.ts: fake aws and gcp plugins, the
 * ECR and Artifact Registry stand-ins), the fake Heroku Platform API with a registry that answers
 * only to Heroku's `_` login, and a file backend. Stacks get the shipped stack file's config and
 * what only an owner can set.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { parse as parseYaml } from "yaml";

import { FakeHeroku } from "../../heroku/fakeHeroku";
import { ROOT } from "../../mocks";
import { SecureRegistry } from "../../registry";
import { FakeClouds, basic } from "../clouds";
import { Stack, cliEnv, tempDir } from "../cli";

export const HEROKU_KEY = "day2-heroku-key-0123456789";

export function git(cwd: string, ...args: string[]): string {
    return execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } }).trim();
}

/**
 * A copy of the working tree (tracked and new files, as they are now; a symlinked node_modules, as a
 * worktree has it, is linked below, not copied) with a git history of its own; with `ref`
 * (ONEDIGEST_DAY2_REF), the tree of that commit instead, to run a scenario against an earlier or
 * later program.
 */
export function checkout(into: string, ref: string | undefined = process.env.ONEDIGEST_DAY2_REF): string {
    const dir = path.join(into, "onedigest");
    fs.mkdirSync(dir);
    if (ref) {
        execFileSync("bash", ["-c", `git -C "${ROOT}" archive --format=tar "$0" | tar -x -C "${dir}"`, ref]);
    } else {
        const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: ROOT }).toString().split("\0").filter((f) => f && fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile());
        for (const file of files) {
            const to = path.join(dir, file);
            fs.mkdirSync(path.dirname(to), { recursive: true });
            fs.copyFileSync(path.join(ROOT, file), to);
            fs.chmodSync(to, fs.statSync(path.join(ROOT, file)).mode);
        }
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    git(dir, "init", "-q");
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "checkout");
    return dir;
}

export class World {
    readonly heroku = new FakeHeroku(HEROKU_KEY);
    readonly herokuRegistry = new SecureRegistry({ _: HEROKU_KEY });
    readonly stacks: Stack[] = [];
    scratch = "";
    /** The copy of the working tree the stacks run from. */
    dir = "";
    env: NodeJS.ProcessEnv = {};
    clouds!: FakeClouds;

    async start(): Promise<void> {
        if (!(process.env.DOCKER_HOST && process.env.NODE_EXTRA_CA_CERTS)) throw new Error("no engine: run with scripts/docker-env.sh's environment (DOCKER_HOST, NODE_EXTRA_CA_CERTS)");
        this.scratch = tempDir("onedigest-day2-");
        this.dir = checkout(this.scratch);
        this.clouds = await FakeClouds.start(this.scratch);
        await this.herokuRegistry.start();
        await this.heroku.start();
        const backend = path.join(this.scratch, "state");
        fs.mkdirSync(backend);
        this.env = cliEnv(backend, { ...this.clouds.env(), HEROKU_API_URL: this.heroku.url, HEROKU_REGISTRY_URL: `https://${this.herokuRegistry.host}` });
    }

    async stop(): Promise<void> {
        for (const s of this.stacks.reverse()) await s.remove().catch((err: Error) => console.log(`      cleanup of ${s.name}: ${err.message.split("\n")[0]}`));
        await this.heroku.stop();
        await this.herokuRegistry.stop();
        if (this.clouds) await this.clouds.stop();
        if (this.scratch) fs.rmSync(this.scratch, { recursive: true, force: true });
    }

    /** A stack named as a shipped one, with that stack file's config, `owner`'s values and `secrets`. */
    async stack(name: string, owner: Record<string, unknown>, secrets: Record<string, string>): Promise<Stack> {
        const file = parseYaml(fs.readFileSync(path.join(this.dir, `Pulumi.${name}.yaml`), "utf8")) as { config?: Record<string, unknown> };
        const s = await Stack.create(name, this.dir, this.scratch, this.env, { ...(file.config ?? {}), ...this.clouds.gcpConfig(), ...owner });
        for (const [key, value] of Object.entries(secrets)) await s.setConfig(key, value, { secret: true });
        this.stacks.push(s);
        return s;
    }

    /** Commits a change under app/ in the copy: the next build is of other bits, at another commit. */
    changeApp(note: string): string {
        fs.appendFileSync(path.join(this.dir, "app", "wsgi.py"), `\n# ${note}\n`);
        git(this.dir, "commit", "-qam", note);
        return git(this.dir, "rev-parse", "HEAD");
    }

    /** The tags of a repository in the Heroku registry stand-in. */
    async herokuTags(repository: string): Promise<string[]> {
        const res = await fetch(`https://${this.herokuRegistry.host}/v2/${repository}/tags/list`, { headers: { Authorization: basic({ username: "_", password: HEROKU_KEY }) } });
        if (res.status === 404) return [];
        return ((await res.json()) as { tags?: string[] | null }).tags?.sort() ?? [];
    }
}
