/**
 * The README's main command, run as written on a clean checkout with the real Pulumi CLI, language
 * host and Docker provider, on either of Docker's image stores: `bash scripts/deploy-local.sh`, a
 * repeat preview that must be empty, an edit under app/ that must rebuild and replace, and
 * `destroy`. Effects are checked on the engine (`docker inspect`, `docker save`, HTTP), not on
 * Pulumi's report of them.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

import { ROOT } from "../mocks";
import { docker, engineStore, expectedStore, savedConfigDigest } from "../pipeline/docker";
import { changedSteps, ok, run, tempDir, type Result } from "./cli";

const LOCAL_PORT = 8080; // Pulumi.local.yaml's onedigest:local.port, as shipped
const PROMETHEUS_PORT = 9090; // onedigest:local.prometheusPort, as shipped
const CONTAINER = "onedigest-local"; // `${app.name}-local`

function git(cwd: string, ...args: string[]): string {
    return execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } }).trim();
}

/** A clean checkout of the working tree (tracked and new files, as they are now; a symlinked node_modules is linked below, not copied) with its own git history. */
function checkout(into: string): string {
    const dir = path.join(into, "onedigest");
    fs.mkdirSync(dir);
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: ROOT }).toString().split("\0").filter((f) => f && fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile());
    for (const file of files) {
        const to = path.join(dir, file);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(path.join(ROOT, file), to);
        const st = fs.statSync(path.join(ROOT, file));
        fs.chmodSync(to, st.mode);
        fs.utimesSync(to, st.atime, st.mtime);
    }
    // The installed dependencies, as `npm ci` left them (deploy-local.sh reinstalls only when the lock is newer).
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    git(dir, "init", "-q");
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "checkout");
    return dir;
}

function portFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(false));
        server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
}

describe("real engine: bash scripts/deploy-local.sh as the README says", function () {
    let scratch = "";
    let dir = "";
    let env: NodeJS.ProcessEnv = {};
    const deploy = (...args: string[]): Promise<Result> => run("bash", ["scripts/deploy-local.sh", ...args], { cwd: dir, env, timeoutMs: 600_000 });

    before(async function () {
        assert.ok(process.env.DOCKER_HOST, "no engine: run through scripts/test.sh, which starts dockerd (scripts/docker-env.sh)");
        assert.strictEqual(engineStore(), expectedStore(), "the engine runs the image store the suite started it with");
        assert.ok(await portFree(LOCAL_PORT), `127.0.0.1:${LOCAL_PORT} is taken: the local stack publishes the app there; stop what listens on it`);
        assert.ok(await portFree(PROMETHEUS_PORT), `127.0.0.1:${PROMETHEUS_PORT} is taken: the local stack publishes its Prometheus there; stop what listens on it`);
        scratch = tempDir("onedigest-deploy-local-");
        dir = checkout(scratch);
        env = { ...process.env };
        // As on a user's machine: no backend, passphrase or commit given; the script chooses.
        for (const name of ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "LAST_COMMIT_SHA", "GITHUB_SHA"]) delete env[name];
    });

    after(async function () {
        if (dir && fs.existsSync(path.join(dir, ".pulumi-state"))) await deploy("destroy");
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    });

    /** The resource types in the stack's state, as the file backend holds them. */
    const stateTypes = (): string[] => {
        const file = path.join(dir, ".pulumi-state", ".pulumi", "stacks", "onedigest", "local.json");
        const checkpoint = JSON.parse(fs.readFileSync(file, "utf8")) as { checkpoint: { latest?: { resources?: Array<{ type: string }> } } };
        return (checkpoint.checkpoint.latest?.resources ?? []).map((r) => r.type);
    };

    let outputs: { imageId: string; url: string; deployments: Record<string, { image: string; imageId: string; url: string; dashboard: string }> };

    it("deploys: /healthcheck answers with the commit, and the exported imageId is the running container's image", async () => {
        const result = ok(await deploy(), "deploy-local.sh");
        const commit = git(dir, "rev-parse", "HEAD");
        const res = await fetch(`http://127.0.0.1:${LOCAL_PORT}/healthcheck`);
        assert.strictEqual(res.status, 200);
        const health = ((await res.json()) as { myapplication: Array<{ lastcommitsha: string; imageid: string }> }).myapplication[0];
        assert.strictEqual(health.lastcommitsha, commit);
        // The published port serves the app, not its metrics (those stay on 9100 inside the container).
        assert.strictEqual((await fetch(`http://127.0.0.1:${LOCAL_PORT}/metrics`)).status, 404);

        const env2 = { ...env, PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}` };
        outputs = JSON.parse(ok(await run("pulumi", ["stack", "output", "--json", "--stack", "local"], { cwd: dir, env: env2 }), "stack output").stdout) as typeof outputs;
        assert.match(outputs.imageId, /^sha256:[0-9a-f]{64}$/);
        // The running container's image, exported: its config digest is the stack's imageId. The
        // engine's own ID of it is that digest on the classic store, a manifest digest on containerd.
        const running = docker("inspect", "--format", "{{.Image}}", CONTAINER);
        assert.strictEqual(savedConfigDigest(running), outputs.imageId);
        assert.strictEqual(outputs.deployments.local.image, expectedStore() === "classic" ? outputs.imageId : `onedigest@${running}`);
        assert.strictEqual(running === outputs.imageId, expectedStore() === "classic");
        assert.strictEqual(docker("inspect", "--format", "{{.State.Health.Status}}", CONTAINER), "healthy");
        assert.strictEqual(outputs.deployments.local.imageId, outputs.imageId);
        assert.strictEqual(outputs.url, `http://localhost:${LOCAL_PORT}`);
        // Prometheus beside it (its alerts fire in localPrometheus.test.ts): the exported dashboard, scraping the app.
        assert.strictEqual(outputs.deployments.local.dashboard, `http://127.0.0.1:${PROMETHEUS_PORT}`);
        assert.strictEqual((await fetch(`http://127.0.0.1:${PROMETHEUS_PORT}/-/ready`)).status, 200);
        // The running bits say which bits they are, and the script's post-deploy check saw that.
        assert.strictEqual(health.imageid, outputs.imageId);
        assert.match(result.stdout, new RegExp(`^ok    local  http://localhost:${LOCAL_PORT}  ${outputs.imageId}  \\d+ ms$`, "m"));
    });

    // The container as the local stack runs it, probed through its published port: wapiti, bounded
    // to about two minutes, modules that need no outside network (scripts/dast.sh). Once, on the
    // classic store (scripts/test.sh sets ONEDIGEST_DAST=0 for the containerd one: the same bits).
    it("DAST: wapiti finds nothing above informational that checks/accepted-findings.txt gives no reason for", async function () {
        if (process.env.ONEDIGEST_DAST === "0") this.skip();
        const result = ok(await run("bash", ["scripts/dast.sh", `http://127.0.0.1:${LOCAL_PORT}/`], { cwd: dir, env, timeoutMs: 400_000 }), "scripts/dast.sh");
        assert.match(result.stdout, /^dast: 2 passed, 0 failed$/m);
    });

    it("verify: passes against the running container, and fails naming the target when the stack claims other bits", async () => {
        const good = ok(await deploy("verify", "--timeout", "30"), "deploy-local.sh verify");
        assert.match(good.stdout, new RegExp(`^ok    local  http://localhost:${LOCAL_PORT}  ${outputs.imageId}`, "m"));
        // The same container, checked against outputs that claim another image ID.
        const other = `sha256:${"0".repeat(64)}`;
        const claimed = JSON.stringify({ ...outputs, imageId: other, deployments: { local: { ...outputs.deployments.local, imageId: other } } });
        const bad = await run(
            "node",
            ["--require", "ts-node/register/transpile-only", "--eval", 'require("./scripts/verify").main(process.argv.slice(1))', "--", "--timeout", "3"],
            { cwd: dir, env, input: claimed },
        );
        assert.strictEqual(bad.code, 1);
        assert.match(bad.stdout, new RegExp(`^FAIL  local  http://localhost:${LOCAL_PORT}  reports imageid ${outputs.imageId}, expected ${other}`, "m"));
        assert.strictEqual(bad.stderr.trim(), `verify: local did not prove ${other}`);
    });

    it("leaves the checkout clean and writes no secret into a tracked file", () => {
        assert.strictEqual(git(dir, "status", "--porcelain"), "");
        // The one secret the script sets, in the machine's own (ignored) stack file: ciphertext only.
        const stackFile = fs.readFileSync(path.join(dir, "Pulumi.local.yaml"), "utf8");
        assert.match(stackFile, /^ {2}onedigest:secretKey:\n {4}secure: v1:\S+$/m);
        assert.strictEqual(stackFile.match(/secure:/g)?.length, 1, stackFile);
        const stateDir = path.join(dir, ".pulumi-state");
        assert.strictEqual(fs.statSync(stateDir).mode & 0o077, 0, ".pulumi-state must be private to its owner");
        assert.strictEqual(fs.statSync(path.join(stateDir, "passphrase")).mode & 0o077, 0, "the generated passphrase must be private to its owner");
    });

    it("keeps the SECRET_KEY in the container, secret in state", () => {
        const envs = JSON.parse(docker("inspect", "--format", "{{json .Config.Env}}", CONTAINER)) as string[];
        const key = envs.find((e) => e.startsWith("SECRET_KEY="))?.slice("SECRET_KEY=".length) ?? "";
        assert.match(key, /^[0-9a-f]{64}$/);
        const files = [...(fs.readdirSync(path.join(dir, ".pulumi-state"), { recursive: true }) as string[]).map((f) => path.join(".pulumi-state", f)), ...git(dir, "ls-files", "-co").split("\n")];
        const plain = files.filter((f) => fs.statSync(path.join(dir, f)).isFile() && fs.readFileSync(path.join(dir, f), "utf8").includes(key));
        assert.deepStrictEqual(plain, [], "the SECRET_KEY must not appear in plain text in the state, the stack file or the checkout");
        // Set once as the stack's secret config, so no `up` starts the generator's dynamic provider.
        assert.deepStrictEqual(stateTypes().filter((t) => t.includes("GeneratedSecret")), []);
    });

    it("a plain `pulumi preview --stack local`, as a Pulumi user runs it, shares the script's config and leaves the checkout clean", async () => {
        const state = path.join(dir, ".pulumi-state");
        const plain = { ...env, PULUMI_BACKEND_URL: `file://${state}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(state, "passphrase") };
        ok(await run("pulumi", ["preview", "--stack", "local", "--expect-no-changes", "--non-interactive"], { cwd: dir, env: plain }), "pulumi preview --stack local");
        assert.strictEqual(git(dir, "status", "--porcelain"), "");
    });

    it("previews no changes right after (pulumi preview --expect-no-changes)", async () => {
        ok(await deploy("preview", "--expect-no-changes", "--diff"), "preview --expect-no-changes");
    });

    it("previews an image rebuild and a container replacement after a change under app/", async () => {
        const file = path.join(dir, "app", "wsgi.py");
        const before = fs.readFileSync(file, "utf8");
        fs.appendFileSync(file, "\n# a change\n");
        try {
            const steps = changedSteps(ok(await deploy("preview", "--json"), "preview --json").stdout);
            assert.ok(steps.some((s) => /^(update|replace|create-replacement) docker:index\/image:Image /.test(s)), `no image rebuild in: ${steps.join("; ")}`);
            assert.ok(steps.some((s) => /^(replace|create-replacement) docker:index\/container:Container /.test(s)), `no container replacement in: ${steps.join("; ")}`);
        } finally {
            fs.writeFileSync(file, before);
        }
    });

    // A stack whose state holds a key the program generated (deploy-local.sh before it set one, or a
    // plain `pulumi up` without onedigest:secretKey): the script moves that value into the config, so
    // the running container, and every session signed with its key, is left as it was.
    it("keeps a key generated into state by an earlier up: same SECRET_KEY, same container, the generator gone", async () => {
        const plain = { ...env, PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(dir, ".pulumi-state", "passphrase") };
        ok(await run("pulumi", ["config", "rm", "onedigest:secretKey", "--stack", "local"], { cwd: dir, env: plain }), "config rm");
        ok(await run("pulumi", ["up", "--stack", "local", "--yes", "--skip-preview", "--non-interactive"], { cwd: dir, env: plain, timeoutMs: 600_000 }), "pulumi up without secretKey");
        assert.strictEqual(stateTypes().filter((t) => t.includes("GeneratedSecret")).length, 1);
        const secretKey = () => (JSON.parse(docker("inspect", "--format", "{{json .Config.Env}}", CONTAINER)) as string[]).find((e) => e.startsWith("SECRET_KEY="));
        const [generated, container] = [secretKey(), docker("inspect", "--format", "{{.Id}}", CONTAINER)];
        assert.match(generated ?? "", /^SECRET_KEY=[0-9a-f]{64}$/);

        ok(await deploy(), "deploy-local.sh over a generated key");
        assert.strictEqual(secretKey(), generated);
        assert.strictEqual(docker("inspect", "--format", "{{.Id}}", CONTAINER), container, "the container must not be replaced");
        assert.deepStrictEqual(stateTypes().filter((t) => t.includes("GeneratedSecret")), []);
        assert.match(fs.readFileSync(path.join(dir, "Pulumi.local.yaml"), "utf8"), /^ {2}onedigest:secretKey:\n {4}secure: v1:/m);
        assert.strictEqual(git(dir, "status", "--porcelain"), "");
    });

    it("destroys: the container is gone and the stack holds no resources", async () => {
        ok(await deploy("destroy"), "deploy-local.sh destroy");
        assert.strictEqual(docker("ps", "-a", "--filter", `name=^${CONTAINER}`, "--format", "{{.Names}}"), "", "the app and its Prometheus");
        const env2 = { ...env, PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(dir, ".pulumi-state", "passphrase") };
        const state = JSON.parse(ok(await run("pulumi", ["stack", "export", "--stack", "local"], { cwd: dir, env: env2 }), "stack export").stdout) as { deployment: { resources?: unknown[] } };
        assert.deepStrictEqual(state.deployment.resources ?? [], []);
        assert.strictEqual(git(dir, "status", "--porcelain"), "");
    });
});
